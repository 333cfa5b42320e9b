"""Replays a pipeline found by the analyser with each library's real implementation.

The analyser records every step from decode to the model input as an `Op(stage, api, params)`;
here each op is executed on a real image: PIL and torchvision for what the program calls
through them, cv2 and numpy for theirs, and SOPHON-SAIL's Bmcv emulated in numpy
(`sail_emu`) where `sophon.sail` is not importable. Sizes recorded as symbolic expressions of
the image's H and W and of the bmodel's input dims are evaluated on the actual image.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from portlint.errors import PortlintError
from portlint.verify import sail_emu
from portlint.verify.values import V, Snapshot, channel_axis, identity, is_pil, is_torch, to_numpy

T = "torchvision.transforms."
F = "torchvision.transforms.functional."
S = "sophon.sail."


class ReplayError(PortlintError):
    """An op the replay cannot execute: one line naming it and where it is."""


class _Fallback(Exception):
    """A normalisation op whose constants the analyser did not keep: use the final affine."""


def where(op) -> Optional[str]:
    if op is None or op.site is None:
        return None
    from portlint.analysis.locate import locate

    loc = locate(op.site)
    return f"{loc.path}:{loc.line}" if loc else None


_CV2_INTERP = {"nearest": 0, "bilinear": 1, "bicubic": 2, "area": 3, "lanczos": 4}
_PIL_INTERP = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}
_PIL_MODES = {"RGB": ("R", "G", "B"), "RGBA": ("R", "G", "B", "A"), "L": ("Y",), "BGR;24": ("B", "G", "R")}


class Replayer:
    """Runs one side's ops on the image file; `run()` returns the snapshot after every op."""

    def __init__(self, side: str, ops: tuple, image: str, dims: Optional[tuple], final_state=None):
        self.side = side
        self.ops = list(ops)
        self.image = image
        self.env: dict = {}
        if dims:
            for i, d in enumerate(dims):
                self.env[f"bmodel.input.d{i}"] = int(d)
        self.final = final_state
        self.norm_folded = False  # the rest of the normalisation was applied from the final affine
        self.i = 0

    # ----------------------------------------------------------------- driving
    def run(self) -> list[Snapshot]:
        snaps: list[Snapshot] = []
        v: Optional[V] = None
        for self.i, op in enumerate(self.ops):
            try:
                v = self.step(v, op)
            except ReplayError:
                raise
            except PortlintError:
                raise
            except Exception as exc:  # a library refused the op: name it, one line
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ReplayError(f"{self.side}: {op.api} at {where(op) or '?'} failed on the replayed image: {msg}") from None
            snaps.append(Snapshot(self.i, op.stage, op.api, where(op), v))
        if v is None:
            raise ReplayError(f"{self.side}: no pipeline to replay")
        return snaps

    def fail(self, op, why: str):
        raise ReplayError(f"{self.side}: cannot replay {op.api} at {where(op) or '?'}: {why}")

    def ev(self, op, value, what: str = "a size"):
        """A number from a recorded value (constant or symbolic expression of H, W, bmodel dims)."""
        from portlint.analysis.values import UNKNOWN, Sym, sym_eval

        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, Sym):
            r = sym_eval(value, self.env)
            if r is not None:
                return r
            missing = sorted(n for n in _vars(value) if n not in self.env)
            if any(n.startswith("bmodel.") for n in missing):
                self.fail(op, f"{what} depends on the bmodel's input shape: give --bmodel or --input-shape")
            self.fail(op, f"{what} could not be evaluated")
        if value is UNKNOWN or value is None:
            self.fail(op, f"{what} is not known statically")
        if isinstance(value, (list, tuple)):
            return type(value)(self.ev(op, x, what) for x in value)
        self.fail(op, f"{what} ({value!r}) is not a number")

    def step(self, v: Optional[V], op) -> V:
        if op.stage == "decode" and op.api in _DECODERS:
            out = _DECODERS[op.api](self, v, op)
            if v is None or op.api in ("cv2.imread", "cv2.imdecode", "PIL.Image.open", S + "Decoder.read",
                                       S + "Decoder.read_", "cv2.VideoCapture.read", "parameter"):
                arr = to_numpy(out.data)
                hw = (arr.shape[1], arr.shape[2]) if out.layout == "CHW" else (arr.shape[0], arr.shape[1])
                self.env["H"], self.env["W"] = int(hw[0]), int(hw[1])
            return out
        if v is None:
            self.fail(op, "the pipeline does not start with a decode")
        if op.stage == "normalize" and self.norm_folded:
            return v
        handler = _BY_API.get(op.api)
        if handler is None:
            handler = _BY_STAGE.get((op.stage, _family(op.api)))
        if handler is None:
            self.fail(op, f"no runtime equivalent for a {op.stage} step")
        try:
            return handler(self, v, op)
        except _Fallback as fb:
            return self.fold_normalisation(v, op, str(fb))

    # ----------------------------------------------------------------- normalisation fallback
    def fold_normalisation(self, v: V, op, why: str) -> V:
        """Apply the rest of the normalisation at once from the analyser's final per-channel
        affine (a*raw + b): exact for any chain of per-channel arithmetic."""
        st = self.final
        if st is None or st.affine is None or v.affine is None:
            self.fail(op, why + " and the per-channel normalisation is not known")
        later = [o for o in self.ops[self.i + 1:] if o.stage == "colour"]
        if later:
            self.fail(op, why + " and the channels are reordered afterwards")
        arr = to_numpy(v.data).astype(np.float64)
        c = channel_axis(v.layout)
        n = len(st.affine)
        if c is None or arr.shape[c] != n or len(v.affine) != n:
            self.fail(op, why + " and the channel axis is not known")
        cur_a = np.array([p[0] for p in v.affine])
        cur_b = np.array([p[1] for p in v.affine])
        fa = np.array([p[0] for p in st.affine])
        fb = np.array([p[1] for p in st.affine])
        shape = [1] * arr.ndim
        shape[c] = n
        raw = (arr - cur_b.reshape(shape)) / cur_a.reshape(shape)
        out = (raw * fa.reshape(shape) + fb.reshape(shape)).astype(np.float32)
        self.norm_folded = True
        return v.but(data=out, affine=tuple(st.affine)).note(
            f"{op.api}: normalisation applied from the analysed per-channel affine ({why})")


