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
from portlint.rules.assumed import at_candidate_strides, needs_stride
from portlint.rules.base import RuleMeta
from portlint.rules.fixkit import edit, import_alias
from portlint.rules.common import guarded, samples, eval_pair, evaluate, fmt_size
from portlint.rules import pl102_label_maps as label_maps
from portlint.rules.resize import resize_pairs
from portlint.analysis.apis.constants import CV2_INTERP

RULE = RuleMeta("PL102", "resize-interpolation", "error", ("safe", "unsafe", "display-only"),
                "Resize interpolation differs (including library defaults such as SAIL's NEAREST)")


@guarded
def check(pair) -> list:
    """After the pipelines: a label map of class ids resized with an interpolating filter."""
    return label_maps.findings(pair, RULE)


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    findings = []
    for ro, rp in resize_pairs(o, p):
        io, ip = ro.interp, rp.interp
        if io is None and ip and len(ro.interp_options) > 1:
            found = _by_image_size_or_stride(ro, rp, ctx) if ro.interp_code is not None else _run_time_choice(ro, rp)
            if found is not None:
                findings.append(found)
            continue
        if not (io and ip and io != ip):
            continue
        default = " (SAIL's default when no resize_alg is given)" if rp.library == "sail" and not rp.interp_given else (
            " (cv2's default)" if rp.library == "cv2" and not rp.interp_given else "")
        findings.append(RULE.finding(
            f"original resizes with {io} interpolation; ported with {ip}{default}",
            rp.site, ro.site, fix=interpolation_fix(ro, rp)))
    return findings


def _by_image_size_or_stride(ro: Resize, rp: Resize, ctx: PairContext):
    """`_by_image_size`; where the size the filter depends on is computed from the model's stride
    (unknown statically: rules/assumed.py), at the candidate strides, else as a run-time choice."""
    found = _by_image_size(ro, rp, ctx)
    values = (ro.interp_code, ro.out, ro.in_)
    if found is not None or not needs_stride(values):
        return found
    assumed = at_candidate_strides(ctx, values, lambda c: [f for f in (_by_image_size(ro, rp, c),) if f])
    return assumed[0] if assumed else _run_time_choice(ro, rp)


def _by_image_size(ro: Resize, rp: Resize, ctx: PairContext):
    """The original's filter depends on the image size (`INTER_AREA` when `r < 1`): evaluated at
    each sample size where the original resizes; the first size where it differs is reported."""
    for h, w in samples(ctx):
        env = ctx.env(h, w)
        code = evaluate(ro.interp_code, env)
        out, inp = eval_pair(ro.out, env), eval_pair(ro.in_, env)
        if not isinstance(code, int) or out is None or out == inp:
            continue
        io = CV2_INTERP.get(code & 7 if code < 8 else code)
        if io and io != rp.interp:
            return RULE.finding(
                f"for a {w}x{h} image the original resizes {fmt_size(inp)} -> {fmt_size(out)} with {io} "
                f"interpolation (its filter depends on the image size: {' or '.join(ro.interp_options)}); "
                f"ported with {rp.interp}",
                rp.site, ro.site,
                fix=Fix("display-only", f"choose the interpolation by the image size as the original does "
                        f"({' or '.join(ro.interp_options)})", []))
    return None


def _run_time_choice(ro: Resize, rp: Resize):
    """The original picks its filter at run time (yolov5's load_image: INTER_AREA when it shrinks
    without augmenting, INTER_LINEAR otherwise); the port always uses one. Which one the original
    takes for a given image is not known statically, so this is a warning with no edit."""
    options = " or ".join(ro.interp_options)
    others = [i for i in ro.interp_options if i != rp.interp]
    return RULE.finding(
        f"original resizes with {options} interpolation, picked at run time by a condition; ported "
        f"always with {rp.interp}: where the original takes {' or '.join(others)}, the resized pixels differ",
        rp.site, ro.site, severity="warning",
        fix=Fix("display-only", f"pick the interpolation as the original does ({options}, by the same condition)", []))


def interpolation_fix(ro: Resize, rp: Resize) -> Optional[Fix]:
    interp = ro.interp
    lib = rp.library
    call = rp.site.node if rp.site else None
    if type(call) is not cst.Call or lib not in ("cv2", "sail"):
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
