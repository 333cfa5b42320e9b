"""OpenCV semantics. Facts (checked in tests/test_api_facts.py, rules/PL1xx.md):
imread/imdecode give BGR HWC uint8; IMREAD_COLOR (the imread default) applies EXIF orientation,
-1/IMREAD_UNCHANGED keeps alpha and ignores EXIF; resize takes dsize=(width, height), defaults to
INTER_LINEAR and never antialiases; copyMakeBorder pads (top, bottom, left, right)."""

from __future__ import annotations

from portlint.analysis.apis.common import Ctx, arg_sites, as_pair, handles, normalized, permute_channels, set_layout
from portlint.analysis.apis.constants import CV2_COLOR, CV2_INTERP
from portlint.analysis.image import Img, fresh_image
from portlint.analysis.ops import Colour, Decode, Layout, Normalize, Other, Pad, Resize
from portlint.analysis.values import UNKNOWN, ApiObject, OneOf, Sym, numeric_op


def _decode(ctx: Ctx, flag, api: str, source) -> Img:
    flag_value = flag if isinstance(flag, int) else (1 if flag is None else UNKNOWN)
    if flag_value == -1:
        channels, note = ("B", "G", "R"), "unchanged"
    elif flag_value == 0:
        channels, note = ("Y",), "grayscale"
    elif flag_value == 256:
        channels, note = ("R", "G", "B"), "color-rgb"
    else:
        channels, note = ("B", "G", "R"), "color"
    exif = flag_value not in (-1, UNKNOWN) and not (isinstance(flag_value, int) and flag_value & 128)
    op = ctx.op(Decode, library="cv2", flags=flag_value, mode=note, exif=exif, source=source)
    layout = "HW" if note == "grayscale" else "HWC"
    return fresh_image("ndarray", channels, layout, "uint8", op)


@handles("cv2.imread")
def _imread(ctx: Ctx):
    return _decode(ctx, ctx.arg(1, "flags", None), "cv2.imread", "file")


@handles("cv2.imdecode")
def _imdecode(ctx: Ctx):
    return _decode(ctx, ctx.arg(1, "flags", UNKNOWN), "cv2.imdecode", "buffer")


