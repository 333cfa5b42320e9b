"""numpy semantics: constant arrays, canvases (np.zeros/ones/full), and what array operations do
to an image: arithmetic (as per-channel affine maps), slicing ([..., ::-1], crops), transpose,
astype, expand_dims, stack. Broadcasting follows numpy's right-aligned rule (numpy docs,
"Broadcasting"), which decides whether a 3-vector constant lands on the channel axis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from portlint.analysis import affine
from portlint.analysis.apis.common import (
    Ctx, dtype_name, handles, normalized, permute_channels, set_dtype, set_layout, shape_of,
)
from portlint.analysis.image import Img
from portlint.analysis.ops import Batch, Colour, Crop, Dtype, Layout, Normalize, Pad
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Seq, Sym, numeric_op


@dataclass(frozen=True)
class ConstArray:
    """A numpy array of known numbers (mean/std tables and the like), flattened row-major."""

    data: tuple
    shape: tuple

    def as_channel_vector(self, axis_from_right: int) -> Optional[tuple]:
        """The 3 (or n) per-channel values if this array broadcasts along one axis only."""
        nontrivial = [i for i, d in enumerate(self.shape) if d != 1]
        if not nontrivial:
            return None
        if len(nontrivial) != 1:
            return None
        pos_from_right = len(self.shape) - 1 - nontrivial[0]
        return self.data if pos_from_right == axis_from_right else None


@dataclass(frozen=True)
class Canvas:
    """An array made by np.zeros/ones/full/empty: a shape and one fill value."""

    shape: Any
    fill: Any
    dtype: Optional[str]


def _flatten(value):
    if isinstance(value, (list, tuple)):
        out, shape = [], None
        for v in value:
            flat, sub = _flatten(v)
            if flat is None or (shape is not None and sub != shape):
                return None, None
            shape = sub
            out.extend(flat)
        return out, (len(value),) + (shape or ())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)], ()
    if isinstance(value, ConstArray):
        return list(value.data), value.shape
    return None, None


def to_const(value) -> Optional[ConstArray]:
    if isinstance(value, ConstArray):
        return value
    if isinstance(value, (list, tuple)):
        flat, shape = _flatten(value)
        if flat is not None:
            return ConstArray(tuple(flat), shape)
    return None


def const_arith(op: str, left, right):
    lc, rc = to_const(left), to_const(right)
    if isinstance(left, (int, float)) and rc is not None:
        vals = [numeric_op(op, left, v) for v in rc.data]
        shape = rc.shape
    elif isinstance(right, (int, float)) and lc is not None:
        vals = [numeric_op(op, v, right) for v in lc.data]
        shape = lc.shape
    elif lc is not None and rc is not None and lc.shape == rc.shape:
        vals = [numeric_op(op, a, b) for a, b in zip(lc.data, rc.data)]
        shape = lc.shape
    else:
        return UNKNOWN
    if any(not isinstance(v, (int, float)) for v in vals):
        return UNKNOWN
    return ConstArray(tuple(float(v) for v in vals), shape)


def const_subscript(arr: ConstArray, index):
    if len(arr.shape) == 1 and isinstance(index, int) and -len(arr.data) <= index < len(arr.data):
        return arr.data[index]
    parts = index if isinstance(index, tuple) else (index,)
    if any(p is None for p in parts) and all(p is None or _is_full(p) for p in parts):
        # mean[None, :, None, None]: new axes of length 1 around the full ones
        full = [p for p in parts if p is not None]
        if len(full) <= len(arr.shape):
            dims, it = [], iter(arr.shape)
            for p in parts:
                dims.append(1 if p is None else next(it))
            dims.extend(it)
            return ConstArray(arr.data, tuple(dims))
    return UNKNOWN


def canvas_arith(op, left, right):
    canvas, other = (left, right) if isinstance(left, Canvas) else (right, left)
    if isinstance(other, (int, float)) and isinstance(canvas.fill, (int, float)):
        fill = numeric_op(op, canvas.fill, other) if canvas is left else numeric_op(op, other, canvas.fill)
        return Canvas(canvas.shape, fill, canvas.dtype if canvas.dtype != "uint8" else "float64")
    return UNKNOWN


# ----------------------------------------------------------------- image arithmetic
_CHANNEL_AXIS_FROM_RIGHT = {"HWC": 0, "NHWC": 0, "CHW": 2, "NCHW": 2}


def _per_channel(img: Img, value):
    """A scalar, or per-memory-channel tuple, or None when the constant does not broadcast per channel."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Sym):
        return None
    const = to_const(value)
    if const is None:
        return None
    if all(d == 1 for d in const.shape):
        return const.data[0]
    layout = img.state.layout
    axis = _CHANNEL_AXIS_FROM_RIGHT.get(layout)
    if axis is None and layout and layout.count("C") == 1 and len(layout) > 4:
        axis = len(layout) - 1 - layout.index("C")  # a clip (NCTHW as NCNHW, NNCNHW): the C axis from the right
    if axis is None:
        return None
    vec = const.as_channel_vector(axis)
    n = len(img.state.channels) if img.state.channels else 3
    if vec is None or len(vec) != n:
        return None
    return tuple(vec)


