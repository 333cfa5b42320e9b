"""What the PL207 mask checks recognise in a function body: masks made from prototypes, and a
resampling call (shared by the threshold and the padding checks)."""

from __future__ import annotations

import libcst as cst

from portlint.analysis.syntax import call_name, code, walk

RESAMPLERS = ("interpolate", "upsample", "resize", "warpaffine", "imresize")


def is_resample(node) -> bool:
    """A call that resizes or interpolates (F.interpolate, cv2.resize, cv2.warpAffine)."""
    return type(node) is cst.Call and call_name(node).rsplit(".", 1)[-1].lower() in RESAMPLERS


def resample_in(src, fn) -> bool:
    """The function resizes or interpolates: a sigmoid and a resize do not commute, so a threshold
    moved to logit space is then no longer exact."""
    return any(is_resample(n) for n in walk(fn.body))


def proto_product(src, fn) -> bool:
    """The function makes masks as coefficients @ prototypes (`@`, np.matmul, torch.mm/matmul, np.dot)."""
    for n in walk(fn.body):
        if type(n) is cst.BinaryOperation and type(n.operator) is cst.MatrixMultiply and "proto" in code(src, n).lower():
            return True
        if type(n) is cst.Call and call_name(n).rsplit(".", 1)[-1] in ("matmul", "mm", "dot", "einsum") and "proto" in code(src, n).lower():
            return True
    return False
