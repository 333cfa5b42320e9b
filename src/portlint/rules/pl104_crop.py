"""PL104 crop: a crop on one side only, or different crop boxes (compared at sample sizes)."""

from __future__ import annotations

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img, Site
from portlint.rules.base import RuleMeta
from portlint.rules.common import samples, guarded, eval_pair, evaluate, first_or_start, fmt_num, fmt_size, ops_of, site_of

RULE = RuleMeta("PL104", "crop", "error", (), "Crop present on one side only, or crop boxes differ")

_BOX = ("top", "left", "height", "width")


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    oc, pc = ops_of(o, "crop"), ops_of(p, "crop")
    findings = []
    if oc and not pc:
        op = oc[0]
        h, w = samples(ctx)[0]
        env = ctx.env(h, w)
        box = [evaluate(getattr(op, k), env) for k in _BOX]
        inp = eval_pair(op.in_, env)
        desc = (f"crops {fmt_num(box[3])}x{fmt_num(box[2])} at ({fmt_num(box[1])}, {fmt_num(box[0])}) out of {fmt_size(inp)} for a {w}x{h} image"
                if None not in box and inp else "crops the image")
        resizes = ops_of(p, "resize")
        anchor = resizes[-1].site if resizes else site_of(first_or_start(p, "decode"))
        findings.append(RULE.finding(
            f"original {op.style or ''} {desc}; the ported program has no crop, so the model sees "
            "content the original cut away, at a different scale (mean |diff| 32-50 grey levels on real photos, see PL104)",
            anchor, op.site))
    elif pc and not oc:
        op = pc[0]
        findings.append(RULE.finding("ported program crops the image; the original has no crop", op.site,
                                     site_of(first_or_start(o, "decode"))))
    elif oc and pc:
        for co, cp in zip(oc, pc):
            for h, w in samples(ctx):
                env = ctx.env(h, w)
                bo = [evaluate(getattr(co, k), env) for k in _BOX]
                bp = [evaluate(getattr(cp, k), env) for k in _BOX]
                if None in bo or None in bp:
                    continue
                if any(abs(a - b) >= 0.5 for a, b in zip(bo, bp)):
                    findings.append(RULE.finding(
                        f"for a {w}x{h} image the original crops (top {fmt_num(bo[0])}, left {fmt_num(bo[1])}, "
                        f"{fmt_num(bo[3])}x{fmt_num(bo[2])}), the ported program (top {fmt_num(bp[0])}, left {fmt_num(bp[1])}, "
                        f"{fmt_num(bp[3])}x{fmt_num(bp[2])}) (a crop shifted by even one pixel differs by up to 100-170 grey levels, see PL104)",
                        cp.site, co.site))
                    break
    return findings


@guarded
def check(pair) -> list:
    """Program check: the port crops its output symmetrically (`out[t : n - t]`) by the unrounded
    half padding its letterbox hands on, while the letterbox placed the image at the rounded (or
    truncated) padding and padded the other side by the rest: with an odd total padding the kept
    window is off by up to the upscale factor in rows or columns (sophon-demo's Real-ESRGAN)."""
    from portlint.analysis.syntax import code
    from portlint.rules import unpad

    findings, done = [], set()
    for prog in pair.ported.programs():
        handed = unpad.ported_unpads(prog, truncation=True, need_subtract=False)
        if not handed:
            continue
        u = handed[0]
        placed = " and ".join(code(u.src, u.placed[e.value.value]).strip() for e in u.tup.elements)
        names = ", ".join(e.value.value for e in u.tup.elements)
        for src, stmt, sl in unpad.symmetric_crops(prog):
            if id(stmt) in done:
                continue
            done.add(id(stmt))
            msg = (f"ported crops its output by the same amount at both ends ({code(src, sl).strip()}), from the "
                   f"unrounded half padding ({names}) its letterbox hands on; the letterbox placed the image at "
                   f"{placed} and padded the other side by the rest: with an odd total padding the two sides differ, "
                   "so the kept window is shifted: border rows or columns are kept and image ones cut")
            findings.append(RULE.finding(msg, Site(src, stmt), None, related=[(Site(u.src, u.stmt), "the unrounded padding is handed on here")]))
    return findings
