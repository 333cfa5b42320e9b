"""PL105 padding: letterbox/padding value, placement (centred vs top-left) or rounding differ."""

from __future__ import annotations

from typing import Optional

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img, Site
from portlint.analysis.ops import Pad
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules.common import samples, guarded, evaluate, first_or_start, fmt_num, ops_of, site_of
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
        if not all(_pads_nothing(pad, ctx) for pad in opads):
            findings.append(RULE.finding("original pads the image (letterbox); the ported program does not",
                                         _before_model(p), opads[0].site))
        return findings
    if ppads and not opads:
        if all(_pads_nothing(pad, ctx) for pad in ppads):
            return findings  # no border at any size the user's images have (--image-size)
        findings.append(RULE.finding("ported program pads the image (letterbox); the original does not",
                                     ppads[0].site, _before_model(o)))
        return findings
    for po, pp in zip(opads, ppads):
        vo, vp = _pad_value(po.value), _pad_value(pp.value)
        if vo and vp and set(vo) != set(vp):
            where, related = _defined(ctx, pp, "value", "the padding uses the fill here")
            findings.append(RULE.finding(
                f"original pads with value {_fmt_val(vo)}, ported with {_fmt_val(vp)}: the border differs by up to "
                f"{fmt_num(max(abs(a - b) for a in vo for b in vp))} grey levels", where, po.site,
                fix=value_fix(po, pp, where), related=related))
        if _size_varies(po, ctx) and _size_static(pp, ctx):
            continue  # stride-rectangle vs fixed-size letterbox: the padded size differs (PL204), not the padding
        if _unknown_input(po, ctx) or _unknown_input(pp, ctx):
            continue  # a letterbox's amounts follow the size it pads: not known, not compared
        for h, w in samples(ctx):
            env = ctx.env(h, w)
            ao = [evaluate(getattr(po, k), env) for k in _SIDES]
            ap = [evaluate(getattr(pp, k), env) for k in _SIDES]
            if None in ao or None in ap:
                continue
            if any(abs(a - b) >= 0.5 for a, b in zip(ao, ap)):
                placement = _placement(ao, ap)
                where, related = pp.site, []
                if "placement" in placement:  # the offsets are the fix: point at where they are computed
                    side = "top" if abs(ao[0] - ap[0]) >= 0.5 else "left"
                    amount = ap[0] if side == "top" else ap[2]
                    where, related = _defined(ctx, pp, side, f"the padding's {side} offset is used here",
                                              accept=lambda found, amount=amount: _literal_is(found, amount))
                findings.append(RULE.finding(
                    f"for a {w}x{h} image the original pads top/bottom/left/right {_fmt_amounts(ao)}, the ported "
                    f"program {_fmt_amounts(ap)}{placement}", where, po.site,
                    fix=placement_fix(placement), related=related))
                break
    return findings


def _defined(ctx: PairContext, pad: Pad, key: str, use_note: str, accept=None):
    """(primary site, related) of a ported padding finding: where the program defines the amount
    or fill `key` (a literal passed down to a letterbox helper, an offset computed before the
    call, a PaddingAtrr setter), with the padding call as a related place; the padding call
    itself when the value is written there."""
    from portlint.rules.origin import defined_at

    arg = (pad.arg_sites or {}).get(key)
    found = defined_at(ctx.ported_facts, arg, accept=accept) if arg is not None else None
    if found is None:
        if arg is not None and pad.library == "sail":  # attr.set_r(114): the setter is the definition
            return arg, [(pad.site, use_note)]
        return pad.site, []
    return found.site, found.related(pad.site, use_note)


def _literal_is(found, amount) -> bool:
    """A literal definition can be the offset the rule computed (the branch that ran)."""
    from portlint.rules.origin import literal_value

    value = literal_value(found.site.node)
    return isinstance(value, (int, float)) and abs(value - amount) < 0.5


