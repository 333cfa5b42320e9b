"""Layout (HWC/CHW) and dtype of the tensor handed to the model."""

from __future__ import annotations

from portlint.engine.compare.base import PairContext, last_op, make_finding, site_of
from portlint.analysis.image import Img


def compare_layout(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    lo, lp = o.state.layout, p.state.layout
    if not lo or not lp:
        return []
    so, sp = lo.replace("N", ""), lp.replace("N", "")
    if so == sp or len(so) != len(sp):
        return []
    return [make_finding("layout", f"original feeds the model {lo}, ported feeds {lp}: reshaped to the bmodel's input, "
                         "pixels land in the wrong channels and positions (the input is scrambled, not slightly off)",
                         site_of(last_op(p, "layout", "batch"), p.state.ops[-1].site if p.state.ops else None),
                         site_of(last_op(o, "layout", "batch")))]


def _family(dt):
    if dt is None:
        return None
    return "float" if dt.startswith("float") else "int"


def compare_dtype(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    do, dp = o.state.dtype, p.state.dtype
    if _family(do) is None or _family(dp) is None or _family(do) == _family(dp):
        return []
    return [make_finding("dtype", f"original feeds the model {do}, ported feeds {dp}: an FP32 bmodel then gets "
                         f"{'integer' if _family(dp) == 'int' else 'floating-point'} values on a different scale or precision than it was traced with",
                         site_of(last_op(p, "dtype", "normalize"), p.state.ops[-1].site if p.state.ops else None),
                         site_of(last_op(o, "dtype", "normalize", "layout")))]
