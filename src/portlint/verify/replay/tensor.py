"""Layout, batch and dtype steps replayed: torchvision's conversions called for real, numpy and
torch transposes and reshapes, PIL <-> array, the NCHW tensors of blobFromImage and SAIL."""

from __future__ import annotations

import numpy as np

from portlint.analysis import affine
from portlint.analysis.ops import Batch, Dtype, Layout
from portlint.verify.replay.common import as_array, as_tensor, torch_module
from portlint.verify.values import V, guess_layout, is_pil, is_torch, to_numpy


def layout(r, v, op: Layout) -> V:
    kind = op.kind
    if kind == "to_tensor":
        return _to_tensor(r, v, op)
    if kind == "pil_to_tensor":
        return _pil_to_tensor(r, v, op)
    if kind == "to_pil":
        return _to_pil(r, v, op) if op.library == "torchvision" else _fromarray(r, v, op)
    if kind == "from_pil":
        return _np_array(r, v, op)
    if kind == "transpose":
        return _transpose(r, v, op)
    if kind == "reshape":
        return _reshape(r, v, op)
    if kind == "to_nchw":
        return _to_nchw(r, v, op)
    r.fail(op, "layout change by this API is not replayed")


def _to_tensor(r, v, op: Layout) -> V:
    from torchvision.transforms import functional as TF

    x = v.data
    if not is_pil(x):
        x = as_array(x)
        if x.ndim == 3 and v.layout == "CHW":
            x = np.transpose(x, (1, 2, 0))
    scaled = (is_pil(x) and x.mode in ("RGB", "L", "RGBA")) or (isinstance(x, np.ndarray) and x.dtype == np.uint8)
    out = TF.to_tensor(x)
    aff = affine.compose(v.affine, 1 / 255, 0.0) if scaled else v.affine
    return v.but(data=out, layout="CHW", affine=aff)


def _pil_to_tensor(r, v, op: Layout) -> V:
    from torchvision.transforms import functional as TF

    x = v.data
    if is_pil(x):
        return v.but(data=TF.pil_to_tensor(x), layout="CHW")
    arr = as_array(x)
    if arr.ndim == 3 and v.layout != "CHW":
        arr = np.transpose(arr, (2, 0, 1))
    return v.but(data=as_tensor(np.ascontiguousarray(arr)), layout="CHW")


def _transpose(r, v, op: Layout) -> V:
    axes = op.axes
    if isinstance(axes, list):
        axes = tuple(axes)
    if not isinstance(axes, tuple) or not all(isinstance(a, int) for a in axes):
        r.fail(op, "the axes are not known statically")
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    out = x.permute(*axes) if is_torch(x) else np.transpose(x, axes)
    new = op.to
    cur = v.layout if v.layout != "PIL" else ("HWC" if len(x.shape) == 3 else "HW")
    if cur and len(cur) == len(axes):
        new = "".join(cur[a] for a in axes)
    return v.but(data=out, layout=new)


def _fromarray(r, v, op: Layout) -> V:
    from PIL import Image

    arr = np.ascontiguousarray(as_array(v.data))
    if v.layout == "CHW":
        arr = np.ascontiguousarray(arr.transpose(1, 2, 0))
    return v.but(data=Image.fromarray(arr), layout="PIL")


def _np_array(r, v, op: Layout) -> V:
    arr = np.asarray(v.data) if is_pil(v.data) else as_array(v.data)
    new = v.layout
    if is_pil(v.data):
        new = "HWC" if arr.ndim == 3 else "HW"
    return v.but(data=arr, layout=new)


def _to_pil(r, v, op: Layout) -> V:
    from torchvision.transforms import functional as TF

    x = v.data
    floating = (is_torch(x) and x.is_floating_point()) or (isinstance(x, np.ndarray) and x.dtype.kind == "f")
    if isinstance(x, np.ndarray) and v.layout == "CHW":
        x = np.ascontiguousarray(x.transpose(1, 2, 0))
    out = TF.to_pil_image(x)
    aff = affine.compose(v.affine, 255.0, 0.0) if floating and is_torch(x) else v.affine
    return v.but(data=out, layout="PIL", affine=aff)


def _reshape(r, v, op: Layout) -> V:
    shape = op.shape
    x = v.data
    if shape is None:  # add_batch through reshape(1, ...)
        return _add_batch(r, v, op)
    shape = r.ev(op, tuple(shape) if isinstance(shape, list) else shape, "the shape")
    out = x.reshape(*shape) if is_torch(x) else np.reshape(as_array(x), shape)
    return v.but(data=out, layout=guess_layout(to_numpy(out)))


def _to_nchw(r, v, op: Layout) -> V:
    """bm_image_to_tensor (planar -> NCHW, packed -> NHWC) and blobFromImage's NCHW float32."""
    arr = as_array(v.data)
    new = v.layout
    if op.library == "cv2":  # blobFromImage
        if new == "HWC":
            arr, new = arr.transpose(2, 0, 1), "CHW"
        arr = arr.astype(np.float32)
    if new in ("CHW", "HWC"):
        return v.but(data=np.ascontiguousarray(arr[None]), layout="N" + new,
                     emulated=v.emulated or op.library == "sail")
    return v.but(data=arr)


# =========================================================================== batch
def batch(r, v, op: Batch) -> V:
    return _add_batch(r, v, op) if op.add else _index_batch(r, v, op)


def _add_batch(r, v, op) -> V:
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    out = x.unsqueeze(0) if is_torch(x) else np.expand_dims(x, 0)
    cur = v.layout if v.layout != "PIL" else ("HWC" if len(x.shape) == 3 else "HW")
    return v.but(data=out, layout=("N" + cur) if cur and not cur.startswith("N") else None)


def _index_batch(r, v, op: Batch) -> V:
    return v.but(data=v.data[0], layout=v.layout[1:] if v.layout and v.layout.startswith("N") else None)


# =========================================================================== dtype
_NP_DTYPES = {"float32": np.float32, "float64": np.float64, "uint8": np.uint8, "int8": np.int8,
              "float16": np.float16, "int32": np.int32, "int64": np.int64, "uint16": np.uint16}


def _cast(x, dt: str):
    if is_torch(x):
        return x.to(getattr(torch_module(), dt))
    return as_array(x).astype(_NP_DTYPES[dt])


def dtype(r, v, op: Dtype) -> V:
    dt = op.to
    if dt is None:
        return v.note(f"{op.api}: target dtype not known statically, value left as is")
    if dt not in _NP_DTYPES:
        r.fail(op, f"dtype {dt} is not replayed")
    x = v.data
    if is_pil(x):
        x = np.asarray(x)
    src_uint8 = (is_torch(x) and str(x.dtype) == "torch.uint8") or (isinstance(x, np.ndarray) and x.dtype == np.uint8)
    if op.rescale and src_uint8 and dt.startswith("float"):
        from torchvision.transforms import functional as TF

        out = TF.convert_image_dtype(as_tensor(x), getattr(torch_module(), dt))
        return v.but(data=out, affine=affine.compose(v.affine, 1 / 255, 0.0))
    return v.but(data=_cast(x, dt))
