"""Resize, crop and pad steps replayed with the library that ran them: cv2 and PIL called
directly, torchvision's own size computation and resize, blobFromImage's resize (and crop), and
SAIL's Bmcv emulated in numpy."""

from __future__ import annotations

import numpy as np

from portlint.analysis.ops import Crop, Pad, Resize
from portlint.verify import sail_emu
from portlint.verify.replay.common import as_array, as_tensor
from portlint.verify.values import V, guess_layout, is_pil

_CV2_INTERP = {"nearest": 0, "bilinear": 1, "bicubic": 2, "area": 3, "lanczos": 4}
_PIL_INTERP = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


# =========================================================================== resize
def resize(r, v, op: Resize) -> V:
    if op.through == "blobFromImage":
        return _blob_resize(r, v, op)
    if op.through == "torchvision":
        return _tv_resize(r, v, op)
    if op.library == "cv2":
        return _cv2_resize(r, v, op)
    if op.library == "pil":
        return _pil_resize(r, v, op)
    if op.library == "sail":
        return _sail_resize(r, v, op)
    r.fail(op, f"resize by library {op.library!r} is not replayed")


def _interp_name(r, op: Resize) -> str:
    if op.interp is None:
        r.fail(op, "the interpolation is not known statically")
    return op.interp


def _out_size(r, op: Resize) -> tuple[int, int]:
    out = op.out
    if not isinstance(out, tuple) or len(out) != 2:
        r.fail(op, "the output size is not known")
    h, w = r.ev(op, out[0], "the output height"), r.ev(op, out[1], "the output width")
    return int(h), int(w)


def _cv2_resize(r, v, op: Resize) -> V:
    import cv2

    h, w = _out_size(r, op)
    code = _CV2_INTERP.get(_interp_name(r, op))
    if code is None:
        r.fail(op, f"OpenCV has no {op.interp} interpolation")
    arr = as_array(v.data)
    out = cv2.resize(np.ascontiguousarray(arr), (w, h), interpolation=code)
    return v.but(data=out, layout="HW" if out.ndim == 2 else "HWC")


