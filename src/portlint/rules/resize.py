"""What PL101, PL102 and PL103 share: pairing the resize steps of two pipelines, and saying
what a resize does at a sample image size."""

from __future__ import annotations

from typing import Optional

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.analysis.ops import Resize
from portlint.rules.common import samples, eval_pair, fmt_size, ops_of

LIB_NAMES = {"pil": "PIL", "torch": "torchvision (tensor)", "cv2": "cv2.resize", "sail": "SAIL bmcv"}


def resize_pairs(o: Img, p: Img) -> list[tuple[Resize, Resize]]:
    """The n-th resize of the original with the n-th resize of the port."""
    return list(zip(ops_of(o, "resize"), ops_of(p, "resize")))


def describe(op: Resize, env) -> str:
    out = eval_pair(op.out, env)
    inp = eval_pair(op.in_, env)
    where = f"{fmt_size(inp)} -> {fmt_size(out)}" if inp and out else (f"to {fmt_size(out)}" if out else "")
    lib = LIB_NAMES.get(op.library, op.library)
    mode = " (shorter side)" if op.mode == "shorter" else ""
    return f"{lib} {where}{mode}".strip()


def downscales(op: Resize, ctx: PairContext) -> Optional[tuple]:
    """(input size, output size) at the first sample size this resize shrinks, else None."""
    for h, w in samples(ctx):
        env = ctx.env(h, w)
        out, inp = eval_pair(op.out, env), eval_pair(op.in_, env)
        if out and inp and (out[0] < inp[0] or out[1] < inp[1]):
            return inp, out
    return None
