"""PL207, mask padding: on which grid each program crops the letterbox padding off its masks.

ultralytics (`ops.process_mask(..., upsample=True)` / `process_mask_upsample`, then `scale_image`)
and YOLOv9-seg upsample the 160x160 prototype masks to the 640x640 network input first and crop the
padding there, in whole input pixels. sophon-demo's YOLOv8/v9-seg ports call a copy of
`scale_image` (`scale_mask`) on the prototype-resolution masks: the padding is then cut at 1/4
resolution and rounded to whole *prototype* rows (106.5 px -> 26.625 rows -> 27), so whenever the
padding is not a multiple of 4 px the rows kept do not correspond to the image's rows and every mask
edge moves by up to 2 px. Read structurally: a padding crop is a function that slices two axes with
computed bounds and resizes the result; it is on the prototype grid when a function building masks
from prototypes hands it its masks before resampling them.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import call_name, code, functions, last_name, walk
from portlint.findings import Fix
from portlint.rules.common import ran_functions
from portlint.rules.pl207_masks import is_resample, proto_product

_FIX = ("upsample the masks to the network input size first (cv2.resize of the prototype masks to "
        "net_w x net_h, as the original's F.interpolate does), then crop the integer padding and resize to "
        "the image; moving the crop changes the mask pipeline, so it is left to you")


def _computed_slice(el) -> bool:
    s = el.slice
    return type(s) is cst.Slice and not (isinstance(s.lower, (cst.Integer, type(None))) and
                                         isinstance(s.upper, (cst.Integer, type(None))))


def padding_crop(fn) -> Optional[cst.Subscript]:
    """The `x[top:bottom, left:right]` of a function that crops two axes with computed bounds, reads
    a `.shape` and then resizes (scale_image, scale_mask), else None."""
    crop = None
    reads_shape = False
    for n in walk(fn.body):
        if type(n) is cst.Attribute and n.attr.value == "shape":
            reads_shape = True
        elif crop is None and type(n) is cst.Subscript and len(n.slice) >= 2 and \
                sum(_computed_slice(el) for el in n.slice) >= 2:
            crop = n
        elif crop is not None and is_resample(n):
            return crop if reads_shape else None
    return None


def _crops_by_name(src) -> dict:
    return {fn.name.value: (fn, crop) for fn in functions(src) if (crop := padding_crop(fn)) is not None}


def _mask_name(call) -> Optional[str]:
    """The name of the array a call's first argument is made of: `masks`,
    `np.ascontiguousarray(masks)`, `masks[None]`, `masks.astype(np.float32)`."""
    if not call.args:
        return None
    node = call.args[0].value
    for _ in range(4):
        if type(node) is cst.Name:
            return node.value
        if type(node) is cst.Subscript:
            node = node.value
        elif type(node) is cst.Call and type(node.func) is cst.Attribute and type(node.func.value) is cst.Name \
                and node.func.value.value not in ("np", "numpy", "torch", "cv2"):
            node = node.func.value  # masks.astype(...)
        elif type(node) is cst.Call and node.args:
            node = node.args[0].value  # np.ascontiguousarray(masks)
        else:
            return None
    return None


def proto_grid_crops(src, fn, crops: dict) -> list:
    """(call, callee, crop) for each padding crop that a prototype-mask function `fn` hands masks
    it has not resampled yet."""
    out, resampled = [], set()
    for n in walk(fn.body):
        if type(n) is cst.Assign and is_resample(n.value):
            resampled.update(t.target.value for t in n.targets if type(t.target) is cst.Name)
        if type(n) is not cst.Call:
            continue
        callee = crops.get(last_name(n.func))
        name = _mask_name(n)
        if callee is not None and name is not None and "mask" in name.lower() and name not in resampled:
            out.append((n, callee[0], callee[1]))
    return out


def _original_reference(facts):
    """(file, function, resample call) where the original upsamples prototype masks before it crops anything
    (ultralytics/yolov9 `process_mask(..., upsample=True)`, `process_mask_upsample`), preferring the
    functions its programs ran; None when no prototype function of the original does (an original
    that only crops on the prototype grid is aligned with a port that does)."""
    ran = [(src, fn) for prog in facts.programs() for src, fn in ran_functions(prog)]
    every = [(src, fn) for src in facts.side.files.values() if src.module is not None and "proto" in src.text
             for fn in functions(src)]
    for src, fn in ran + every:
        if "proto" not in src.text or not proto_product(src, fn) or proto_grid_crops(src, fn, _crops_by_name(src)):
            continue
        up = next((n for n in walk(fn.body) if is_resample(n) and "mask" in code(src, n).lower()), None)
        if up is not None:
            return src, fn, up
    return None


def findings(pair, rule) -> list:
    ref = _original_reference(pair.original)
    if ref is None:
        return []
    osrc, ofn, oup = ref
    out, done = [], set()
    for prog in pair.ported.programs():
        for src, fn in ran_functions(prog):
            if "proto" not in src.text or not proto_product(src, fn):
                continue
            for call, callee, crop in proto_grid_crops(src, fn, _crops_by_name(src)):
                if id(crop) in done:
                    continue
                done.add(id(crop))
                msg = (f"ported crops the letterbox padding off the prototype-resolution masks "
                       f"({code(src, crop).strip()} in {callee.name.value}, called on the masks before any "
                       f"upsampling); the original upsamples the masks to the network input first "
                       f"({call_name(oup)} in {ofn.name.value}) and crops the padding there: when the padding "
                       "is not a multiple of the prototype stride (4 px) the rows kept are shifted by a fraction of a "
                       "prototype row and mask edges move by up to 2 px (mask IoU 0.96 against the original's chain "
                       "on a 427x640 image, 1.00 on 480x640, seeded prototypes: tests/test_mask_unpad_facts.py)")
                out.append(rule.finding(msg, Site(src, crop), Site(osrc, oup), fix=Fix("display-only", _FIX),
                                        related=[(Site(src, call), "the prototype-resolution masks are passed here")]))
    return out
