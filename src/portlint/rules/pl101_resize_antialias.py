"""PL101 resize-antialias: the original antialiases when it downscales (torchvision Resize on a
PIL image, PIL resize), the port does not (cv2.resize, SAIL bmcv). Facts: rules/PL101.md."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.analysis.ops import Resize
from portlint.findings import Fix
from portlint.rules import pl103_resize_size
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt_num
from portlint.rules.fixkit import edit, from_import, import_alias, node_code
from portlint.rules.resize import LIB_NAMES, downscales, resize_pairs

RULE = RuleMeta("PL101", "resize-antialias", "error", ("safe",),
                "Ported resize does not antialias where the original does")


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    findings = []
    for ro, rp in resize_pairs(o, p):
        if not (ro.antialias and rp.antialias is False):
            continue
        down = downscales(ro, ctx)
        if down:
            (ih, iw), (oh, ow) = down
            factor = max(ih / oh, iw / ow)
            # a sample size (rules/common.py SAMPLES), not the user's image: the analyser has none
            detail = (f"downscaling a {fmt_num(iw)}x{fmt_num(ih)} sample image -> {fmt_num(ow)}x{fmt_num(oh)} ({factor:.1f}x), the original "
                      f"averages every source pixel, the ported one samples {'1' if rp.interp == 'nearest' else '2x2'} per output pixel and aliases")
        else:
            detail = "when downscaling the original averages every source pixel; the ported one samples a few and aliases"
        # the size fix (shorter side + crop, PIL bilinear) also fixes antialiasing: let it win
        size_fixed = pl103_resize_size.fixes_call(ro, rp, ctx)
        findings.append(RULE.finding(
            f"{LIB_NAMES.get(rp.library)} does not antialias, {LIB_NAMES.get(ro.library)} {ro.interp} does: "
            f"{detail} (max |diff| 27-93 grey levels measured on real photos, see PL101)",
            rp.site, ro.site, fix=None if size_fixed else antialias_fix(ro, rp)))
    return findings


def antialias_fix(ro: Resize, rp: Resize) -> Optional[Fix]:
    """cv2.resize(img, (w, h)) -> np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR)):
    PIL bilinear equals torchvision Resize on PIL exactly (max |diff| 0, tests/test_fix_numeric.py)."""
    if not (rp.library == "cv2" and rp.through is None) or ro.library != "pil" or rp.site is None:
        return None
    call = rp.site.node
    if type(call) is not cst.Call or not call.args:
        return None
    src = rp.site.file
    img_code = node_code(rp.site, call.args[0].value)
    size_arg = next((a for a in call.args[1:] if a.keyword is None or a.keyword.value == "dsize"), None)
    if size_arg is None:
        return None
    size_code = node_code(rp.site, size_arg.value)
    filt = {"bilinear": "BILINEAR", "bicubic": "BICUBIC", "nearest": "NEAREST", "lanczos": "LANCZOS"}.get(ro.interp or "bilinear")
    np_name = import_alias(src, "numpy") or "np"
    image_name = from_import(src, "PIL", "Image") or "Image"
    imports = []
    if import_alias(src, "numpy") is None:
        imports.append("import numpy as np")
    if from_import(src, "PIL", "Image") is None:
        imports.append("from PIL import Image")
    new = f"{np_name}.asarray({image_name}.fromarray({img_code}).resize({size_code}, {image_name}.{filt}))"
    e = edit(rp.site, call, new)
    if e is None:
        return None
    return Fix("safe", f"resize with PIL {filt.lower()} (antialiased), as torchvision does on PIL images", [e], imports)
