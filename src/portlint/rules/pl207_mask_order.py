"""PL207, mask geometry: whether each program crops its instance masks with the box before or after
upsampling them.

YOLACT (and YOLOv5/v8's `process_mask`) crop the low-resolution prototype masks (138x138, 160x160)
with the box scaled down to that grid, then upsample: a mask's edge along the box is the bilinear
blend of the cropped grid, and the `padding=1` of yolact's `crop` is one *prototype* pixel (about 4
image pixels at 550 -> 640x480). A port that upsamples first and crops in image pixels cuts the mask
exactly at the box, so the pixels along every box edge differ (the corpus label measured 6401 of
174138 foreground pixels on 5 boxes at 640x480). Only functions that do both in their own body are
read, and of the original only those its programs ran, compared when they agree on one order (a
program running both YOLOv5-seg helpers, `process_mask` and `process_mask_upsample`, says nothing).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import code, last_name, walk
from portlint.rules.common import ran_functions

_UPSAMPLE = ("resize", "interpolate", "upsample")


def _mask_arg(call) -> bool:
    if not call.args:
        return False
    first = call.args[0].value
    while type(first) in (cst.Subscript, cst.Attribute, cst.Call):
        if type(first) is cst.Call:
            if type(first.func) is not cst.Attribute:
                break
            first = first.func.value  # masks.unsqueeze(0) -> masks
        else:
            first = first.value
    return type(first) is cst.Name and "mask" in first.value.lower()


def order(fn) -> Optional[tuple]:
    """("crop-first" | "upsample-first", crop call, upsample call) of a function doing both."""
    crop = up = None
    for n in walk(fn.body):
        if type(n) is not cst.Call or not _mask_arg(n):
            continue
        name = last_name(n.func).lower()
        if crop is None and "crop" in name:
            crop = n
        elif up is None and name in _UPSAMPLE:
            up = n
        if crop is not None and up is not None:
            return ("crop-first" if _before(fn, crop, up) else "upsample-first"), crop, up
    return None


def _before(fn, a, b) -> bool:
    for n in walk(fn.body):
        if n is a:
            return True
        if n is b:
            return False
    return False


def _short(src, node) -> str:
    text = " ".join(code(src, node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _original_order(facts):
    """The one order of the functions the original programs ran (a training loss that upsamples
    ground-truth masks is not run by an evaluation), else None."""
    found, seen = [], set()
    for prog in facts.programs():
        for src, fn in ran_functions(prog):
            if id(fn) in seen or "crop" not in src.text:
                continue
            seen.add(id(fn))
            got = order(fn)
            if got is not None:
                found.append((src, got))
    kinds = {g[0] for _, g in found}
    return found[0] if len(kinds) == 1 else None


def findings(pair, rule) -> list:
    orig = _original_order(pair.original)
    if orig is None:
        return []
    osrc, (okind, ocrop, _oup) = orig
    out, done = [], set()
    for prog in pair.ported.programs():
        for src, fn in ran_functions(prog):
            if "crop" not in src.text:
                continue
            got = order(fn)
            if got is None or got[0] == okind or id(got[1]) in done:
                continue
            done.add(id(got[1]))
            kind, crop, up = got
            if kind == "upsample-first":
                msg = (f"ported upsamples the masks ({_short(src, up)}) and then crops them with the box "
                       f"in image pixels ({_short(src, crop)}); the original crops the prototype-resolution "
                       "masks first and upsamples the cropped masks: the pixels along every box edge differ")
            else:
                msg = (f"ported crops the prototype-resolution masks ({_short(src, crop)}) before "
                       f"upsampling them; the original upsamples first and crops in image pixels: the pixels along "
                       "every box edge differ")
            out.append(rule.finding(msg, Site(src, crop), Site(osrc, ocrop),
                                    related=[(Site(src, up), "the masks are upsampled here")]))
    return out
