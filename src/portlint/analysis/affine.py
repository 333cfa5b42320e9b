"""The per-channel affine algebra: the one implementation the analyser and verify's replay share.

What an image holds is tracked per memory channel as value = a*raw + b, raw being the decoded
0-255 pixel of that channel's colour. A normalisation step maps value -> value*scale + offset,
scale and offset being numbers or per-memory-channel sequences; composing the maps is how a
normalisation written in any style (numpy arithmetic, torchvision Normalize, SAIL convert_to
alpha/beta, blobFromImage's mean and scalefactor) becomes comparable, and how replay knows how
to undo it. Pure Python: `portlint check` imports this module.
"""

from __future__ import annotations

import math
from typing import Optional


def identity(n: int) -> tuple:
    """The map of a freshly decoded image: value = raw on each of n channels."""
    return tuple((1.0, 0.0) for _ in range(n))


def _number(v) -> Optional[float]:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def compose(affine: Optional[tuple], scale, offset) -> Optional[tuple]:
    """The channels' maps after value -> value*scale + offset; None once anything is unknown
    (no affine, a constant that is not a number, or a sequence of another channel count)."""
    if affine is None:
        return None
    n = len(affine)

    def per(v, i):
        if isinstance(v, (list, tuple)):
            if len(v) != n:
                return None
            v = v[i]
        return _number(v)

    new = []
    for i, (a, b) in enumerate(affine):
        s, o = per(scale, i), per(offset, i)
        if s is None or o is None:
            return None
        new.append((a * s, b * s + o))
    return tuple(new)


def permute(affine: Optional[tuple], order: tuple) -> Optional[tuple]:
    """The maps of reordered memory channels (kept as they are when the counts differ)."""
    if affine and len(affine) == len(order):
        return tuple(affine[i] for i in order)
    return affine


def _each(v, fn):
    return tuple(fn(x) for x in v) if isinstance(v, tuple) else fn(v)


def of_operator(op: str, value, image_left: bool) -> Optional[tuple]:
    """(scale, offset) of `image <op> value` (or `value <op> image`), value a number or a
    per-channel tuple; None for an operator that is not an affine map of the image."""
    if op == "add":
        return 1.0, value
    if op == "sub":
        return (1.0, _each(value, lambda x: -x)) if image_left else (-1.0, value)
    if op == "mul":
        return value, 0.0
    if op == "truediv" and image_left:
        return _each(value, lambda x: 1.0 / x if x else math.inf), 0.0
    return None


def of_mean_std(mean, std, n: int) -> Optional[tuple]:
    """(scale, offset) per channel of (value - mean) / std, one-element mean/std broadcast to n
    channels as torchvision does; None unless both are n known non-zero numbers."""
    if not (isinstance(mean, (list, tuple)) and isinstance(std, (list, tuple))):
        return None
    mean = list(mean) * n if len(mean) == 1 else list(mean)
    std = list(std) * n if len(std) == 1 else list(std)
    if len(mean) != n or len(std) != n or not all(isinstance(v, (int, float)) for v in mean + std) or 0 in std:
        return None
    return tuple(1.0 / s for s in std), tuple(-m / s for m, s in zip(mean, std))


def of_alpha_beta(alpha_beta) -> Optional[tuple]:
    """(scale, offset) of SAIL convert_to's ((a0, b0), (a1, b1), (a2, b2)): out[c] = a_c*in[c] + b_c."""
    if alpha_beta is None:
        return None
    return tuple(p[0] for p in alpha_beta), tuple(p[1] for p in alpha_beta)
