"""A replayed value and the conversions that bring two sides to a comparable form.

`V` is what one side holds after an op: the library object the real call returned (PIL image,
numpy array, torch tensor), plus what replay knows about it: the layout of its axes, the colour
of each memory channel, and the per-memory-channel affine map `a*raw + b` from the decoded
0-255 pixel (the same convention as the analyser's `ImageState.affine`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

import numpy as np

from portlint.analysis.affine import identity  # noqa: F401  (the analyser's own, re-exported)

RGB = ("R", "G", "B")


@dataclass(frozen=True)
class V:
    data: Any
    layout: Optional[str]  # PIL HWC CHW NCHW NHWC HW NHW, None when unknown
    channels: Optional[tuple]  # colour of each memory channel, e.g. ("B", "G", "R")
    affine: Optional[tuple]  # per memory channel (a, b): value = a*raw + b
    emulated: bool = False
    notes: tuple = ()

    def but(self, **changes) -> "V":
        return replace(self, **changes)

    def note(self, text: str) -> "V":
        return self if text in self.notes else replace(self, notes=self.notes + (text,))


def is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def is_pil(x) -> bool:
    return type(x).__module__.startswith("PIL")


def to_numpy(x) -> np.ndarray:
    """The array behind a PIL image, torch tensor or numpy array (no copy where possible)."""
    if isinstance(x, np.ndarray):
        return x
    if is_pil(x):
        return np.asarray(x)
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def dtype_name(x) -> str:
    if is_pil(x):
        return "uint8" if x.mode in ("RGB", "L", "RGBA", "P", "CMYK", "YCbCr", "LA", "BGR;24") else x.mode
    if is_torch(x):
        return str(x.dtype).replace("torch.", "")
    return str(np.asarray(x).dtype)


def shape_of(x) -> list:
    if is_pil(x):
        return list(np.asarray(x).shape)
    return [int(d) for d in x.shape]


def guess_layout(arr: np.ndarray) -> Optional[str]:
    if arr.ndim == 2:
        return "HW"
    if arr.ndim == 3:
        if arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
            return "CHW"
        return "HWC"
    if arr.ndim == 4:
        return "NCHW" if arr.shape[1] in (1, 3, 4) and arr.shape[3] not in (1, 3, 4) else "NHWC"
    return None


def channel_axis(layout: Optional[str]) -> Optional[int]:
    if not layout or layout == "PIL" or "C" not in layout:
        return None
    return layout.index("C")


def to_hwc(v: V) -> np.ndarray:
    """(H, W, C) numpy array of the value (batch element 0), whatever its layout."""
    arr = to_numpy(v.data)
    layout = v.layout if v.layout != "PIL" else ("HWC" if arr.ndim == 3 else "HW")
    if layout is None or len(layout) != arr.ndim:
        layout = guess_layout(arr)
    if layout is None:
        raise ValueError(f"cannot tell the axes of a {arr.ndim}-d array of shape {arr.shape}")
    if layout.startswith("N"):
        arr, layout = arr[0], layout[1:]
    if layout == "HW":
        return arr[:, :, None]
    if layout == "CHW":
        return np.transpose(arr, (1, 2, 0))
    if layout == "HWC":
        return arr
    raise ValueError(f"unsupported layout {layout}")


def drop_batch(v: V) -> np.ndarray:
    """The array without a leading batch axis of size 1 (the layout row compares this)."""
    arr = to_numpy(v.data)
    if v.layout and v.layout.startswith("N") and arr.ndim == len(v.layout) and arr.shape[0] == 1:
        return arr[0]
    if v.layout is None and arr.ndim == 4 and arr.shape[0] == 1:
        return arr[0]
    return arr


def own_layout(v: V) -> str:
    """The layout name of drop_batch(v), for reports."""
    layout = v.layout if v.layout != "PIL" else "HWC"
    if layout and layout.startswith("N"):
        return layout[1:]
    return layout or "?"


def canonical(v: V, *, rgb: bool, raw: bool) -> tuple[np.ndarray, str]:
    """float64 HWC array for comparison, and a description of the form.

    rgb: reorder channels to R, G, B by their labels (decode stage; later stages compare memory
    order, so a channel swap shows up). raw: undo the affine, back to 0-255 pixel levels.
    """
    arr = to_hwc(v).astype(np.float64)
    form = ["HWC"]
    ch = v.channels
    if raw and v.affine is not None and len(v.affine) == arr.shape[2]:
        a = np.array([p[0] for p in v.affine])
        b = np.array([p[1] for p in v.affine])
        if not np.all(np.isclose(a, 1.0)) or not np.all(b == 0):
            with np.errstate(divide="ignore", invalid="ignore"):
                arr = (arr - b) / np.where(a == 0, np.nan, a)
        form.append("0-255 pixel levels")
    elif raw:
        form.append("values as held (scale unknown)")
    else:
        form.append("values as fed")
    if rgb and ch and len(ch) == arr.shape[2] and set(RGB) <= set(ch):
        order = [ch.index(c) for c in RGB]
        if order != [0, 1, 2] or len(ch) != 3:
            arr = arr[:, :, order]
        form.insert(1, "RGB")
    elif ch:
        form.insert(1, "".join(c for c in ch) + " (memory order)")
    return arr, ", ".join(form)


def affine_scale(affine: Optional[tuple]) -> float:
    """How many units of this domain one grey level is (max |a|), 1 when unknown."""
    if not affine:
        return 1.0
    return max(abs(p[0]) for p in affine) or 1.0


def is_raw(affine: Optional[tuple]) -> bool:
    return affine is not None and all(abs(a - 1.0) < 1e-12 and b == 0 for a, b in affine)


@dataclass
class Snapshot:
    """The value after one op, with the op that produced it."""

    index: int
    stage: str
    api: str
    where: Optional[str]  # path:line
    value: V
    notes: list = field(default_factory=list)


def finite_json(value: Any) -> Any:
    """`value` (a report's JSON form) with every NaN or infinite number as None: JSON has no
    such numbers (a broken model output holds them), and a null reads as "not comparable"."""
    if isinstance(value, float) or isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    return value