def _pads_nothing(pad: Pad, ctx: PairContext) -> bool:
    """Every side of the pad is 0 at each image size the user said their data has (--image-size):
    a letterbox of 2048x1024 frames into 1024x512. False without those sizes, or where unknown."""
    sizes = getattr(ctx, "image_sizes", None)
    if not sizes:
        return False
    for h, w in sizes:
        env = ctx.env(h, w)
        amounts = [evaluate(getattr(pad, k), env) for k in _SIDES]
        if any(a is None or abs(a) >= 0.5 for a in amounts):
            return False
    return True


def _out_sizes(pad: Pad, ctx: PairContext) -> Optional[set]:
    """The padded (h, w) at the sample image sizes, or None where it is not known."""
    if not isinstance(pad.out, tuple) or len(pad.out) != 2:
        return None
    sizes = set()
    for h, w in samples(ctx):
        v = tuple(evaluate(x, ctx.env(h, w)) for x in pad.out)
        if None in v:
            return None
        sizes.add(v)
    return sizes


def _unknown_input(pad: Pad, ctx: PairContext) -> bool:
    """The size entering the pad is recorded but cannot be evaluated (a size the analysis lost)."""
    if not isinstance(pad.in_, tuple) or len(pad.in_) != 2:
        return False
    h, w = samples(ctx)[0]
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


def _centred(a) -> bool:
    return abs(a[0] - a[1]) <= 1 and abs(a[2] - a[3]) <= 1


def _top_left(a) -> bool:
    return a[0] == 0 and a[2] == 0 and (a[1] > 1 or a[3] > 1)


def _placement(ao, ap):
    if _centred(ao) and _top_left(ap):
        return " (centred vs top-left placement)"
    if _top_left(ao) and _centred(ap):
        shift = max(ap[0], ap[2])
        return f" (top-left vs centred placement: the ported image sits {fmt_num(shift)} px further in)"
    if abs(sum(ao) - sum(ap)) < 0.5 and all(abs(a - b) <= 1 for a, b in zip(ao, ap)):
        return " (same total, rounded differently: up to 1 px shift of the whole image)"
    return ""


def placement_fix(placement: str) -> Optional[Fix]:
    """No automatic rewrite: moving the image inside the canvas also moves every box the ported
    post-processing unscales with its own offsets, so both must change together."""
    if "centred vs top-left" in placement:
        return Fix("display-only", "pad centred like the original (top = int((H - h) / 2), left = int((W - w) / 2)) "
                   "and subtract the same offsets when scaling boxes back")
    if "top-left vs centred" in placement:
        return Fix("display-only", "place the image at the top-left like the original (top = left = 0, all padding "
                   "bottom/right) and use offsets 0 when scaling boxes back")
    return None


def value_fix(po: Pad, pp: Pad, defined: Optional[Site] = None) -> Optional[Fix]:
    """The fill is rewritten where the program writes it (`color=(114, 114, 114)` passed to a
    letterbox helper), else at the cv2 call; a scalar original fill becomes a full tuple there,
    since the same scalar in another call could fill only channel 0."""
    value = po.value
    if not isinstance(value, (int, float, tuple, list)):
        return None
    node = defined.node if defined is not None and _numbers_display(defined.node) else None
    in_place = node is not None
    site = defined if in_place else pp.site
    if node is None:
        if pp.value_node is None:
            return None
        node = pp.value_node.value
    text = desc = repr(tuple(value)) if isinstance(value, (tuple, list)) else repr(value)
    if in_place:  # a display of one number per channel: keep its form and length
        n = len(node.elements)
        values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
        inner = ", ".join(fmt_num(v) for v in values) + ("," if len(values) == 1 else "")
        text = inner if getattr(node, "lpar", None) else f"({inner})"
    e = edit(site, node, text)
    return Fix("safe", f"pad with {desc} as the original", [e]) if e else None


def _numbers_display(node) -> bool:
    """A plain tuple or list of number literals (`(114, 114, 114)`): safe to rewrite in place."""
    import libcst as cst

    if type(node) in (cst.Tuple, cst.List):
        return bool(node.elements) and all(type(e.value) in (cst.Integer, cst.Float) for e in node.elements)
    return False


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
