"""PL108 layout: HWC vs CHW (vs NCHW, NHWC) reaching the model."""

from __future__ import annotations

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.rules.base import RuleMeta
from portlint.rules.common import last_op, site_of

RULE = RuleMeta("PL108", "layout", "error", (),
                "Tensor layout (HWC/CHW/NCHW, batch dimension) reaching the model differs")


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    lo, lp = o.state.layout, p.state.layout
    if not lo or not lp:
        return []
    so, sp = lo.replace("N", ""), lp.replace("N", "")
    if so == sp or len(so) != len(sp):
        return []
    return [RULE.finding(f"original feeds the model {lo}, ported feeds {lp}: reshaped to the bmodel's input, "
                         "pixels land in the wrong channels and positions (the input is scrambled, not slightly off)",
                         site_of(last_op(p, "layout", "batch"), p.state.ops[-1].site if p.state.ops else None),
                         site_of(last_op(o, "layout", "batch")))]
