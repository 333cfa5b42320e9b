"""What the replay steps share: the errors, and moving an image between the libraries' types."""

from __future__ import annotations

from typing import Optional

import numpy as np

from portlint.errors import PortlintError
from portlint.verify.values import V, identity, is_pil, is_torch, to_numpy


class ReplayError(PortlintError):
    """An op the replay cannot execute: one line naming it and where it is."""


class Fallback(Exception):
    """A normalisation op whose constants the analyser did not know: use the final affine."""


def where(op) -> Optional[str]:
    if op is None or op.site is None:
        return None
    from portlint.analysis.locate import locate

    loc = locate(op.site)
    return f"{loc.path}:{loc.line}" if loc else None


def torch_module():
    import torch

    return torch


def as_tensor(x):
    """torch tensor of an ndarray (PIL images stay PIL: torchvision takes both)."""
    if is_torch(x) or is_pil(x):
        return x
    return torch_module().from_numpy(np.ascontiguousarray(x))


def as_array(x) -> np.ndarray:
    return to_numpy(x)


def fresh(data, layout, channels, emulated=False) -> V:
    """A newly decoded value: every channel holds its raw pixel."""
    n = len(channels) if channels else 3
    return V(data, layout, channels, identity(n), emulated)
