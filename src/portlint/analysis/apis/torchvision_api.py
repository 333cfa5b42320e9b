"""torchvision.transforms semantics (torchvision 0.29; facts in tests/test_api_facts.py):
Resize(int) resizes the shorter side keeping the aspect ratio (long side truncated with int()),
Resize((h, w)) is a fixed size; default interpolation BILINEAR; PIL inputs are resized by PIL
(antialiased); tensor inputs antialias by default (antialias=True). CenterCrop offsets are
int(round((h - ch) / 2)). ToTensor divides uint8 by 255 and makes CHW float32."""

from __future__ import annotations

from portlint.analysis import affine
from portlint.analysis.apis.common import Ctx, dtype_name, handles, normalized
from portlint.analysis.apis.constants import PIL_INTERP, TV_INTERP
from portlint.analysis.image import Img
from portlint.analysis.ops import Colour, Crop, Dtype, Layout, Normalize, Op, Other, Pad, Resize
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Sym, numeric_op

T = "torchvision.transforms."
F = "torchvision.transforms.functional."


def _interp_name(value):
    if isinstance(value, ApiRef):
        return TV_INTERP.get(value.qname) or TV_INTERP.get(value.qname.replace("functional.", ""))
    if isinstance(value, int):
        return PIL_INTERP.get(value)
    return None


def resized_size(h, w, size, max_size=None):
    """torchvision's _compute_resized_output_size, symbolically."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return size[0], size[1], "fixed"
    if isinstance(size, (list, tuple)) and len(size) == 1:
        size = size[0]
    if not isinstance(size, (int, Sym)):
        return UNKNOWN, UNKNOWN, "unknown"
    w_le_h = Sym("le", (w, h)) if isinstance(w, Sym) or isinstance(h, Sym) else (w <= h if isinstance(w, (int, float)) and isinstance(h, (int, float)) else UNKNOWN)
    if w_le_h is UNKNOWN:
        return UNKNOWN, UNKNOWN, "shorter"
    # short = w if w <= h else h ; long = h if w <= h else w
    if isinstance(w_le_h, bool):
        short, long_ = (w, h) if w_le_h else (h, w)
        new_long = numeric_op("int", numeric_op("truediv", numeric_op("mul", size, long_), short))
        return (new_long, size, "shorter") if w_le_h else (size, new_long, "shorter")
    short = Sym("ifelse", (w_le_h, w, h))
    long_ = Sym("ifelse", (w_le_h, h, w))
    new_long = Sym("int", (Sym("truediv", (Sym("mul", (size, long_)), short)),))
    new_h = Sym("ifelse", (w_le_h, new_long, size))
    new_w = Sym("ifelse", (w_le_h, size, new_long))
    return new_h, new_w, "shorter"


def apply_resize(ctx: Ctx, img: Img, size, interpolation, interp_given, antialias, max_size=None, api=None, size_node=None):
    h, w = img.state.size
    out_h, out_w, mode = resized_size(h, w, size, max_size)
    interp = _interp_name(interpolation) if interpolation is not None else "bilinear"
    if img.state.kind == "pil":
        aa = interp not in ("nearest", None)
        library = "pil"
    else:
        aa = antialias if isinstance(antialias, bool) else True
        aa = aa and interp in ("bilinear", "bicubic")
        library = "torch"
    op = Resize(api or ctx.qname, ctx.site, library=library, through="torchvision", out=(out_h, out_w), in_=(h, w),
                interp=interp, interp_given=interp_given, antialias=aa, mode=mode, order="hw", size_arg=size,
                max_size=max_size, size_node=size_node)
    return img.evolve(op, size=(out_h, out_w))


def _construct_arg(t: ApiObject, index: int, name: str):
    """The libcst Arg node of a transform's constructor argument (for fixes)."""
    import libcst as cst

    node = t.site.node if t.site is not None else None
    if type(node) is not cst.Call:
        return None
    positional = [a for a in node.args if a.keyword is None and not a.star]
    for a in node.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    return positional[index] if index < len(positional) else None