def _vars(value) -> set:
    from portlint.analysis.values import sym_vars

    return sym_vars(value)


def _family(api: str) -> str:
    for prefix in (F, T, S, "cv2.", "PIL.", "numpy.", "torch."):
        if api.startswith(prefix):
            return prefix
    return api


# =========================================================================== helpers
def _torch():
    import torch

    return torch


def as_tensor(x):
    """torch tensor of an ndarray (PIL images stay PIL: torchvision takes both)."""
    if is_torch(x) or is_pil(x):
        return x
    torch = _torch()
    return torch.from_numpy(np.ascontiguousarray(x))


def as_array(x) -> np.ndarray:
    return to_numpy(x)


def _scale_affine(aff, s):
    return tuple((a * s, b * s) for a, b in aff) if aff is not None else None


def _channels_of_cv2(arr: np.ndarray, flags) -> tuple:
    if arr.ndim == 2:
        return ("Y",)
    n = arr.shape[2]
    if flags == 256:
        return ("R", "G", "B")[:n]
    return {1: ("Y",), 3: ("B", "G", "R"), 4: ("B", "G", "R", "A")}.get(n, None)


def _fresh(data, layout, channels, emulated=False) -> V:
    n = len(channels) if channels else 3
    return V(data, layout, channels, identity(n), emulated)


# =========================================================================== decode
def _cv2_imread(r: Replayer, v, op) -> V:
    import cv2

    flags = op.params.get("flags")
    if not isinstance(flags, int) or isinstance(flags, bool):
        flags = cv2.IMREAD_COLOR
    if op.api == "cv2.imdecode":
        arr = cv2.imdecode(np.fromfile(r.image, dtype=np.uint8), flags)
    else:
        arr = cv2.imread(r.image, flags)
    if arr is None:
        r.fail(op, f"OpenCV cannot decode {r.image}")
    layout = "HW" if arr.ndim == 2 else "HWC"
    return _fresh(arr, layout, _channels_of_cv2(arr, flags))


def _video_read(r: Replayer, v, op) -> V:
    import cv2

    arr = cv2.imread(r.image, cv2.IMREAD_COLOR)
    if arr is None:
        r.fail(op, f"OpenCV cannot decode {r.image}")
    return _fresh(arr, "HWC", ("B", "G", "R")).note("cv2.VideoCapture.read replayed as cv2.imread of the image")