def _result_dtype(img: Img, op: str, value) -> Optional[str]:
    dt = img.state.dtype
    if dt in ("uint8", "int8", "int32", "int64", None):
        if op == "truediv" or isinstance(value, float) or isinstance(value, (list, tuple, ConstArray)):
            return "float64" if img.state.kind == "ndarray" else "float32"
    return dt


def image_arith(interp, op: str, left, right, site):
    img, other, img_left = (left, right, True) if isinstance(left, Img) else (right, left, False)
    if isinstance(other, Img):
        return Img(img.state) if op in ("mul", "add") else UNKNOWN
    v = _per_channel(img, other)
    scale, offset = (affine.of_operator(op, v, img_left) if v is not None else None) or (None, None)
    node_op = Normalize(f"numpy.{op}", site, library="numpy", scale=scale, offset=offset, arith=op,
                        operand=_operand(other), image_left=img_left, layout=img.state.layout)
    return normalized(img, node_op, dtype=_result_dtype(img, op, other))


def _operand(value):
    """The constant as replay applies it: a number, a flattened tuple of up to 8, else UNKNOWN."""
    c = to_const(value)
    if c is not None:
        return c.data if len(c.data) <= 8 else UNKNOWN
    return value if isinstance(value, (int, float)) else UNKNOWN


# ----------------------------------------------------------------- slicing and layout
def _is_full(s) -> bool:
    return isinstance(s, slice) and s.start is None and s.stop is None and s.step is None


def _is_reverse(s) -> bool:
    return isinstance(s, slice) and s.start is None and s.stop is None and s.step == -1