def center_crop(ctx_site, api, img: Img, size):
    if isinstance(size, int) or isinstance(size, Sym):
        ch, cw = size, size
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        ch, cw = size
    elif isinstance(size, (list, tuple)) and len(size) == 1:
        ch = cw = size[0]
    else:
        ch = cw = UNKNOWN
    h, w = img.state.size
    top = numeric_op("int", numeric_op("round", numeric_op("truediv", numeric_op("sub", h, ch), 2.0)))
    left = numeric_op("int", numeric_op("round", numeric_op("truediv", numeric_op("sub", w, cw), 2.0)))
    op = Crop(api, ctx_site, library="torchvision", top=top, left=left, height=ch, width=cw, in_=(h, w), style="center")
    return img.evolve(op, size=(ch, cw))


def _conversion_scale(op: Op, scale: float) -> Normalize:
    """The /255 (or *255) a conversion does as part of its own call."""
    return Normalize(op.api, op.site, library="torchvision", by_conversion=True, scale=scale, offset=0.0)


def to_tensor(img: Img, op: Layout, scale: bool):
    st = img.state
    layout = "CHW" if (st.layout in (None, "HWC") or st.kind == "pil") else st.layout
    out = img.evolve(op, kind="tensor", layout=layout, dtype="float32" if scale else st.dtype)
    if scale and st.dtype in ("uint8", None):
        out = normalized(out, _conversion_scale(op, 1 / 255))
    return out


def normalize(img: Img, mean, std, api: str, site):
    n = len(img.state.channels) if img.state.channels else 3
    scale, offset = affine.of_mean_std(mean, std, n) or (None, None)
    return normalized(img, Normalize(api, site, library="torchvision", mean=mean, std=std, scale=scale, offset=offset))


def _to_pil(img: Img, op: Layout):
    st = img.state
    out = img.evolve(op, kind="pil", layout=None, dtype="uint8")
    if st.kind == "tensor" and st.dtype not in ("uint8",):
        out = normalized(out, _conversion_scale(op, 255.0))
    return out


# ------------------------------------------------------------- transform objects
def apply_transform(ctx: Ctx, t: ApiObject, img):
    if not isinstance(img, Img):
        return UNKNOWN
    name = t.qname[len(T):] if t.qname.startswith(T) else t.qname
    a, k = t.args, t.kwargs

    def arg(i, key, default=UNKNOWN):
        if key in k:
            return k[key]
        return a[i] if i < len(a) else default

    site = t.site or ctx.site
    if name == "Resize":
        interp = arg(1, "interpolation", None)
        return apply_resize(Ctx(ctx.interp, site, [], {}, qname=t.qname), img, arg(0, "size"), interp, interp is not None,
                            arg(3, "antialias", True), arg(2, "max_size", None), api=t.qname, size_node=_construct_arg(t, 0, "size"))
    if name == "CenterCrop":
        return center_crop(site, t.qname, img, arg(0, "size"))
    if name == "ToTensor":
        return to_tensor(img, Layout(t.qname, site, library="torchvision", kind="to_tensor", to="CHW"), scale=True)
    if name in ("PILToTensor", "ToImage", "ToImageTensor"):
        return to_tensor(img, Layout(t.qname, site, library="torchvision", kind="pil_to_tensor", to="CHW"), scale=False)
    if name in ("ConvertImageDtype", "ToDtype"):
        dt = dtype_name(arg(0, "dtype"))
        scale = name == "ConvertImageDtype" or arg(1, "scale", False) is True
        rescale = bool(scale and img.state.dtype == "uint8" and dt and dt.startswith("float"))
        op = Dtype(t.qname, site, to=dt, rescale=rescale)
        out = img.evolve(op, dtype=dt)
        return normalized(out, _conversion_scale(op, 1 / 255)) if rescale else out
    if name == "Normalize":
        return normalize(img, arg(0, "mean"), arg(1, "std"), t.qname, site)
    if name == "ToPILImage":
        return _to_pil(img, Layout(t.qname, site, library="torchvision", kind="to_pil", to="PIL"))
    if name == "Lambda":
        return ctx.interp.call(arg(0, "lambd"), [img], {}, site)
    if name == "Compose":
        for step in arg(0, "transforms", []) if isinstance(arg(0, "transforms", []), (list, tuple)) else []:
            img = call_transform(ctx, step, img)
            if not isinstance(img, Img):
                return UNKNOWN
        return img
    if name == "Grayscale":
        op = Colour(t.qname, site, library="torchvision", kind="gray")
        return img.evolve(op, channels=("Y",) * (arg(0, "num_output_channels", 1) or 1), affine=None)
    if name == "Pad":
        op = Pad(t.qname, site, library="torchvision", padding=arg(0, "padding"), value=arg(1, "fill", 0), placement="explicit")
        return img.evolve(op, size=(UNKNOWN, UNKNOWN))
    return img.evolve(Other(t.qname, site))