def _pil_open(r: Replayer, v, op) -> V:
    from PIL import Image

    img = Image.open(r.image)
    img.load()
    return _fresh(img, "PIL", _PIL_MODES.get(img.mode, ("R", "G", "B")))


def _pil_convert(r: Replayer, v, op) -> V:
    from PIL import Image

    mode = op.params.get("mode")
    img = v.data if is_pil(v.data) else Image.fromarray(as_array(v.data))
    if not isinstance(mode, str):
        r.fail(op, "the mode is not known statically")
    same = img.mode == mode
    out = img.convert(mode)
    channels = v.channels if same and v.channels else _PIL_MODES.get(mode, None)
    aff = v.affine if same else identity(len(channels) if channels else 3)
    return V(out, "PIL", channels, aff, v.emulated, v.notes)


def _exif_transpose(r: Replayer, v, op) -> V:
    from PIL import ImageOps

    return v.but(data=ImageOps.exif_transpose(v.data))


def _sail_decode(r: Replayer, v, op) -> V:
    try:
        arr = sail_emu.decode(r.image)
    except ValueError as exc:
        r.fail(op, str(exc))
    return _fresh(arr, "CHW", ("B", "G", "R"), emulated=True).note(
        "sail.Decoder emulated with OpenCV (Sophon-OpenCV decodes JPEG in hardware, chroma may differ)")


def _parameter(r: Replayer, v, op) -> V:
    import cv2

    arr = cv2.imread(r.image, cv2.IMREAD_COLOR)
    if arr is None:
        r.fail(op, f"OpenCV cannot decode {r.image}")
    return _fresh(arr, "HWC", ("B", "G", "R")).note(
        f"the pipeline starts at a parameter ({op.params.get('name')}): fed a cv2.imread BGR image")


_DECODERS: dict[str, Callable] = {
    "cv2.imread": _cv2_imread, "cv2.imdecode": _cv2_imread, "cv2.VideoCapture.read": _video_read,
    "PIL.Image.open": _pil_open, "PIL.Image.Image.convert": _pil_convert, "PIL.ImageOps.exif_transpose": _exif_transpose,
    S + "Decoder.read": _sail_decode, S + "Decoder.read_": _sail_decode, "parameter": _parameter,
}


# =========================================================================== colour
def _reverse_channels_of(v: V) -> tuple:
    return tuple(reversed(v.channels)) if v.channels else None


def _reverse_affine(v: V):
    return tuple(reversed(v.affine)) if v.affine else None


def _flip_axis(x, axis: int):
    if is_torch(x):
        return x.flip(axis)
    return np.flip(x, axis)


def _cvtcolor(r: Replayer, v, op) -> V:
    import cv2

    code = op.params.get("code")
    kind = op.params.get("kind")
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


def _reverse_channels(r: Replayer, v, op) -> V:
    axis = op.params.get("axis")
    c = channel_axis(v.layout)
    if c is None and isinstance(axis, int):
        c = axis
    if c is None:
        r.fail(op, "the channel axis is not known")
    return v.but(data=_flip_axis(v.data, c), channels=_reverse_channels_of(v), affine=_reverse_affine(v))


def _reverse_first(r: Replayer, v, op) -> V:
    x = v.data
    out = x.flip(0) if is_torch(x) else as_array(x)[::-1]
    first_is_c = v.layout is not None and v.layout.startswith("C")
    return v.but(data=out, channels=_reverse_channels_of(v) if first_is_c else None,
                 affine=_reverse_affine(v) if first_is_c else v.affine)


def _swap_rb(r: Replayer, v, op) -> V:
    c = channel_axis(v.layout)
    if c is None:
        r.fail(op, "the channel axis is not known")
    return v.but(data=_flip_axis(as_array(v.data), c), channels=_reverse_channels_of(v), affine=_reverse_affine(v))


def _grayscale(r: Replayer, v, op) -> V:
    from torchvision.transforms import functional as TF

    out = TF.rgb_to_grayscale(as_tensor(v.data))
    return v.but(data=out, channels=("Y",), affine=None)


def _sail_format(r: Replayer, v, op) -> V:
    fmt = op.params.get("to") or "FORMAT_BGR_PLANAR"
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


# =========================================================================== resize
def _interp_name(r: Replayer, op) -> str:
    name = op.params.get("interp")
    if name is None:
        r.fail(op, "the interpolation is not known statically")
    return name


