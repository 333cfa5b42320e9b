"""Colour steps replayed: cv2.cvtColor and blobFromImage's swapRB, numpy channel reversal,
torch flip, torchvision Grayscale, SAIL convert_format (emulated)."""

from __future__ import annotations

import numpy as np

from portlint.analysis.ops import Colour
from portlint.verify import sail_emu
from portlint.verify.replay.common import as_array, as_tensor
from portlint.verify.values import V, channel_axis, identity, is_torch


def colour(r, v, op: Colour) -> V:
    if op.library == "cv2":
        return _swap_rb(r, v, op) if op.kind == "swapRB" else _cvtcolor(r, v, op)
    if op.library == "numpy":
        return _reverse_first(r, v, op) if op.kind == "reverse" else _reverse_channels(r, v, op)
    if op.library == "torch":
        return _reverse_channels(r, v, op)
    if op.library == "torchvision":
        return _grayscale(r, v, op)
    if op.library == "sail":
        return _sail_format(r, v, op)
    r.fail(op, f"no runtime equivalent for a {op.stage} step")


def _reverse_channels_of(v: V) -> tuple:
    return tuple(reversed(v.channels)) if v.channels else None


def _reverse_affine(v: V):
    return tuple(reversed(v.affine)) if v.affine else None


def _flip_axis(x, axis: int):
    if is_torch(x):
        return x.flip(axis)
    return np.flip(x, axis)


def _cvtcolor(r, v, op: Colour) -> V:
    import cv2

    code, kind = op.code, op.kind
    if not isinstance(code, int):
        r.fail(op, "the conversion code is not known statically")
    arr = as_array(v.data)
    out = cv2.cvtColor(np.ascontiguousarray(arr), code)
    ch, aff = v.channels, v.affine
    if kind == "swap3":
        ch, aff = _reverse_channels_of(v), _reverse_affine(v)
    elif kind == "drop_alpha":
        ch, aff = (ch[:3] if ch else None), (aff[:3] if aff else None)
    elif kind == "drop_alpha_swap":
        ch = tuple(reversed(ch[:3])) if ch else None
        aff = tuple(reversed(aff[:3])) if aff else None
    elif kind == "gray":
        ch, aff = ("Y",), identity(1) if v.affine and len(set(v.affine)) == 1 else None
    elif kind == "gray2bgr":
        ch, aff = ("Y", "Y", "Y"), (aff * 3 if aff and len(aff) == 1 else None)
    else:
        ch, aff = None, None
    return v.but(data=out, layout="HW" if out.ndim == 2 else "HWC", channels=ch, affine=aff)


def _reverse_channels(r, v, op: Colour) -> V:
    c = channel_axis(v.layout)
    if c is None and isinstance(op.axis, int):
        c = op.axis
    if c is None:
        r.fail(op, "the channel axis is not known")
    return v.but(data=_flip_axis(v.data, c), channels=_reverse_channels_of(v), affine=_reverse_affine(v))


def _reverse_first(r, v, op: Colour) -> V:
    x = v.data
    out = x.flip(0) if is_torch(x) else as_array(x)[::-1]
    first_is_c = v.layout is not None and v.layout.startswith("C")
    return v.but(data=out, channels=_reverse_channels_of(v) if first_is_c else None,
                 affine=_reverse_affine(v) if first_is_c else v.affine)


def _swap_rb(r, v, op: Colour) -> V:
    c = channel_axis(v.layout)
    if c is None:
        r.fail(op, "the channel axis is not known")
    return v.but(data=_flip_axis(as_array(v.data), c), channels=_reverse_channels_of(v), affine=_reverse_affine(v))


def _grayscale(r, v, op: Colour) -> V:
    from torchvision.transforms import functional as TF

    out = TF.rgb_to_grayscale(as_tensor(v.data))
    return v.but(data=out, channels=("Y",), affine=None)


def _sail_format(r, v, op: Colour) -> V:
    fmt = op.to or "FORMAT_BGR_PLANAR"
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("CHW", "HWC") else ("CHW" if arr.ndim == 3 and arr.shape[0] in (1, 3) else "HWC")
    try:
        out, new_layout, channels = sail_emu.convert_format(arr, layout, v.channels, fmt)
    except ValueError as exc:
        r.fail(op, str(exc))
    aff = v.affine
    if aff and v.channels and len(channels) == len(v.channels) and set(channels) == set(v.channels):
        aff = tuple(aff[v.channels.index(c)] for c in channels)
    elif len(channels) != len(v.channels or ()):
        aff = None
    return v.but(data=out, layout=new_layout, channels=channels, affine=aff, emulated=True)
