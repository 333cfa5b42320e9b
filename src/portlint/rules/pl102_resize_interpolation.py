"""PL102 resize-interpolation: the two programs resize with different filters, including library
defaults (SAIL's resize is NEAREST when no resize_alg is given). Facts: rules/PL102.md."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img, Site
from portlint.analysis.ops import Resize
from portlint.analysis.locate import span
from portlint.findings import Fix, TextEdit
from portlint.rules.base import RuleMeta
from portlint.rules.fixkit import edit, import_alias
from portlint.rules.resize import resize_pairs

RULE = RuleMeta("PL102", "resize-interpolation", "error", ("safe",),
                "Resize interpolation differs (including library defaults such as SAIL's NEAREST)")


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    findings = []
    for ro, rp in resize_pairs(o, p):
        io, ip = ro.interp, rp.interp
        if not (io and ip and io != ip):
            continue
        default = " (SAIL's default when no resize_alg is given)" if rp.library == "sail" and not rp.interp_given else (
            " (cv2's default)" if rp.library == "cv2" and not rp.interp_given else "")
        findings.append(RULE.finding(
            f"original resizes with {io} interpolation; ported with {ip}{default}",
            rp.site, ro.site, fix=interpolation_fix(ro, rp)))
    return findings


def interpolation_fix(ro: Resize, rp: Resize) -> Optional[Fix]:
    interp = ro.interp
    lib = rp.library
    call = rp.site.node if rp.site else None
    if not isinstance(call, cst.Call) or lib not in ("cv2", "sail"):
        return None
    if lib == "cv2":
        name = {"nearest": "INTER_NEAREST", "bilinear": "INTER_LINEAR", "bicubic": "INTER_CUBIC", "area": "INTER_AREA",
                "lanczos": "INTER_LANCZOS4"}.get(interp)
        if name is None or ro.antialias:
            return None  # the antialias fix replaces the call instead
        cv2 = import_alias(rp.site.file, "cv2") or "cv2"
        value = f"{cv2}.{name}"
        keyword = "interpolation"
    else:
        name = {"nearest": "BMCV_INTER_NEAREST", "bilinear": "BMCV_INTER_LINEAR", "bicubic": "BMCV_INTER_BICUBIC"}.get(interp)
        if name is None:
            return None
        sail = import_alias(rp.site.file, "sophon.sail") or "sail"
        value = f"{sail}.bmcv_resize_algorithm.{name}"
        keyword = None
    interp_node = rp.interp_node
    if interp_node is not None:
        e = edit(rp.site, interp_node.value, value)
    else:
        last = call.args[-1]
        sp = span(Site(rp.site.file, last))
        if sp is None:
            return None
        text = f", {keyword}={value}" if keyword else f", {value}"
        e = TextEdit(rp.site.file.display, sp[1], sp[1], text)
    if e is None:
        return None
    return Fix("safe", f"pass {value} as the original's {interp} interpolation", [e])