def _out_size(r: Replayer, op) -> tuple[int, int]:
    out = op.params.get("out")
    if not isinstance(out, tuple) or len(out) != 2:
        r.fail(op, "the output size is not known")
    h, w = r.ev(op, out[0], "the output height"), r.ev(op, out[1], "the output width")
    return int(h), int(w)


def _cv2_resize(r: Replayer, v, op) -> V:
    import cv2

    h, w = _out_size(r, op)
    code = _CV2_INTERP.get(_interp_name(r, op))
    if code is None:
        r.fail(op, f"OpenCV has no {op.params.get('interp')} interpolation")
    arr = as_array(v.data)
    out = cv2.resize(np.ascontiguousarray(arr), (w, h), interpolation=code)
    return v.but(data=out, layout="HW" if out.ndim == 2 else "HWC")


def _blob_resize(r: Replayer, v, op) -> V:
    """cv2.dnn.blobFromImage's resize: INTER_LINEAR to size, or with crop=True scale by
    max(w/W, h/H) then centre-crop at floor((resized - size) / 2) (docs/facts.md g)."""
    import cv2

    h, w = _out_size(r, op)
    arr = as_array(v.data)
    if op.params.get("mode") == "cover-crop":
        s = max(w / arr.shape[1], h / arr.shape[0])
        big = cv2.resize(arr, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
        out = big[y0:y0 + h, x0:x0 + w]
    else:
        out = cv2.resize(arr, (w, h), interpolation=cv2.INTER_LINEAR)
    return v.but(data=out, layout="HWC")


def _pil_resize(r: Replayer, v, op) -> V:
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


def _tv_resize(r: Replayer, v, op) -> V:
    """torchvision Resize / F.resize, called for real (shorter-side ints, max_size, antialias)."""
    from torchvision.transforms import functional as TF

    p = op.params
    size = p.get("size_arg", p.get("out"))
    if isinstance(size, list):
        size = tuple(size)
    size = r.ev(op, size, "the size")
    size = [int(s) for s in size] if isinstance(size, tuple) else int(size)
    max_size = p.get("max_size")
    max_size = int(r.ev(op, max_size, "max_size")) if max_size is not None else None
    x = v.data if is_pil(v.data) else as_tensor(v.data)
    antialias = bool(p.get("antialias", True)) if not is_pil(x) else True
    out = TF.resize(x, size, interpolation=_tv_interp(_interp_name(r, op)), max_size=max_size, antialias=antialias)
    return v.but(data=out, layout="PIL" if is_pil(out) else v.layout)


def _sail_resize(r: Replayer, v, op) -> V:
    h, w = _out_size(r, op)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("CHW", "HWC") else "CHW"
    try:
        out = sail_emu.resize(arr, layout, h, w, op.params.get("interp") or "nearest")
    except ValueError as exc:
        r.fail(op, str(exc))
    return v.but(data=out, layout=layout, emulated=True)


def _resize(r: Replayer, v, op) -> V:
    lib = op.params.get("library")
    if op.api == "cv2.dnn.blobFromImage":
        return _blob_resize(r, v, op)
    if op.api.startswith(T) or op.api.startswith(F):
        return _tv_resize(r, v, op)
    if lib == "cv2":
        return _cv2_resize(r, v, op)
    if lib == "pil":
        return _pil_resize(r, v, op)
    if lib == "sail" or op.api.startswith(S):
        return _sail_resize(r, v, op)
    r.fail(op, f"resize by library {lib!r} is not replayed")


# =========================================================================== crop
def _box(r: Replayer, op) -> tuple[int, int, int, int]:
    p = op.params
    return tuple(int(r.ev(op, p.get(k), f"the crop {k}")) for k in ("top", "left", "height", "width"))


def _hw_axes(v: V, arr) -> tuple[int, int]:
    layout = v.layout if v.layout and v.layout != "PIL" and len(v.layout) == arr.ndim else None
    if layout is None:
        from portlint.verify.values import guess_layout

        layout = guess_layout(arr)
    return layout.index("H"), layout.index("W")


def _crop(r: Replayer, v, op) -> V:
    p = op.params
    if op.api.startswith(T) or op.api.startswith(F):
        from torchvision.transforms import functional as TF

        x = v.data if is_pil(v.data) else as_tensor(v.data)
        if p.get("style") == "center":
            h = int(r.ev(op, p.get("height"), "the crop height"))
            w = int(r.ev(op, p.get("width"), "the crop width"))
            out = TF.center_crop(x, [h, w])
        else:
            top, left, h, w = _box(r, op)
            out = TF.crop(x, top, left, h, w)
        return v.but(data=out, layout="PIL" if is_pil(out) else v.layout)
    top, left, h, w = _box(r, op)
    if op.api == "PIL.Image.Image.crop":
        return v.but(data=v.data.crop((left, top, left + w, top + h)))
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    hi, wi = _hw_axes(v, x)
    index = [slice(None)] * x.ndim
    index[hi] = slice(top, top + h if top + h != 0 or h == 0 else None)
    index[wi] = slice(left, left + w if left + w != 0 or w == 0 else None)
    out = x[tuple(index)]
    return v.but(data=out, layout=v.layout if v.layout != "PIL" else "HWC", emulated=v.emulated or op.api.startswith(S))


# =========================================================================== pad
def _pad_value(r: Replayer, op, value):
    if isinstance(value, (list, tuple)):
        return tuple(float(r.ev(op, x, "the pad value")) for x in value)
    return float(r.ev(op, value, "the pad value"))


def _copy_make_border(r: Replayer, v, op) -> V:
    import cv2

    p = op.params
    t, b, left, right = (int(r.ev(op, p.get(k), f"the {k} padding")) for k in ("top", "bottom", "left", "right"))
    value = p.get("value", 0)
    border = cv2.BORDER_CONSTANT
    if isinstance(value, str) and value.startswith("border "):
        border, value = int(value.split()[1]), 0
    value = _pad_value(r, op, value)
    arr = np.ascontiguousarray(as_array(v.data))
    out = cv2.copyMakeBorder(arr, t, b, left, right, border, value=value)
    return v.but(data=out, layout="HW" if out.ndim == 2 else "HWC")


def _canvas(r: Replayer, v, op) -> V:
    """np.zeros/ones/full canvas with the image pasted at the top-left."""
    p = op.params
    out_h, out_w = (int(r.ev(op, x, "the canvas size")) for x in p.get("out"))
    fill = p.get("value")
    fill = 0.0 if fill is None else _pad_value(r, op, fill)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("HWC", "CHW", "HW") else "HWC"
    out = sail_emu.pad(arr, layout, 0, 0, out_h, out_w, fill)
    return v.but(data=out, layout=layout).note(f"{op.api}: the canvas keeps the image's dtype {arr.dtype}")


def _sail_pad(r: Replayer, v, op) -> V:
    p = op.params
    top, left = int(r.ev(op, p.get("top"), "the pad top")), int(r.ev(op, p.get("left"), "the pad left"))
    out_h, out_w = (int(r.ev(op, x, "the padded size")) for x in p.get("out"))
    value = _pad_value(r, op, p.get("value", 0))
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("HWC", "CHW") else "CHW"
    out = sail_emu.pad(arr, layout, top, left, out_h, out_w, value)
    return v.but(data=out, layout=layout, emulated=True)


def _tv_pad(r: Replayer, v, op) -> V:
    from torchvision.transforms import functional as TF

    padding = r.ev(op, op.params.get("padding"), "the padding")
    fill = op.params.get("value", 0)
    fill = _pad_value(r, op, fill) if fill is not None else 0
    x = v.data if is_pil(v.data) else as_tensor(v.data)
    out = TF.pad(x, list(padding) if isinstance(padding, tuple) else padding, fill=fill)
    return v.but(data=out, layout="PIL" if is_pil(out) else v.layout)


def _pad(r: Replayer, v, op) -> V:
    if op.api == "cv2.copyMakeBorder":
        return _copy_make_border(r, v, op)
    if op.api == "numpy.canvas":
        return _canvas(r, v, op)
    if op.api.startswith(S):
        return _sail_pad(r, v, op)
    if op.api.startswith(T) or op.api.startswith(F):
        return _tv_pad(r, v, op)
    r.fail(op, "padding by this API is not replayed")


# =========================================================================== normalize
def _broadcast(v: V, x, vec):
    """A per-channel constant shaped to broadcast along the value's channel axis."""
    vec = np.asarray(vec, dtype=np.float64)
    ndim = len(x.shape)
    c = channel_axis(v.layout) if v.layout and len(v.layout) == ndim else None
    if c is None:
        c = ndim - 1 if x.shape[-1] == vec.size else None
    if c is None:
        raise _Fallback("the channel axis of a per-channel constant is not known")
    shape = [1] * ndim
    shape[c] = vec.size
    const = vec.reshape(shape)
    if is_torch(x):
        torch = _torch()
        dt = x.dtype if x.is_floating_point() else torch.float32
        return torch.tensor(const, dtype=dt)
    return const


def _arith(r: Replayer, v, op) -> V:
    p = op.params
    kind, value, left = p.get("op"), p.get("value"), p.get("image_left", True)
    if isinstance(value, str) or value is None:
        raise _Fallback(f"the constant of {op.api} was not kept by the analyser")
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    n = len(v.affine) if v.affine else None
    if isinstance(value, (list, tuple)):
        if n is not None and len(value) != n:
            raise _Fallback("a constant that does not broadcast per channel")
        const = _broadcast(v, x, value)
        per = [float(c) for c in value]
    else:
        const = value
        per = [float(value)] * (n or 0)
    import operator

    fn = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}.get(kind)
    if fn is None:
        raise _Fallback(f"numpy {kind} is not replayed")
    out = fn(x, const) if left else fn(const, x)
    aff = v.affine
    if aff is not None:
        new = []
        for (a, b), c in zip(aff, per):
            if kind == "add":
                new.append((a, b + c))
            elif kind == "sub":
                new.append((a, b - c) if left else (-a, c - b))
            elif kind == "mul":
                new.append((a * c, b * c))
            elif kind == "truediv" and left:
                new.append((a / c, b / c))
            else:
                new = None
                break
        aff = tuple(new) if new is not None else None
    return v.but(data=out, affine=aff)