def slice_image(interp, img: Img, index, site):
    layout = img.state.layout or ""
    parts = index if isinstance(index, tuple) else (index,)
    # expand a leading Ellipsis to full slices
    if parts and parts[0] is Ellipsis:
        parts = (slice(None),) * (len(layout) - (len(parts) - 1)) + tuple(parts[1:])
    if any(p is None for p in parts):  # np.newaxis
        if parts[0] is None and all(_is_full(p) or p is Ellipsis for p in parts[1:]):
            return set_layout(img, "N" + layout if layout and "N" not in layout else None, Batch("numpy.newaxis", site))
        return UNKNOWN
    if not layout:
        if len(parts) == 1 and _is_reverse(parts[0]):  # reversing an axis of unknown meaning
            return img.evolve(Colour("numpy.reverse", site, library="numpy", kind="reverse"), channels=None)
        return UNKNOWN
    axes = list(layout)
    if len(parts) > len(axes):
        return UNKNOWN
    # channel reversal
    c_axis = axes.index("C") if "C" in axes else None
    rev = [i for i, p in enumerate(parts) if _is_reverse(p)]
    if rev and c_axis is not None and rev == [c_axis] and all(_is_full(p) for i, p in enumerate(parts) if i != c_axis):
        n = len(img.state.channels) if img.state.channels else 3
        op = Colour("numpy.reverse_channels", site, library="numpy", kind="reverse_channels", axis=c_axis)
        return permute_channels(img, tuple(range(n - 1, -1, -1)), op)
    # channel permutation by a list of indices: x[:, (2, 1, 0), :, :], x[..., [2, 1, 0]]
    perm = [i for i, p in enumerate(parts) if isinstance(p, (tuple, list))]
    if perm and c_axis is not None and perm == [c_axis] and all(_is_full(p) for i, p in enumerate(parts) if i != c_axis):
        order = tuple(parts[c_axis])
        n = len(img.state.channels) if img.state.channels else 3
        if all(isinstance(i, int) and not isinstance(i, bool) for i in order) and sorted(order) == list(range(n)):
            op = Colour("numpy.index_channels", site, library="numpy", kind="permute", axis=c_axis)
            return permute_channels(img, order, op)
        return UNKNOWN
    # batch index: x[0] on N...
    if axes[0] == "N" and isinstance(parts[0], int) and all(_is_full(p) for p in parts[1:]):
        return set_layout(img, layout[1:], Batch("numpy.index_batch", site, add=False))
    if axes[0] == "N" and isinstance(parts[0], slice) and all(_is_full(p) for p in parts[1:]):
        return img
    # spatial crop on H, W
    if "H" in axes and "W" in axes:
        hi, wi = axes.index("H"), axes.index("W")
        spatial = {hi: parts[hi] if hi < len(parts) else slice(None), wi: parts[wi] if wi < len(parts) else slice(None)}
        others_full = all(_is_full(p) for i, p in enumerate(parts) if i not in spatial)
        if others_full and all(isinstance(s, slice) and s.step in (None, 1) for s in spatial.values()) and not all(_is_full(s) for s in spatial.values()):
            h, w = img.state.size
            y0, y1 = _bounds(spatial[hi], h)
            x0, x1 = _bounds(spatial[wi], w)
            ch, cw = numeric_op("sub", y1, y0), numeric_op("sub", x1, x0)
            op = Crop("numpy.slice", site, library="numpy", top=y0, left=x0, height=ch, width=cw, in_=(h, w), style="slice")
            return img.evolve(op, size=(ch, cw))
    if all(_is_full(p) for p in parts):
        return img
    return UNKNOWN


def _bounds(s: slice, extent):
    start = 0 if s.start is None else s.start
    stop = extent if s.stop is None else s.stop
    return start, stop


def transpose_layout(layout: Optional[str], axes) -> Optional[str]:
    if not layout or not isinstance(axes, (list, tuple)) or len(axes) != len(layout):
        return None
    if not all(isinstance(a, int) for a in axes):
        return None
    try:
        return "".join(layout[a] for a in axes)
    except IndexError:
        return None


def transpose(img: Img, axes, site, api="numpy.transpose"):
    new = transpose_layout(img.state.layout, axes)
    library = "torch" if api.startswith("torch.") else "numpy"
    return set_layout(img, new, Layout(api, site, library=library, kind="transpose", axes=axes, frm=img.state.layout, to=new))


def first_image(values) -> Optional[Img]:
    """The image of a list of a batch's elements (a list filled in branches the analyser could not
    decide holds an unknown element next to the image)."""
    for v in values:
        if isinstance(v, Img):
            return v
    return None


def drop_batch(img: Img):
    layout = img.state.layout
    if layout and layout.startswith("N"):
        return Img(img.state.__class__(**{**img.state.__dict__, "layout": layout[1:]}))
    return img


def add_batch(img: Img, site, api):
    layout = img.state.layout
    new = "N" + layout if layout and not layout.startswith("N") else (layout if layout else None)
    return set_layout(img, new, Batch(api, site))