def call_transform(ctx: Ctx, step, img):
    if isinstance(step, ApiObject) and step.qname.startswith(T):
        return apply_transform(ctx, step, img)
    return ctx.interp.call(step, [img], {}, ctx.site)


@handles(*(T + n + ".__call__" for n in (
    "Compose", "Resize", "CenterCrop", "ToTensor", "PILToTensor", "ConvertImageDtype", "Normalize", "ToPILImage",
    "Lambda", "Grayscale", "Pad", "ToImage", "ToDtype", "RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter")))
def _transform_call(ctx: Ctx):
    return apply_transform(ctx, ctx.args[0], ctx.arg(1, "img"))


@handles(T + "Compose.forward")
def _forward(ctx: Ctx):
    return apply_transform(ctx, ctx.args[0], ctx.arg(1, "img"))


# ------------------------------------------------------------- functional API
@handles(F + "resize")
def _f_resize(ctx: Ctx):
    img = ctx.arg(0, "img")
    if not isinstance(img, Img):
        return UNKNOWN
    interp = ctx.arg(2, "interpolation", None)
    return apply_resize(ctx, img, ctx.arg(1, "size"), interp, interp is not None, ctx.arg(4, "antialias", True),
                        ctx.arg(3, "max_size", None), size_node=ctx.arg_node(1, "size"))


@handles(F + "center_crop")
def _f_center_crop(ctx: Ctx):
    img = ctx.arg(0, "img")
    return center_crop(ctx.site, ctx.qname, img, ctx.arg(1, "output_size")) if isinstance(img, Img) else UNKNOWN


@handles(F + "crop")
def _f_crop(ctx: Ctx):
    img = ctx.arg(0, "img")
    if not isinstance(img, Img):
        return UNKNOWN
    top, left, hh, ww = (ctx.arg(i, n) for i, n in ((1, "top"), (2, "left"), (3, "height"), (4, "width")))
    op = ctx.op(Crop, library="torchvision", top=top, left=left, height=hh, width=ww, in_=img.state.size, style="box")
    return img.evolve(op, size=(hh, ww))


@handles(F + "to_tensor")
def _f_to_tensor(ctx: Ctx):
    img = ctx.arg(0, "pic")
    op = ctx.op(Layout, library="torchvision", kind="to_tensor", to="CHW")
    return to_tensor(img, op, scale=True) if isinstance(img, Img) else UNKNOWN


@handles(F + "pil_to_tensor", F + "to_image")
def _f_pil_to_tensor(ctx: Ctx):
    img = ctx.arg(0, "pic")
    op = ctx.op(Layout, library="torchvision", kind="pil_to_tensor", to="CHW")
    return to_tensor(img, op, scale=False) if isinstance(img, Img) else UNKNOWN


@handles(F + "normalize")
def _f_normalize(ctx: Ctx):
    img = ctx.arg(0, "tensor")
    if not isinstance(img, Img):
        return UNKNOWN
    mean, std = ctx.arg(1, "mean"), ctx.arg(2, "std")
    return normalize(img, mean, std, ctx.qname, ctx.site)


@handles(F + "to_pil_image")
def _f_to_pil(ctx: Ctx):
    img = ctx.arg(0, "pic")
    op = ctx.op(Layout, library="torchvision", kind="to_pil", to="PIL")
    return _to_pil(img, op) if isinstance(img, Img) else UNKNOWN


@handles(F + "convert_image_dtype", F + "to_dtype")
def _f_convert(ctx: Ctx):
    img = ctx.arg(0, "image")
    if not isinstance(img, Img):
        return UNKNOWN
    dt = dtype_name(ctx.arg(1, "dtype")) or "float32"
    scale = ctx.qname.endswith("convert_image_dtype") or ctx.arg(2, "scale", False) is True
    rescale = bool(scale and img.state.dtype == "uint8" and dt.startswith("float"))
    op = ctx.op(Dtype, to=dt, rescale=rescale)
    out = img.evolve(op, dtype=dt)
    return normalized(out, _conversion_scale(op, 1 / 255)) if rescale else out