def _tv_normalize(r: Replayer, v, op) -> V:
    from torchvision.transforms import functional as TF

    mean, std = op.params.get("mean"), op.params.get("std")
    if not isinstance(mean, (list, tuple)) or not isinstance(std, (list, tuple)):
        raise _Fallback("mean/std not known statically")
    mean = [float(r.ev(op, m, "the mean")) for m in mean]
    std = [float(r.ev(op, s, "the std")) for s in std]
    x = as_tensor(v.data)
    out = TF.normalize(x, mean, std)
    aff = v.affine
    if aff is not None:
        n = len(aff)
        mean = mean * n if len(mean) == 1 else mean
        std = std * n if len(std) == 1 else std
        aff = tuple(((a / s), (b - m) / s) for (a, b), m, s in zip(aff, mean, std)) if len(mean) == n else None
    return v.but(data=out, affine=aff)


def _scale_marker(r: Replayer, v, op) -> V:
    """The `/255` half of ToTensor / ConvertImageDtype / ToPILImage: done with the real call."""
    return v


def _convert_to(r: Replayer, v, op) -> V:
    ab = op.params.get("alpha_beta")
    if not ab:
        raise _Fallback("convert_to's alpha/beta not known statically")
    ab = tuple((float(r.ev(op, a, "alpha")), float(r.ev(op, b, "beta"))) for a, b in ab)
    arr = as_array(v.data)
    layout = v.layout if v.layout in ("CHW", "HWC") else "CHW"
    # output dtype: the 3-arg form's preallocated image; the 2-arg form keeps the input's
    later_dtype = any(o.stage == "dtype" for o in r.ops[r.i + 1:])
    out_dtype = str(arr.dtype)
    if not later_dtype and r.final is not None and r.final.dtype:
        out_dtype = r.final.dtype
    out = sail_emu.convert_to(arr, layout, ab, out_dtype)
    aff = v.affine
    if aff is not None and len(aff) <= len(ab):
        aff = tuple((a * al, b * al + be) for (a, b), (al, be) in zip(aff, ab))
    v2 = v.but(data=out, layout=layout, affine=aff, emulated=True)
    if out_dtype in ("uint8", "int8"):
        v2 = v2.note(f"convert_to with a {out_dtype} output saturates and rounds")
    return v2


