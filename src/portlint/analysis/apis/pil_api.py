"""Pillow semantics. Facts (tests/test_api_facts.py): Image.open keeps the file's mode and does not
apply EXIF orientation; Image.resize takes (width, height) and, for BILINEAR/BICUBIC/LANCZOS,
widens its filter support when downscaling (antialiasing); `size` is (width, height)."""

from __future__ import annotations

from portlint.analysis.apis.common import Ctx, as_pair, handles
from portlint.analysis.apis.constants import PIL_INTERP
from portlint.analysis.image import Img, fresh_image
from portlint.analysis.ops import Crop, Decode, Layout, Resize
from portlint.analysis.values import UNKNOWN, numeric_op

_MODES = {"RGB": ("R", "G", "B"), "RGBA": ("R", "G", "B", "A"), "L": ("Y",), "BGR;24": ("B", "G", "R")}


@handles("PIL.Image.open")
def _open(ctx: Ctx):
    op = ctx.op(Decode, library="pil", mode="file", exif=False, source="file")
    return fresh_image("pil", ("R", "G", "B"), None, "uint8", op)


@handles("PIL.Image.Image.convert")
def _convert(ctx: Ctx):
    img = ctx.args[0]
    mode = ctx.arg(1, "mode")
    op = ctx.op(Decode, library="pil", mode=mode, convert=True)
    if isinstance(mode, str) and mode in _MODES:
        ch = _MODES[mode]
        return img.evolve(op, channels=ch, affine=tuple((1.0, 0.0) for _ in ch))
    return img.evolve(op, channels=None)


@handles("PIL.ImageOps.exif_transpose")
def _exif(ctx: Ctx):
    img = ctx.arg(0, "image")
    if not isinstance(img, Img):
        return UNKNOWN
    return img.evolve(ctx.op(Decode, library="pil", exif=True, exif_transpose=True))


@handles("PIL.Image.fromarray")
def _fromarray(ctx: Ctx):
    arr = ctx.arg(0, "obj")
    if not isinstance(arr, Img):
        return UNKNOWN
    st = arr.state
    return Img(st.__class__(**{**st.__dict__, "kind": "pil", "layout": None})).evolve(ctx.op(Layout, library="pil", kind="to_pil", to="PIL"))


def pil_resize(ctx: Ctx, img: Img, size, resample, resample_given: bool, api_order="wh"):
    pair = as_pair(size)
    h, w = img.state.size
    if pair is None:
        out_h = out_w = UNKNOWN
    elif api_order == "wh":
        out_w, out_h = pair
    else:
        out_h, out_w = pair
    interp = PIL_INTERP.get(resample) if isinstance(resample, int) else None
    op = ctx.op(Resize, library="pil", out=(out_h, out_w), in_=(h, w), interp=interp, interp_given=resample_given,
                antialias=interp not in ("nearest", None), mode="fixed", order=api_order, size_node=ctx.arg_node(1, "size"))
    return img.evolve(op, size=(out_h, out_w))


@handles("PIL.Image.Image.resize")
def _resize(ctx: Ctx):
    img = ctx.args[0]
    given = ctx.has(2, "resample")
    # Pillow's default for Image.resize is BICUBIC (Pillow >= 7.0; PIL/Image.py `resample=None`).
    resample = ctx.arg(2, "resample", 3)
    if resample is None:
        resample = 3
    return pil_resize(ctx, img, ctx.arg(1, "size"), resample, given)


@handles("PIL.Image.Image.crop")
def _crop(ctx: Ctx):
    img = ctx.args[0]
    box = ctx.arg(1, "box")
    if not (isinstance(box, (list, tuple)) and len(box) == 4):
        op = ctx.op(Crop, library="pil", top=UNKNOWN, left=UNKNOWN, height=UNKNOWN, width=UNKNOWN)
        return img.evolve(op, size=(UNKNOWN, UNKNOWN))
    left, top, right, bottom = box
    ch, cw = numeric_op("sub", bottom, top), numeric_op("sub", right, left)
    op = ctx.op(Crop, library="pil", top=top, left=left, height=ch, width=cw, in_=img.state.size, style="box")
    return img.evolve(op, size=(ch, cw))


@handles("PIL.Image.Image.@size")
def _size(img: Img):
    h, w = img.state.size
    return (w, h)


@handles("PIL.Image.Image.@width")
def _width(img: Img):
    return img.state.size[1]


@handles("PIL.Image.Image.@height")
def _height(img: Img):
    return img.state.size[0]


@handles("PIL.Image.Image.copy", "PIL.Image.Image.load")
def _copy(ctx: Ctx):
    return ctx.args[0]