def store_into(interp, container, index, value, site):
    if isinstance(value, Seq) and isinstance(value.elem, Img):
        value = add_batch(value.elem, site, "numpy.stack")
    if not isinstance(value, Img):
        return None
    if isinstance(container, ApiObject) and container.qname.startswith("sophon.sail.BMImageArray"):
        container.attrs["__image__"] = value  # arr[i] = img.data(): one geometry for the batch
        return None
    if isinstance(container, Canvas) or container is UNKNOWN:
        shape = container.shape if isinstance(container, Canvas) else UNKNOWN
        parts = index if isinstance(index, tuple) else (index,)
        layout = value.state.layout or ""
        if layout.startswith("N"):
            return value
        if isinstance(container, Canvas) and isinstance(shape, (tuple, list)) and len(shape) == len(layout) and "H" in layout and "W" in layout:
            hi, wi = layout.index("H"), layout.index("W")
            full = tuple(parts) + (slice(None),) * (len(layout) - len(parts))
            ys, xs = full[hi], full[wi]
            others_full = all(isinstance(p, slice) and p.start in (None, 0) and p.stop is None for i, p in enumerate(full) if i not in (hi, wi))
            if others_full and isinstance(ys, slice) and isinstance(xs, slice) and ys.start in (None, 0) and xs.start in (None, 0):
                h, w = value.state.size
                H, W = shape[hi], shape[wi]
                op = Pad("numpy.canvas", site, library="numpy", top=0, left=0, bottom=numeric_op("sub", H, h),
                         right=numeric_op("sub", W, w), value=container.fill, placement="top-left", in_=(h, w), out=(H, W))
                return value.evolve(op, size=(H, W))
        return value
    return None


def _img_arg(ctx: Ctx, i=0, name=None):
    v = ctx.arg(i, name)
    return v if isinstance(v, Img) else None


@handles("numpy.transpose")
def _np_transpose(ctx: Ctx):
    img = _img_arg(ctx, 0, "a")
    axes = ctx.arg(1, "axes")
    if img is None:
        return UNKNOWN
    return transpose(img, axes, ctx.site)


@handles("numpy.ndarray.transpose")
def _arr_transpose(ctx: Ctx):
    img = ctx.args[0]
    axes = ctx.args[1] if len(ctx.args) == 2 else tuple(ctx.args[1:])
    return transpose(img, axes, ctx.site, "numpy.ndarray.transpose")


@handles("numpy.ndarray.astype", "numpy.ndarray.__astype__")
def _astype(ctx: Ctx):
    img = ctx.args[0]
    dt = dtype_name(ctx.arg(1, "dtype"))
    return set_dtype(img, dt, Dtype("numpy.ndarray.astype", ctx.site, frm=img.state.dtype, to=dt))


@handles("numpy.float32", "numpy.float64", "numpy.uint8")
def _np_cast(ctx: Ctx):
    img = _img_arg(ctx)
    if img is None:
        v = ctx.arg(0)
        if isinstance(v, ConstArray) and ctx.qname != "numpy.uint8":  # np.float64(mean.reshape(1, -1)) (mmcv imnormalize_)
            return ConstArray(tuple(float(x) for x in v.data), v.shape)
        return float(v) if isinstance(v, (int, float)) else UNKNOWN
    dt = ctx.qname.rsplit(".", 1)[-1]
    return set_dtype(img, dt, ctx.op(Dtype, frm=img.state.dtype, to=dt))


@handles("numpy.ascontiguousarray", "numpy.ndarray.copy", "numpy.copy", "numpy.clip", "numpy.ndarray.clip",
         "numpy.round", "numpy.ndarray.round", "numpy.require")
def _passthrough(ctx: Ctx):
    img = _img_arg(ctx)
    if img is None:
        return UNKNOWN
    dt = dtype_name(ctx.arg(None, "dtype"))
    if dt:
        return set_dtype(img, dt, ctx.op(Dtype, frm=img.state.dtype, to=dt))
    return img