def _blob_resize(r, v, op: Resize) -> V:
    """cv2.dnn.blobFromImage's resize: INTER_LINEAR to size, or with crop=True scale by
    max(w/W, h/H) then centre-crop at floor((resized - size) / 2) (docs/facts.md g)."""
    import cv2

    h, w = _out_size(r, op)
    arr = as_array(v.data)
    if op.mode == "cover-crop":
        s = max(w / arr.shape[1], h / arr.shape[0])
        big = cv2.resize(arr, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
        out = big[y0:y0 + h, x0:x0 + w]
    else:
        out = cv2.resize(arr, (w, h), interpolation=cv2.INTER_LINEAR)
    return v.but(data=out, layout="HWC")


def _pil_resize(r, v, op: Resize) -> V:
    from PIL import Image

    h, w = _out_size(r, op)
    resample = _PIL_INTERP.get(_interp_name(r, op))
    img = v.data if is_pil(v.data) else Image.fromarray(as_array(v.data))
    return v.but(data=img.resize((w, h), resample), layout="PIL")


def _tv_interp(name: str):
    from torchvision.transforms import InterpolationMode

    return {"nearest": InterpolationMode.NEAREST, "bilinear": InterpolationMode.BILINEAR,
            "bicubic": InterpolationMode.BICUBIC, "box": InterpolationMode.BOX,
            "hamming": InterpolationMode.HAMMING, "lanczos": InterpolationMode.LANCZOS}[name]


def _tv_resize(r, v, op: Resize) -> V:
    """torchvision Resize / F.resize, called for real (shorter-side ints, max_size, antialias)."""
    from torchvision.transforms import functional as TF

    size = op.size_arg
    if isinstance(size, list):
        size = tuple(size)
    size = r.ev(op, size, "the size")
    size = [int(s) for s in size] if isinstance(size, tuple) else int(size)
    max_size = int(r.ev(op, op.max_size, "max_size")) if op.max_size is not None else None
    x = v.data if is_pil(v.data) else as_tensor(v.data)
    antialias = bool(op.antialias) if not is_pil(x) else True
    out = TF.resize(x, size, interpolation=_tv_interp(_interp_name(r, op)), max_size=max_size, antialias=antialias)
    return v.but(data=out, layout="PIL" if is_pil(out) else v.layout)


def _sail_resize(r, v, op: Resize) -> V:
    h, w = _out_size(r, op)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("CHW", "HWC") else "CHW"
    try:
        out = sail_emu.resize(arr, layout, h, w, op.interp or "nearest")
    except ValueError as exc:
        r.fail(op, str(exc))
    return v.but(data=out, layout=layout, emulated=True)


# =========================================================================== crop
def _box(r, op: Crop) -> tuple[int, int, int, int]:
    return tuple(int(r.ev(op, getattr(op, k), f"the crop {k}")) for k in ("top", "left", "height", "width"))


def _hw_axes(v: V, arr) -> tuple[int, int]:
    layout = v.layout if v.layout and v.layout != "PIL" and len(v.layout) == arr.ndim else None
    if layout is None:
        layout = guess_layout(arr)
    return layout.index("H"), layout.index("W")


def crop(r, v, op: Crop) -> V:
    if op.library == "torchvision":
        from torchvision.transforms import functional as TF

        x = v.data if is_pil(v.data) else as_tensor(v.data)
        if op.style == "center":
            h = int(r.ev(op, op.height, "the crop height"))
            w = int(r.ev(op, op.width, "the crop width"))
            out = TF.center_crop(x, [h, w])
        else:
            top, left, h, w = _box(r, op)
            out = TF.crop(x, top, left, h, w)
        return v.but(data=out, layout="PIL" if is_pil(out) else v.layout)
    top, left, h, w = _box(r, op)
    if op.library == "pil":
        return v.but(data=v.data.crop((left, top, left + w, top + h)))
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    hi, wi = _hw_axes(v, x)
    index = [slice(None)] * x.ndim
    index[hi] = slice(top, top + h if top + h != 0 or h == 0 else None)
    index[wi] = slice(left, left + w if left + w != 0 or w == 0 else None)
    out = x[tuple(index)]
    return v.but(data=out, layout=v.layout if v.layout != "PIL" else "HWC", emulated=v.emulated or op.library == "sail")


# =========================================================================== pad
def pad(r, v, op: Pad) -> V:
    if op.library == "cv2":
        return _copy_make_border(r, v, op)
    if op.library == "numpy":
        return _canvas(r, v, op)
    if op.library == "sail":
        return _sail_pad(r, v, op)
    if op.library == "torchvision":
        return _tv_pad(r, v, op)
    r.fail(op, "padding by this API is not replayed")


def _pad_value(r, op: Pad, value):
    if isinstance(value, (list, tuple)):
        return tuple(float(r.ev(op, x, "the pad value")) for x in value)
    return float(r.ev(op, value, "the pad value"))


def _copy_make_border(r, v, op: Pad) -> V:
    import cv2

    t, b, left, right = (int(r.ev(op, getattr(op, k), f"the {k} padding")) for k in ("top", "bottom", "left", "right"))
    border, value = cv2.BORDER_CONSTANT, op.value
    if op.border != 0:  # a replicated or reflected border fills with no value
        border, value = int(r.ev(op, op.border, "the border type")), 0
    value = _pad_value(r, op, value)
    arr = np.ascontiguousarray(as_array(v.data))
    out = cv2.copyMakeBorder(arr, t, b, left, right, border, value=value)
    return v.but(data=out, layout="HW" if out.ndim == 2 else "HWC")


def _canvas(r, v, op: Pad) -> V:
    """np.zeros/ones/full canvas with the image pasted at the top-left."""
    out_h, out_w = (int(r.ev(op, x, "the canvas size")) for x in op.out)
    fill = op.value
    fill = 0.0 if fill is None else _pad_value(r, op, fill)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("HWC", "CHW", "HW") else "HWC"
    out = sail_emu.pad(arr, layout, 0, 0, out_h, out_w, fill)
    return v.but(data=out, layout=layout).note(f"{op.api}: the canvas keeps the image's dtype {arr.dtype}")


def _sail_pad(r, v, op: Pad) -> V:
    top, left = int(r.ev(op, op.top, "the pad top")), int(r.ev(op, op.left, "the pad left"))
    out_h, out_w = (int(r.ev(op, x, "the padded size")) for x in op.out)
    value = _pad_value(r, op, op.value)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("HWC", "CHW") else "CHW"
    out = sail_emu.pad(arr, layout, top, left, out_h, out_w, value)
    return v.but(data=out, layout=layout, emulated=True)


def _tv_pad(r, v, op: Pad) -> V:
    from torchvision.transforms import functional as TF

    padding = r.ev(op, op.padding, "the padding")
    fill = op.value
    fill = _pad_value(r, op, fill) if fill is not None else 0
    x = v.data if is_pil(v.data) else as_tensor(v.data)
    out = TF.pad(x, list(padding) if isinstance(padding, tuple) else padding, fill=fill)
    return v.but(data=out, layout="PIL" if is_pil(out) else v.layout)
