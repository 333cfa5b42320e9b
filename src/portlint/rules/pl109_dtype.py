"""PL109 dtype: the value type reaching the model (uint8 vs float32, float64, int8, fp16)."""

from __future__ import annotations

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.rules.base import RuleMeta
from portlint.rules.common import last_op, site_of

RULE = RuleMeta("PL109", "dtype", "error", (),
                "Value type reaching the model differs (uint8 vs float32, float64, int8 quantisation, fp16 bits)")


def _family(dt):
    if dt is None:
        return None
    return "float" if dt.startswith("float") else "int"


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    do, dp = o.state.dtype, p.state.dtype
    if _family(do) is None or _family(dp) is None or _family(do) == _family(dp):
        return []
    return [RULE.finding(f"original feeds the model {do}, ported feeds {dp}: an FP32 bmodel then gets "
                         f"{'integer' if _family(dp) == 'int' else 'floating-point'} values on a different scale or precision than it was traced with",
                         site_of(last_op(p, "dtype", "normalize"), p.state.ops[-1].site if p.state.ops else None),
                         site_of(last_op(o, "dtype", "normalize", "layout")))]