@handles("numpy.array", "numpy.asarray", "numpy.asanyarray")
def _np_array(ctx: Ctx):
    v = ctx.arg(0, "object" if ctx.qname.endswith("array") else "a")
    dt = dtype_name(ctx.arg(1, "dtype", None))
    if isinstance(v, Img):
        img = v
        if img.state.kind == "pil":
            st = img.state
            layout = "HWC" if st.channels and len(st.channels) > 1 else "HW"
            img = Img(st.__class__(**{**st.__dict__, "kind": "ndarray", "layout": layout, "dtype": st.dtype or "uint8"}))
            img = img.evolve(ctx.op(Layout, library="numpy", kind="from_pil", frm="PIL", to=layout))
        elif img.state.kind == "tensor":
            img = Img(img.state.__class__(**{**img.state.__dict__, "kind": "ndarray"}))
        if dt:
            img = set_dtype(img, dt, ctx.op(Dtype, frm=img.state.dtype, to=dt))
        return img
    if isinstance(v, Seq) and isinstance(v.elem, Img):
        return add_batch(v.elem, ctx.site, ctx.qname)
    if isinstance(v, list) and v and all(isinstance(x, Img) for x in v):
        return add_batch(v[0], ctx.site, ctx.qname)
    const = to_const(v)
    if const is None and isinstance(v, (list, tuple)) and 0 < len(v) <= 8 and ctx.qname == "numpy.array" and \
            all(isinstance(x, (int, float, Sym)) and not isinstance(x, bool) for x in v):
        return tuple(v)  # a box of image sizes (`np.array([left, top, right, bottom])`): its entries, unpacked later
    return const if const is not None else UNKNOWN


@handles("numpy.ndarray.reshape", "constarray.reshape", "constarray.view",  # torch.Tensor.view of a table: a reshape
         "torch.Tensor.view", "torch.Tensor.reshape")
