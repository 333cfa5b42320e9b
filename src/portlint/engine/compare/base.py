"""Shared pieces of the comparison: the pair context, sample image sizes and finding builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from portlint.analysis.image import Img, Op, Site
from portlint.analysis.locate import locate
from portlint.analysis.values import UNKNOWN, Sym, sym_eval, sym_vars
from portlint.findings import Finding, Fix
from portlint.rulebook import all_rules

# Image sizes (h, w) at which symbolic geometry is evaluated: landscape and portrait photos,
# a Full-HD frame and skimage's chelsea (300x451), the photo the numeric tests use.
SAMPLES = ((480, 640), (640, 480), (1080, 1920), (300, 451))

KIND_CODES = {
    "decode": "PL100", "resize-antialias": "PL101", "resize-interpolation": "PL102", "resize-size": "PL103",
    "crop": "PL104", "padding": "PL105", "channel-order": "PL106", "normalize": "PL107", "layout": "PL108",
    "dtype": "PL109", "output-order": "PL201", "nms": "PL202", "coco-rounding": "PL203",
    "dynamic-shape": "PL204", "trace": "PL205",
}


@dataclass
class PairContext:
    """What both sides share: known model input shape and options."""

    input_shape: Optional[tuple] = None  # (n, c, h, w) from --input-shape or --bmodel
    bmodel: Any = None
    options: dict = field(default_factory=dict)

    def env(self, h: int, w: int) -> dict:
        env = {"H": h, "W": w}
        if self.input_shape:
            for i, d in enumerate(self.input_shape):
                env[f"bmodel.input.d{i}"] = d
        return env


def evaluate(value, env):
    if value is UNKNOWN:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, Sym):
        return sym_eval(value, env)
    return None


def depends_on_bmodel(value) -> bool:
    return any(v.startswith("bmodel.") for v in sym_vars(value))


def fmt_num(v) -> str:
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def fmt_size(hw) -> str:
    h, w = hw
    return f"{fmt_num(w)}x{fmt_num(h)}"


def make_finding(kind: str, message: str, ported_site: Optional[Site], original_site: Optional[Site],
                 severity: Optional[str] = None, fix: Optional[Fix] = None) -> Finding:
    code = KIND_CODES[kind]
    rule = all_rules().get(code)
    return Finding(
        code=code, kind=kind, severity=severity or (rule.severity if rule else "error"), message=message,
        ported=locate(ported_site), original=locate(original_site), fix=fix,
    )


def last_op(img: Img, *stages: str) -> Optional[Op]:
    for op in reversed(img.state.ops):
        if op.stage in stages:
            return op
    return None


def first_op(img: Img, *stages: str) -> Optional[Op]:
    for op in img.state.ops:
        if op.stage in stages:
            return op
    return None


def site_of(op: Optional[Op], fallback: Optional[Site] = None) -> Optional[Site]:
    return op.site if op is not None and op.site is not None else fallback