@handles("cv2.VideoCapture")
def _video(ctx: Ctx):
    return ApiObject("cv2.VideoCapture", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


@handles("cv2.VideoCapture.read", "cv2.VideoCapture.retrieve")  # read() is grab() then retrieve()
def _video_read(ctx: Ctx):
    op = ctx.op(Decode, library="cv2", flags=1, mode="video", exif=False, source="video")
    return (True, fresh_image("ndarray", ("B", "G", "R"), "HWC", "uint8", op))


@handles("cv2.cvtColor")
def _cvtcolor(ctx: Ctx):
    img = ctx.arg(0, "src")
    code = ctx.arg(1, "code")
    if not isinstance(img, Img):
        return UNKNOWN
    kind = CV2_COLOR.get(code, (None,))[0] if isinstance(code, int) else None
    op = ctx.op(Colour, library="cv2", code=code, kind=kind)
    ch = img.state.channels
    if kind == "swap3" and ch and len(ch) == 3:
        return _into_dst(ctx, 2, permute_channels(img, (2, 1, 0), op))
    if kind == "drop_alpha":
        return img.evolve(op, channels=ch[:3] if ch else None, affine=img.state.affine[:3] if img.state.affine else None)
    if kind == "drop_alpha_swap" and ch:
        sub = permute_channels(img.evolve(None, channels=ch[:3], affine=img.state.affine[:3] if img.state.affine else None), (2, 1, 0), op)
        return sub
    if kind == "gray2bgr":
        return img.evolve(op, channels=("B", "G", "R"), layout="HWC")
    if kind == "gray":
        return img.evolve(op, channels=("Y",), layout="HW", affine=((1.0, 0.0),))
    return img.evolve(op, channels=None, affine=None)


def _interp(value, default_used: bool):
    if isinstance(value, int):
        return CV2_INTERP.get(value & 7 if value < 8 else value, None)
    return None


def _interp_options(value) -> tuple:
    """The interpolations a run-time condition picks between (`INTER_LINEAR if r > 1 else
    INTER_AREA`): a OneOf when the condition is unknown, ifelse(...) when it is on the image size."""
    if isinstance(value, OneOf):
        codes = value.options
    elif isinstance(value, Sym) and value.op == "ifelse":
        codes = value.args[1:]
    else:
        return ()
    if not all(isinstance(c, int) for c in codes):
        return ()
    names = tuple(dict.fromkeys(_interp(c, False) for c in codes))
    return names if all(names) and len(names) > 1 else ()


@handles("cv2.resize")
def _resize(ctx: Ctx):
    img = ctx.arg(0, "src")
    if not isinstance(img, Img):
        return UNKNOWN
    dsize = as_pair(ctx.arg(1, "dsize"))
    fx, fy = ctx.arg(2, "fx", 0), ctx.arg(3, "fy", 0)
    has_interp = ctx.has(5, "interpolation")
    interp_value = ctx.arg(5, "interpolation", 1)
    h, w = img.state.size
    if dsize is not None and not (dsize == (0, 0)):
        out_w, out_h = dsize
    elif isinstance(fx, (int, float)) and fx:
        out_w, out_h = numeric_op("round", numeric_op("mul", w, fx)), numeric_op("round", numeric_op("mul", h, fy))
    else:
        out_w, out_h = UNKNOWN, UNKNOWN
    op = ctx.op(Resize, library="cv2", out=(out_h, out_w), in_=(h, w), interp=_interp(interp_value, not has_interp), interp_options=_interp_options(interp_value),
                interp_code=interp_value if isinstance(interp_value, Sym) else None,
                interp_given=has_interp, antialias=False, mode="fixed", order="wh",
                size_node=ctx.arg_node(1, "dsize"), interp_node=ctx.arg_node(5, "interpolation"))
    return img.evolve(op, size=(out_h, out_w))


@handles("cv2.copyMakeBorder")
def _border(ctx: Ctx):
    img = ctx.arg(0, "src")
    if not isinstance(img, Img):
        return UNKNOWN
    top, bottom, left, right = (ctx.arg(i, n) for i, n in ((1, "top"), (2, "bottom"), (3, "left"), (4, "right")))
    border = ctx.arg(5, "borderType", 0)
    value = ctx.arg(6, "value", 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and img.state.channels and len(img.state.channels) > 1:
        # a scalar border value fills only channel 0: value=114 pads (114, 0, 0) (tests/test_api_facts.py)
        value = (value,) + (0,) * (len(img.state.channels) - 1)
    h, w = img.state.size
    out_h = numeric_op("add", numeric_op("add", h, top), bottom)
    out_w = numeric_op("add", numeric_op("add", w, left), right)
    op = ctx.op(Pad, library="cv2", top=top, bottom=bottom, left=left, right=right, value=value if border == 0 else None,
                border=border, placement="explicit", in_=(h, w), out=(out_h, out_w), value_node=ctx.arg_node(6, "value"),
                arg_sites=arg_sites(ctx, ((1, "top"), (2, "bottom"), (3, "left"), (4, "right"), (6, "value"))))
    return img.evolve(op, size=(out_h, out_w))


@handles("cv2.dnn.blobFromImage")
def _blob(ctx: Ctx):
    """blobFromImage: resize to size (w, h) [crop], subtract mean, multiply scalefactor, swapRB, NCHW float32."""
    img = ctx.arg(0, "image")
    if not isinstance(img, Img):
        return UNKNOWN
    scale = ctx.arg(1, "scalefactor", 1.0)
    size = as_pair(ctx.arg(2, "size"))
    mean = ctx.arg(3, "mean", (0, 0, 0))
    swap = ctx.arg(4, "swapRB", False)
    crop = ctx.arg(5, "crop", False)
    out = img
    if size is not None and size != (0, 0):
        h, w = img.state.size
        if crop is False:
            op = ctx.op(Resize, library="cv2", through="blobFromImage", out=(size[1], size[0]), in_=(h, w), interp="bilinear",
                        interp_given=False, antialias=False, mode="fixed", order="wh", size_node=ctx.arg_node(2, "size"))
            out = out.evolve(op, size=(size[1], size[0]))
        else:
            # crop=True (or unknown): scale by max(w/W, h/H), then centre-crop to size (docs/facts.md, g);
            # the intermediate size is not modelled, so it is left unknown rather than claimed
            op = ctx.op(Resize, library="cv2", through="blobFromImage", out=(UNKNOWN, UNKNOWN), in_=(h, w), interp="bilinear",
                        interp_given=False, antialias=False, mode="cover-crop", order="wh")
            out = out.evolve(op, size=(size[1], size[0]))
    if swap is True and out.state.channels and len(out.state.channels) == 3:
        out = permute_channels(out, (2, 1, 0), ctx.op(Colour, library="cv2", kind="swapRB"))
    if isinstance(mean, (tuple, list)) and len(mean) >= 3:
        m = tuple(float(x) if isinstance(x, (int, float)) else None for x in mean[:3])
        if None in m:
            out = normalized(out, ctx.op(Normalize, library="cv2", step="mean"))
        else:
            out = normalized(out, ctx.op(Normalize, library="cv2", step="mean", scale=1.0, offset=tuple(-x for x in m)))
    if isinstance(scale, (int, float)):
        out = normalized(out, ctx.op(Normalize, library="cv2", step="scale", scale=float(scale), offset=0.0))
    else:
        out = out.evolve(None, affine=None)
    return set_layout(out.evolve(None, dtype="float32"), "NCHW", ctx.op(Layout, library="cv2", kind="to_nchw", to="NCHW"))


@handles("cv2.dnn.readNet", "cv2.dnn.readNetFromONNX", "cv2.dnn.readNetFromCaffe", "cv2.dnn.readNetFromTorch")
def _readnet(ctx: Ctx):
    return ApiObject("cv2.dnn.Net", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


@handles("cv2.dnn.Net.setInput")
def _set_input(ctx: Ctx):
    net, blob = ctx.args[0], ctx.arg(1, "blob")
    if isinstance(blob, Img):
        net.attrs["__input__"] = blob
    return None


@handles("cv2.dnn.Net.forward")
def _forward(ctx: Ctx):
    net = ctx.args[0]
    blob = net.attrs.get("__input__")
    if isinstance(blob, Img):
        ctx.interp.record_sink(blob, ctx.site, "cv2.dnn.Net.forward", net)
    from portlint.analysis.apis.torch_api import model_output
    return model_output(ctx.interp, net, ctx.site)


@handles("cv2.warpAffine", "cv2.warpPerspective", "cv2.remap", "cv2.flip", "cv2.rotate", "cv2.transpose")
def _geometry_only(ctx: Ctx):
    """Geometry that keeps colour order and pixel values: the pipeline continues through it,
    recorded as an op the comparison does not model (size from dsize where given)."""
    img = ctx.arg(0, "src")
    if not isinstance(img, Img):
        return UNKNOWN
    name = ctx.qname.rsplit(".", 1)[-1]
    size = img.state.size
    if name in ("warpAffine", "warpPerspective"):
        dsize = as_pair(ctx.arg(2, "dsize"))
        size = (dsize[1], dsize[0]) if dsize else (UNKNOWN, UNKNOWN)
    elif name in ("rotate", "transpose", "remap"):
        size = (UNKNOWN, UNKNOWN)
    return img.evolve(ctx.op(Other, function=name), size=size)


def _into_dst(ctx: Ctx, index: int, result):
    """OpenCV writes its result into `dst` too when one is passed (`cv2.cvtColor(img, code, img)`,
    mmcv's in-place imnormalize_): the variable passed there holds the result afterwards."""
    if ctx.has(index, "dst") and isinstance(result, Img):
        ctx.set_arg(index, result, "dst")
    return result


def _channel_constant(value):
    """A per-channel constant as cv2 arithmetic reads it: a number, a tuple, or a (1, n) array."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    data = getattr(value, "data", value)
    if isinstance(data, (tuple, list)) and data and all(isinstance(x, (int, float)) for x in data):
        return tuple(float(x) for x in data)
    return None


@handles("cv2.add", "cv2.subtract", "cv2.multiply", "cv2.divide")
def _arith(ctx: Ctx):
    """cv2.add/subtract/multiply/divide of an image and a per-channel constant (saturating on
    integer images, plain float arithmetic on float ones; dtype kept): an affine map per channel."""
    img, other = ctx.arg(0, "src1"), _channel_constant(ctx.arg(1, "src2"))
    if not isinstance(img, Img):
        return UNKNOWN
    name = ctx.qname.rsplit(".", 1)[-1]
    extra = ctx.arg(3, "scale", 1)
    if other is None or (name in ("multiply", "divide") and extra != 1):
        return _into_dst(ctx, 2, img.evolve(ctx.op(Normalize, library="cv2"), affine=None))
    if isinstance(other, tuple) and img.state.channels and len(other) != len(img.state.channels):
        return _into_dst(ctx, 2, img.evolve(ctx.op(Normalize, library="cv2"), affine=None))
    if name == "add":
        scale, offset = 1.0, other
    elif name == "subtract":
        scale, offset = 1.0, tuple(-x for x in other) if isinstance(other, tuple) else -other
    elif name == "multiply":
        scale, offset = other, 0.0
    else:
        if 0 in (other if isinstance(other, tuple) else (other,)):
            return UNKNOWN
        scale, offset = tuple(1.0 / x for x in other) if isinstance(other, tuple) else 1.0 / other, 0.0
    return _into_dst(ctx, 2, normalized(img, ctx.op(Normalize, library="cv2", step=name, scale=scale, offset=offset)))
