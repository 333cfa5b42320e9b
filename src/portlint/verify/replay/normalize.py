"""Normalisation steps replayed from the constants the analyser recorded on each op: numpy or
torch arithmetic as written, torchvision normalize, SAIL convert_to (emulated), blobFromImage's
mean and scalefactor. The replayed value's per-channel affine follows analysis/affine.py, the
analyser's own algebra; a step whose constants were not known raises Fallback."""

from __future__ import annotations

import operator

import numpy as np

from portlint.analysis import affine
from portlint.analysis.ops import Dtype, Normalize
from portlint.analysis.values import UNKNOWN
from portlint.verify import sail_emu
from portlint.verify.replay.common import Fallback, as_array, as_tensor, torch_module
from portlint.verify.values import V, channel_axis, is_pil, is_torch

_OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}


def normalize(r, v, op: Normalize) -> V:
    if op.by_conversion:  # the /255 of ToTensor, ConvertImageDtype, ToPILImage: done with the real call
        return v
    if op.library == "numpy":
        return _arith(r, v, op)
    if op.library == "torchvision":
        return _tv_normalize(r, v, op)
    if op.library == "sail":
        return _convert_to(r, v, op)
    if op.library == "cv2":
        return _blob_normalize(r, v, op)
    raise Fallback(f"{op.api}'s constants are not kept per op")


def _broadcast(v: V, x, vec):
    """A per-channel constant shaped to broadcast along the value's channel axis."""
    vec = np.asarray(vec, dtype=np.float64)
    ndim = len(x.shape)
    c = channel_axis(v.layout) if v.layout and len(v.layout) == ndim else None
    if c is None:
        c = ndim - 1 if x.shape[-1] == vec.size else None
    if c is None:
        raise Fallback("the channel axis of a per-channel constant is not known")
    shape = [1] * ndim
    shape[c] = vec.size
    const = vec.reshape(shape)
    if is_torch(x):
        torch = torch_module()
        dt = x.dtype if x.is_floating_point() else torch.float32
        return torch.tensor(const, dtype=dt)
    return const


def _arith(r, v, op: Normalize) -> V:
    """`image <op> constant` (or `constant <op> image`) computed by the array's own library."""
    kind, value, left = op.arith, op.operand, op.image_left
    if value is UNKNOWN or value is None:
        raise Fallback(f"the constant of {op.api} was not kept by the analyser")
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    n = len(v.affine) if v.affine else None
    if isinstance(value, (list, tuple)):
        if n is not None and len(value) != n:
            raise Fallback("a constant that does not broadcast per channel")
        const = _broadcast(v, x, value)
        per = tuple(float(c) for c in value)
    else:
        const = value
        per = float(value)
    fn = _OPERATORS.get(kind)
    if fn is None:
        raise Fallback(f"numpy {kind} is not replayed")
    out = fn(x, const) if left else fn(const, x)
    step = affine.of_operator(kind, per, left)
    return v.but(data=out, affine=affine.compose(v.affine, *step) if step else None)


def _tv_normalize(r, v, op: Normalize) -> V:
    from torchvision.transforms import functional as TF

    mean, std = op.mean, op.std
    if not isinstance(mean, (list, tuple)) or not isinstance(std, (list, tuple)):
        raise Fallback("mean/std not known statically")
    mean = [float(r.ev(op, m, "the mean")) for m in mean]
    std = [float(r.ev(op, s, "the std")) for s in std]
    out = TF.normalize(as_tensor(v.data), mean, std)
    step = affine.of_mean_std(mean, std, len(v.affine)) if v.affine is not None else None
    return v.but(data=out, affine=affine.compose(v.affine, *step) if step else None)


def _convert_to(r, v, op: Normalize) -> V:
    if not op.alpha_beta:
        raise Fallback("convert_to's alpha/beta not known statically")
    ab = tuple((float(r.ev(op, a, "alpha")), float(r.ev(op, b, "beta"))) for a, b in op.alpha_beta)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("CHW", "HWC") else "CHW"
    # output dtype: the 3-arg form's preallocated image; the 2-arg form keeps the input's
    later_dtype = any(isinstance(o, Dtype) for o in r.ops[r.i + 1:])
    out_dtype = str(arr.dtype)
    if not later_dtype and r.final is not None and r.final.dtype:
        out_dtype = r.final.dtype
    out = sail_emu.convert_to(arr, layout, ab, out_dtype)
    aff = v.affine
    if aff is not None and len(aff) <= len(ab):  # per plane in memory order: planes beyond the image's are unused
        aff = affine.compose(aff, *affine.of_alpha_beta(ab[:len(aff)]))
    v2 = v.but(data=out, layout=layout, affine=aff, emulated=True)
    if out_dtype in ("uint8", "int8"):
        v2 = v2.note(f"convert_to with a {out_dtype} output saturates and rounds")
    return v2


def _blob_normalize(r, v, op: Normalize) -> V:
    """cv2.dnn.blobFromImage's mean subtraction and scalefactor: the call's steps composed into
    one map, applied at once in float64, then float32 as blobFromImage returns."""
    steps = r.same_call(op)
    x = as_array(v.data)
    c = channel_axis(v.layout)
    if c is None or c >= x.ndim:
        raise Fallback("the channel axis of cv2.dnn.blobFromImage's input is not known")
    total = affine.identity(x.shape[c])
    for s in steps:
        total = affine.compose(total, s.scale, s.offset)
    if total is None:
        raise Fallback("the mean or scalefactor of cv2.dnn.blobFromImage is not known statically")
    scale = _broadcast(v, x, [a for a, _ in total])
    offset = _broadcast(v, x, [b for _, b in total])
    out = (x.astype(np.float64) * scale + offset).astype(np.float32)
    aff = v.affine
    for s in steps:
        aff = affine.compose(aff, s.scale, s.offset)
    r.applied_through = r.i + len(steps) - 1
    return v.but(data=out, affine=aff)
