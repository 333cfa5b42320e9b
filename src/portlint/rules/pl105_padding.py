"""PL105 padding: letterbox/padding value, placement (centred vs top-left) or rounding differ."""

from __future__ import annotations

from typing import Optional

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img, Site
from portlint.analysis.ops import Pad
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules.common import SAMPLES, guarded, evaluate, first_or_start, fmt_num, ops_of, site_of
from portlint.rules.fixkit import edit

RULE = RuleMeta("PL105", "padding", "warning", ("safe", "display-only"),
                "Letterbox padding value, placement or rounding differs")


_SIDES = ("top", "bottom", "left", "right")


def _pad_value(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (float(v),)
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) for x in v):
        return tuple(float(x) for x in v)
    return None


def _before_model(img: Img):
    """Where a missing letterbox would go: after the last resize, else at the decode."""
    resizes = ops_of(img, "resize")
    return site_of(resizes[-1] if resizes else first_or_start(img, "decode"))


def _warps(img: Img) -> bool:
    """An affine/perspective warp to a fixed size fills what the image does not cover with its
    border (BORDER_CONSTANT, 0 by default): a warp that keeps the aspect ratio letterboxes."""
    return any(getattr(op, "function", None) in ("warpAffine", "warpPerspective") for op in ops_of(img, "other"))


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    opads, ppads = ops_of(o, "pad"), ops_of(p, "pad")
    findings = []
    if (opads and not ppads and _warps(p)) or (ppads and not opads and _warps(o)):
        return findings  # the warp's border is the other side's letterbox; not compared here
    if opads and not ppads:
        findings.append(RULE.finding("original pads the image (letterbox); the ported program does not",
                                     _before_model(p), opads[0].site))
        return findings
    if ppads and not opads:
        findings.append(RULE.finding("ported program pads the image (letterbox); the original does not",
                                     ppads[0].site, _before_model(o)))
        return findings
    for po, pp in zip(opads, ppads):
        vo, vp = _pad_value(po.value), _pad_value(pp.value)
        if vo and vp and set(vo) != set(vp):
            findings.append(RULE.finding(
                f"original pads with value {_fmt_val(vo)}, ported with {_fmt_val(vp)}: the border differs by up to "
                f"{fmt_num(max(abs(a - b) for a in vo for b in vp))} grey levels", pp.site, po.site,
                fix=value_fix(po, pp)))
        if _size_varies(po, ctx) and _size_static(pp, ctx):
            continue  # stride-rectangle vs fixed-size letterbox: the padded size differs (PL204), not the padding
        if _unknown_input(po, ctx) or _unknown_input(pp, ctx):
            continue  # a letterbox's amounts follow the size it pads: not known, not compared
        for h, w in SAMPLES:
            env = ctx.env(h, w)
            ao = [evaluate(getattr(po, k), env) for k in _SIDES]
            ap = [evaluate(getattr(pp, k), env) for k in _SIDES]
            if None in ao or None in ap:
                continue
            if any(abs(a - b) >= 0.5 for a, b in zip(ao, ap)):
                placement = _placement(ao, ap)
                findings.append(RULE.finding(
                    f"for a {w}x{h} image the original pads top/bottom/left/right {_fmt_amounts(ao)}, the ported "
                    f"program {_fmt_amounts(ap)}{placement}", pp.site, po.site,
                    fix=placement_fix() if "top-left" in placement else None))
                break
    return findings


def _out_sizes(pad: Pad, ctx: PairContext) -> Optional[set]:
    """The padded (h, w) at the sample image sizes, or None where it is not known."""
    if not isinstance(pad.out, tuple) or len(pad.out) != 2:
        return None
    sizes = set()
    for h, w in SAMPLES:
        v = tuple(evaluate(x, ctx.env(h, w)) for x in pad.out)
        if None in v:
            return None
        sizes.add(v)
    return sizes


def _unknown_input(pad: Pad, ctx: PairContext) -> bool:
    """The size entering the pad is recorded but cannot be evaluated (a size the analysis lost)."""
    if not isinstance(pad.in_, tuple) or len(pad.in_) != 2:
        return False
    h, w = SAMPLES[0]
    return any(evaluate(x, ctx.env(h, w)) is None for x in pad.in_)


def _size_varies(pad: Pad, ctx: PairContext) -> bool:
    """ultralytics/yolov5 `LetterBox(auto=True)`: the canvas is the minimum stride rectangle, so
    its size follows the image (640x480 -> 640x480, 451x300 -> 640x448)."""
    sizes = _out_sizes(pad, ctx)
    return sizes is not None and len(sizes) > 1


def _size_static(pad: Pad, ctx: PairContext) -> bool:
    sizes = _out_sizes(pad, ctx)
    return sizes is not None and len(sizes) == 1


def _fmt_val(v):
    return fmt_num(v[0]) if len(set(v)) == 1 else "(" + ", ".join(fmt_num(x) for x in v) + ")"


def _fmt_amounts(a):
    return "/".join(fmt_num(x) for x in a)


def _placement(ao, ap):
    o_centred = abs(ao[0] - ao[1]) <= 1 and abs(ao[2] - ao[3]) <= 1
    p_topleft = ap[0] == 0 and ap[2] == 0 and (ap[1] > 1 or ap[3] > 1)
    if o_centred and p_topleft:
        return " (centred vs top-left placement)"
    if abs(sum(ao) - sum(ap)) < 0.5:
        return " (same total, rounded differently: up to 1 px shift of the whole image)"
    return ""


def placement_fix() -> Fix:
    """No automatic rewrite: moving the image inside the canvas also moves every box the ported
    post-processing unscales with its own offsets, so both must change together."""
    return Fix("display-only", "pad centred like the original (top = int((H - h) / 2), left = int((W - w) / 2)) and "
               "subtract the same offsets when scaling boxes back")


def value_fix(po: Pad, pp: Pad) -> Optional[Fix]:
    node = pp.value_node
    value = po.value
    if node is None or not isinstance(value, (int, float, tuple, list)):
        return None
    text = repr(tuple(value)) if isinstance(value, (tuple, list)) else repr(value)
    e = edit(pp.site, node.value, text)
    return Fix("safe", f"pad with {text} as the original", [e]) if e else None


@guarded
def check(pair) -> list:
    """Program check: the padding handed to the post-processing is the unrounded one where the
    original subtracts the integer padding (rules/unpad.py)."""
    from portlint.rules import unpad

    osite = unpad.original_integer_unpad(pair.original)
    if osite is None:
        return []
    findings, done = [], set()
    for prog in pair.ported.programs():
        for u in unpad.ported_unpads(prog):
            if id(u.tup) in done:
                continue
            done.add(id(u.tup))
            findings.append(RULE.finding(unpad.message(u), Site(u.src, u.stmt), osite, fix=unpad.unpad_fix(u)))
    return findings