def _reshape(ctx: Ctx):
    target = ctx.args[0]
    shape = ctx.args[1] if len(ctx.args) == 2 else tuple(ctx.args[1:])
    if isinstance(target, ConstArray) and isinstance(shape, (tuple, list)) and all(isinstance(d, int) for d in shape):
        shape = tuple(shape)
        if -1 in shape:
            known = math.prod(d for d in shape if d != -1)
            if known == 0:
                return UNKNOWN  # numpy raises: a -1 beside a zero dimension is ambiguous
            shape = tuple(len(target.data) // known if d == -1 else d for d in shape)
        if math.prod(shape) == len(target.data):
            return ConstArray(target.data, shape)
    if isinstance(target, Img):
        torch = ctx.qname.startswith("torch.")
        if not torch and isinstance(shape, (tuple, list)) and len(shape) == len(target.state.layout or "") + 1 and shape[0] == 1:
            return add_batch(target, ctx.site, "numpy.ndarray.reshape")
        layout = reshaped_layout(target, shape)
        if layout is None and torch:
            return UNKNOWN  # a tensor view: followed only where its layout is known
        op = Layout(ctx.qname if torch else "numpy.ndarray.reshape", ctx.site, library="torch" if torch else "numpy",
                    kind="reshape", shape=shape)
        return Img(target.state.__class__(**{**target.state.__dict__, "layout": layout})).evolve(op)
    return UNKNOWN


def _same_extent(a, b) -> bool:
    if a is UNKNOWN or b is UNKNOWN:
        return False
    try:
        return a is b or bool(a == b)
    except Exception:
        return False


def reshaped_layout(img: Img, shape) -> Optional[str]:
    """The layout after a reshape that only splits or merges leading batch-like axes (N: images,
    clips, frames), keeping the trailing axes: `(-1, clips, T) + x.shape[1:]` of NHWC frames is
    NNNHWC, `(-1,) + x.shape[2:]` of NNCNHW is NCNHW. Each kept axis must have the extent it had
    (a C, H or W axis a known one; an N axis an unknown one on both sides), and every axis the
    reshape touches must be batch-like; otherwise None (the layout is not known)."""
    layout = img.state.layout
    old = shape_of(img)
    if not layout or not isinstance(old, tuple) or not isinstance(shape, (tuple, list)):
        return None
    k = 0
    while k < min(len(old), len(shape)):
        axis, a, b = layout[-1 - k], old[-1 - k], shape[-1 - k]
        if axis == "N" and not (a is UNKNOWN and b is UNKNOWN) and not _same_extent(a, b):
            break
        if axis != "N" and not _same_extent(a, b):
            break
        k += 1
    kept = layout[len(layout) - k:]
    if not k or any(a != "N" for a in layout[: len(layout) - k]) or all(a == "N" for a in kept):
        return None
    return "N" * (len(shape) - k) + kept


@handles("numpy.reshape")
def _np_reshape(ctx: Ctx):
    ctx2 = Ctx(ctx.interp, ctx.site, [ctx.arg(0, "a"), ctx.arg(1, "newshape")], {}, ctx.frame, ctx.node, ctx.qname)
    return _reshape(ctx2)


@handles("numpy.expand_dims")
def _expand_dims(ctx: Ctx):
    img = _img_arg(ctx, 0, "a")
    axis = ctx.arg(1, "axis")
    if img is None:
        return UNKNOWN
    if axis == 0:
        return add_batch(img, ctx.site, ctx.qname)
    return Img(img.state.__class__(**{**img.state.__dict__, "layout": None}))


@handles("numpy.stack", "numpy.array_stack", "numpy.vstack", "numpy.concatenate")
def _stack(ctx: Ctx):
    v = ctx.arg(0, "arrays")
    axis = ctx.arg(1, "axis", 0)
    elem = None
    if isinstance(v, Seq) and isinstance(v.elem, Img):
        elem = v.elem
    elif isinstance(v, (list, tuple)):
        elem = first_image(v)
    if elem is None:
        return UNKNOWN
    if ctx.qname.endswith("concatenate") or ctx.qname.endswith("vstack"):
        return elem if (elem.state.layout or "").startswith("N") else UNKNOWN
    if axis != 0:
        return UNKNOWN
    return add_batch(elem, ctx.site, ctx.qname)


@handles("numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full", "numpy.zeros_like", "numpy.ones_like", "numpy.full_like")
def _canvas(ctx: Ctx):
    name = ctx.qname.rsplit(".", 1)[-1]
    shape = ctx.arg(0, "shape")
    if name.endswith("_like"):
        ref = ctx.arg(0, "a")
        shape = shape_of(ref) if isinstance(ref, Img) else UNKNOWN
    fill = {"zeros": 0, "ones": 1, "empty": UNKNOWN}.get(name.replace("_like", ""), None)
    if fill is None:
        fill = ctx.arg(1, "fill_value")
    dt = dtype_name(ctx.arg(2 if name.startswith("full") else 1, "dtype", "float64")) or "float64"
    return Canvas(tuple(shape) if isinstance(shape, (list, tuple)) else shape, fill, dt)


@handles("canvas.astype")
def _canvas_astype(ctx: Ctx):
    c = ctx.args[0]
    return Canvas(c.shape, c.fill, dtype_name(ctx.arg(1, "dtype")))


@handles("numpy.fromfile", "numpy.frombuffer")
def _fromfile(ctx: Ctx):
    return ApiObject("numpy.filebuffer", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


@handles("numpy.ndarray.@shape")
def _shape(img: Img):
    return shape_of(img)


@handles("numpy.ndarray.@T")
def _T(img: Img):
    return Img(img.state.__class__(**{**img.state.__dict__, "layout": img.state.layout[::-1] if img.state.layout else None}))


@handles("numpy.ndarray.@ndim")
def _ndim(img: Img):
    return len(img.state.layout) if img.state.layout else UNKNOWN


@handles("numpy.ndarray.@dtype")
def _dtype(img: Img):
    return ApiRef(f"numpy.{img.state.dtype}") if img.state.dtype else UNKNOWN


@handles("constarray.@shape")
def _const_shape(c: ConstArray):
    return c.shape