def _normalize(r: Replayer, v, op) -> V:
    p = op.params
    if "scale" in p and "op" not in p:
        return _scale_marker(r, v, op)
    if op.api.startswith("numpy.") or op.api.startswith("torch."):
        return _arith(r, v, op)
    if op.api in (T + "Normalize", F + "normalize"):
        return _tv_normalize(r, v, op)
    if op.api.startswith(S):
        return _convert_to(r, v, op)
    raise _Fallback(f"{op.api}'s constants are not kept per op")


# =========================================================================== layout, batch, dtype
def _to_tensor(r: Replayer, v, op) -> V:
    from torchvision.transforms import functional as TF

    x = v.data
    if not is_pil(x):
        x = as_array(x)
        if x.ndim == 3 and v.layout == "CHW":
            x = np.transpose(x, (1, 2, 0))
    scaled = (is_pil(x) and x.mode in ("RGB", "L", "RGBA")) or (isinstance(x, np.ndarray) and x.dtype == np.uint8)
    out = TF.to_tensor(x)
    aff = _scale_affine(v.affine, 1 / 255) if scaled else v.affine
    return v.but(data=out, layout="CHW", affine=aff)


def _pil_to_tensor(r: Replayer, v, op) -> V:
    from torchvision.transforms import functional as TF

    x = v.data
    if is_pil(x):
        return v.but(data=TF.pil_to_tensor(x), layout="CHW")
    arr = as_array(x)
    if arr.ndim == 3 and v.layout != "CHW":
        arr = np.transpose(arr, (2, 0, 1))
    return v.but(data=as_tensor(np.ascontiguousarray(arr)), layout="CHW")


def _transpose(r: Replayer, v, op) -> V:
    axes = op.params.get("axes")
    if isinstance(axes, list):
        axes = tuple(axes)
    if not isinstance(axes, tuple) or not all(isinstance(a, int) for a in axes):
        r.fail(op, "the axes are not known statically")
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    out = x.permute(*axes) if is_torch(x) else np.transpose(x, axes)
    layout = op.params.get("to")
    cur = v.layout if v.layout != "PIL" else ("HWC" if len(x.shape) == 3 else "HW")
    if cur and len(cur) == len(axes):
        layout = "".join(cur[a] for a in axes)
    return v.but(data=out, layout=layout)


def _fromarray(r: Replayer, v, op) -> V:
    from PIL import Image

    arr = np.ascontiguousarray(as_array(v.data))
    if v.layout == "CHW":
        arr = np.ascontiguousarray(arr.transpose(1, 2, 0))
    return v.but(data=Image.fromarray(arr), layout="PIL")


def _np_array(r: Replayer, v, op) -> V:
    arr = np.asarray(v.data) if is_pil(v.data) else as_array(v.data)
    layout = v.layout
    if is_pil(v.data):
        layout = "HWC" if arr.ndim == 3 else "HW"
    return v.but(data=arr, layout=layout)


def _to_pil(r: Replayer, v, op) -> V:
    from torchvision.transforms import functional as TF

    x = v.data
    floating = (is_torch(x) and x.is_floating_point()) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")
    if isinstance(x, np.ndarray) and v.layout == "CHW":
        x = np.ascontiguousarray(x.transpose(1, 2, 0))
    out = TF.to_pil_image(x)
    aff = _scale_affine(v.affine, 255.0) if floating and is_torch(x) else v.affine
    return v.but(data=out, layout="PIL", affine=aff)


def _reshape(r: Replayer, v, op) -> V:
    shape = op.params.get("shape")
    x = v.data
    if shape is None:  # add_batch through reshape(1, ...)
        return _add_batch(r, v, op)
    shape = r.ev(op, tuple(shape) if isinstance(shape, list) else shape, "the shape")
    out = x.reshape(*shape) if is_torch(x) else np.reshape(as_array(x), shape)
    from portlint.verify.values import guess_layout

    return v.but(data=out, layout=guess_layout(to_numpy(out)))


def _to_nchw(r: Replayer, v, op) -> V:
    """bm_image_to_tensor (planar -> NCHW, packed -> NHWC) and blobFromImage's NCHW float32."""
    arr = as_array(v.data)
    layout = v.layout
    if op.api == "cv2.dnn.blobFromImage":
        if layout == "HWC":
            arr, layout = arr.transpose(2, 0, 1), "CHW"
        arr = arr.astype(np.float32)
    if layout in ("CHW", "HWC"):
        return v.but(data=np.ascontiguousarray(arr[None]), layout="N" + layout,
                     emulated=v.emulated or op.api.startswith(S))
    return v.but(data=arr)


def _add_batch(r: Replayer, v, op) -> V:
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    out = x.unsqueeze(0) if is_torch(x) else np.expand_dims(x, 0)
    layout = v.layout if v.layout != "PIL" else ("HWC" if len(x.shape) == 3 else "HW")
    return v.but(data=out, layout=("N" + layout) if layout and not layout.startswith("N") else None)


def _index_batch(r: Replayer, v, op) -> V:
    return v.but(data=v.data[0], layout=v.layout[1:] if v.layout and v.layout.startswith("N") else None)


_NP_DTYPES = {"float32": np.float32, "float64": np.float64, "uint8": np.uint8, "int8": np.int8,
              "float16": np.float16, "int32": np.int32, "int64": np.int64, "uint16": np.uint16}


def _cast(x, dt: str):
    if is_torch(x):
        torch = _torch()
        return x.to(getattr(torch, dt))
    return as_array(x).astype(_NP_DTYPES[dt])


def _dtype(r: Replayer, v, op) -> V:
    dt = op.params.get("to")
    if dt is None:
        return v.note(f"{op.api}: target dtype not known statically, value left as is")
    if dt not in _NP_DTYPES:
        r.fail(op, f"dtype {dt} is not replayed")
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    nxt = r.ops[r.i + 1] if r.i + 1 < len(r.ops) else None
    scaling = (nxt is not None and nxt.stage == "normalize" and "scale" in nxt.params and "op" not in nxt.params
               and nxt.api == op.api)
    src_uint8 = (is_torch(x) and str(x.dtype) == "torch.uint8") or (isinstance(x, np.ndarray) and x.dtype == np.uint8)
    if scaling and src_uint8 and dt.startswith("float"):
        from torchvision.transforms import functional as TF

        torch = _torch()
        out = TF.convert_image_dtype(as_tensor(x), getattr(torch, dt))
        return v.but(data=out, affine=_scale_affine(v.affine, 1 / 255))
    return v.but(data=_cast(x, dt))


def _layout(r: Replayer, v, op) -> V:
    api = op.api
    if api in (T + "ToTensor", F + "to_tensor"):
        return _to_tensor(r, v, op)
    if api in (T + "PILToTensor", T + "ToImage", T + "ToImageTensor", F + "pil_to_tensor", F + "to_image"):
        return _pil_to_tensor(r, v, op)
    if api in (T + "ToPILImage", F + "to_pil_image"):
        return _to_pil(r, v, op)
    if api == "PIL.Image.fromarray":
        return _fromarray(r, v, op)
    if api in ("numpy.array", "numpy.asarray", "numpy.asanyarray"):
        return _np_array(r, v, op)
    if "axes" in op.params:
        return _transpose(r, v, op)
    if api.endswith("reshape"):
        return _reshape(r, v, op)
    if api == S + "Bmcv.bm_image_to_tensor" or api == "cv2.dnn.blobFromImage":
        return _to_nchw(r, v, op)
    r.fail(op, "layout change by this API is not replayed")


def _batch(r: Replayer, v, op) -> V:
    if op.api == "numpy.index_batch":
        return _index_batch(r, v, op)
    return _add_batch(r, v, op)


_BY_API: dict[str, Callable] = {
    "cv2.cvtColor": _cvtcolor, "numpy.reverse_channels": _reverse_channels, "numpy.reverse": _reverse_first,
    "torch.Tensor.flip": _reverse_channels, "torch.flip": _reverse_channels,
    T + "Grayscale": _grayscale,
    S + "Bmcv.convert_format": _sail_format, S + "Bmcv.vpp_convert_format": _sail_format, S + "Bmcv.yuv2bgr": _sail_format,
}
_BY_STAGE: dict[tuple, Callable] = {}
for _fam in (F, T, S, "cv2.", "PIL.", "numpy.", "torch."):
    _BY_STAGE[("resize", _fam)] = _resize
    _BY_STAGE[("crop", _fam)] = _crop
    _BY_STAGE[("pad", _fam)] = _pad
    _BY_STAGE[("normalize", _fam)] = _normalize
    _BY_STAGE[("layout", _fam)] = _layout
    _BY_STAGE[("batch", _fam)] = _batch
    _BY_STAGE[("dtype", _fam)] = _dtype
_BY_STAGE[("colour", "cv2.")] = lambda r, v, op: _swap_rb(r, v, op) if op.params.get("kind") == "swapRB" else r.fail(op, "colour conversion not replayed")
_BY_STAGE[("colour", "torch.")] = _reverse_channels


def replay(side: str, ops, image: str, dims, final_state=None) -> list[Snapshot]:
    return Replayer(side, ops, image, dims, final_state).run()


def describe_ops(ops) -> list[str]:
    return [f"{op.stage}: {op.api} ({where(op) or '?'})" for op in ops]


__all__ = ["Replayer", "ReplayError", "replay", "where", "describe_ops"]
