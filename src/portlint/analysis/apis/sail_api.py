"""SOPHON-SAIL semantics, from docs/sail.md (citations there):
every Bmcv resize takes (w, h) and defaults to NEAREST (§2); convert_to computes
out[c] = a_c*in[c] + b_c per plane in memory order (§1); convert_format's output format is the
destination image's (default BGR_PLANAR) (§3); Decoder.read gives BGR_PLANAR uint8 (§3);
bm_image_to_tensor makes planar images NCHW (§3); Engine.process(graph, {name: array}) returns
a dict in lexicographic key order (§4); get_input_shape comes from the bmodel at run time."""

from __future__ import annotations

from portlint.analysis import affine
from portlint.analysis.apis.common import Ctx, arg_sites, handles, normalized, permute_channels
from portlint.analysis.apis.constants import SAIL_FORMATS, SAIL_INTERP
from portlint.analysis.events import SailOutputs
from portlint.analysis.image import Img, fresh_image
from portlint.analysis.ops import Colour, Crop, Decode, Layout, Normalize, Op, Pad, Resize
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Seq, numeric_op, var

S = "sophon.sail."


def _bmodel_input_shape(interp):
    """Symbolic even when the shape is known (--input-shape/--bmodel binds the names at comparison
    time), so that a swapped (net_h, net_w) stays visible as a swap."""
    return tuple(var(f"bmodel.input.d{i}") for i in range(4))


def _format_of(value):
    if isinstance(value, ApiRef):
        return value.qname.rsplit(".", 1)[-1]
    if isinstance(value, int):
        for name, num in (("FORMAT_RGB_PLANAR", 8), ("FORMAT_BGR_PLANAR", 9), ("FORMAT_RGB_PACKED", 10), ("FORMAT_BGR_PACKED", 11)):
            if num == value:
                return name
    return None


def _dtype_of(value):
    if isinstance(value, ApiRef):
        q = value.qname
        if "FLOAT32" in q:
            return "float32"
        if q.endswith("1N_BYTE") or q.endswith("UINT8"):
            return "uint8"
        if "1N_BYTE_SIGNED" in q or "INT8" in q:
            return "int8"
    if isinstance(value, str):
        return value
    return None


# ------------------------------------------------------------------ Engine
@handles(S + "Engine")
def _engine(ctx: Ctx):
    eng = ApiObject(S + "Engine", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)
    mode = ctx.arg(2, "mode", UNKNOWN)
    eng.attrs["__iomode__"] = mode.qname.rsplit(".", 1)[-1] if isinstance(mode, ApiRef) else UNKNOWN
    return eng


@handles(S + "Engine.get_graph_names")
def _graphs(ctx: Ctx):
    info = ctx.interp.context.get("bmodel")
    if info is not None:
        return [n.name for n in info.networks]
    return Seq(UNKNOWN)


@handles(S + "Engine.get_input_names")
def _input_names(ctx: Ctx):
    info = ctx.interp.context.get("bmodel")
    if info is not None and info.networks:
        return [t.name for t in info.networks[0].inputs]
    return Seq(ApiObject("portlint.InputName"))


@handles(S + "Engine.get_output_names")
def _output_names(ctx: Ctx):
    info = ctx.interp.context.get("bmodel")
    if info is not None and info.networks:
        return [t.name for t in info.networks[0].outputs]
    return ApiObject("portlint.OutputNames", site=ctx.site)


@handles("portlint.OutputNames.__getitem__")
def _output_name_item(ctx: Ctx):
    return ApiObject("portlint.OutputName", attrs={"index": ctx.args[1]})


@handles(S + "Engine.get_input_shape")
def _input_shape(ctx: Ctx):
    return _bmodel_input_shape(ctx.interp)


@handles(S + "Engine.get_max_input_shapes", S + "Engine.get_input_shapes")
def _input_shapes(ctx: Ctx):
    """{input name: shape} of a (possibly dynamic) bmodel: every name maps to the symbolic shape."""
    return ApiObject("portlint.InputShapes")


@handles("portlint.InputShapes.__getitem__", "portlint.InputShapes.get")
def _input_shapes_item(ctx: Ctx):
    return _bmodel_input_shape(ctx.interp)


@handles(S + "Engine.get_output_shape")
def _output_shape(ctx: Ctx):
    return UNKNOWN


@handles(S + "Engine.get_input_scale", S + "Engine.get_output_scale")
def _scale(ctx: Ctx):
    """FP32 bmodels have scale 1 (docs/sail.md §1, D:docs/FAQ_EN.md:79); a given bmodel says its own."""
    info = ctx.interp.context.get("bmodel")
    if info is not None and info.networks:
        tensors = info.networks[0].inputs if "input" in ctx.qname else info.networks[0].outputs
        if tensors:
            return float(tensors[0].scale or 1.0)
    return 1.0


@handles(S + "Engine.get_input_dtype", S + "Engine.get_output_dtype")
def _dtype(ctx: Ctx):
    info = ctx.interp.context.get("bmodel")
    if info is not None and info.networks and info.networks[0].inputs:
        dt = info.networks[0].inputs[0].dtype
        return ApiRef(S + ("Dtype.BM_FLOAT32" if dt == "float32" else f"Dtype.BM_{dt.upper()}"))
    return ApiRef(S + "Dtype.BM_FLOAT32")


@handles(S + "Engine.get_handle")
def _handle(ctx: Ctx):
    return ApiObject(S + "Handle")


@handles(S + "Bmcv.get_bm_image_data_format")
def _img_dtype(ctx: Ctx):
    dt = ctx.arg(1, "dtype")
    if isinstance(dt, ApiRef) and dt.qname.endswith("BM_FLOAT32"):
        return ApiRef(S + "ImgDtype.DATA_TYPE_EXT_FLOAT32")
    if isinstance(dt, ApiRef) and "INT8" in dt.qname:
        return ApiRef(S + "ImgDtype.DATA_TYPE_EXT_1N_BYTE_SIGNED")
    return UNKNOWN


def _find_image(value):
    if isinstance(value, Img):
        return value
    if isinstance(value, dict):
        for v in value.values():
            found = _find_image(v)
            if found is not None:
                return found
    if isinstance(value, Seq):
        return _find_image(value.elem)
    if isinstance(value, (list, tuple)):
        for v in value:
            found = _find_image(v)
            if found is not None:
                return found
    if isinstance(value, ApiObject) and isinstance(value.attrs.get("__image__"), Img):
        return value.attrs["__image__"]
    return None


@handles(S + "Engine.process")
def _process(ctx: Ctx):
    engine = ctx.args[0]
    inputs = ctx.arg(2, "input")
    img = _find_image(inputs)
    if img is not None:
        ctx.interp.record_sink(img, ctx.site, S + "Engine.process", engine)
    if len(ctx.args) == 3 and not ctx.kwargs:
        out = ApiObject("portlint.ModelOutputs", attrs={"model": engine, "site": ctx.site, "style": "sail-dict"})
        ctx.interp.record(SailOutputs(out, ctx.site))
        return out
    return None


# ------------------------------------------------------------------ images
@handles(S + "Decoder")
def _decoder(ctx: Ctx):
    return ApiObject(S + "Decoder", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


def _decoded(ctx: Ctx) -> Img:
    op = ctx.op(Decode, library="sail", mode="hardware", exif=False, source="file")
    return fresh_image("bmimage", ("B", "G", "R"), "CHW", "uint8", op)


@handles(S + "Decoder.read")
def _decoder_read(ctx: Ctx):
    img = _decoded(ctx)
    if len(ctx.args) >= 3:
        _store(ctx, 2, ctx.args[2], img)
        return 0
    return img


@handles(S + "Decoder.read_")
def _decoder_read_(ctx: Ctx):
    return _decoder_read(ctx)


@handles(S + "BMImage")
def _bmimage(ctx: Ctx):
    obj = ApiObject(S + "BMImage", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)
    if len(ctx.args) >= 5:
        obj.attrs.update({"h": ctx.args[1], "w": ctx.args[2], "format": _format_of(ctx.args[3]), "dtype": _dtype_of(ctx.args[4])})
    return obj


@handles(S + "Tensor")
def _tensor(ctx: Ctx):
    data = ctx.arg(1, "data")
    if isinstance(data, Img):
        return data
    return ApiObject(S + "Tensor", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


@handles(S + "Tensor.asnumpy")
def _asnumpy(ctx: Ctx):
    t = ctx.args[0]
    if isinstance(t, Img):
        return t
    return ApiObject("portlint.ModelOutput", attrs={"tensor": t})


def _img_method(name):
    def getter(ctx: Ctx):
        img = ctx.args[0]
        if isinstance(img, ApiObject):  # an image allocated with BMImage(handle, h, w, fmt, dtype)
            return {"width": img.attrs.get("w", UNKNOWN), "height": img.attrs.get("h", UNKNOWN), "data": img}.get(name, UNKNOWN)
        if not isinstance(img, Img):
            return UNKNOWN
        if name == "width":
            return img.state.size[1]
        if name == "height":
            return img.state.size[0]
        if name == "format":
            ch = img.state.channels
            return ApiRef(S + ("Format.FORMAT_RGB_PLANAR" if ch == ("R", "G", "B") else "Format.FORMAT_BGR_PLANAR"))
        if name == "data":
            return img
        if name == "dtype":
            return img.state.dtype or UNKNOWN
        if name == "asmat" or name == "asnumpy":
            return img
        return UNKNOWN
    return getter


for _name in ("width", "height", "format", "data", "dtype", "asmat", "asnumpy"):
    handles(f"sophon.sail.BMImage.{_name}")(_img_method(_name))


def _image(value):
    """An Img, or the Img last written into a SAIL BMImage/Tensor object (out-parameters alias)."""
    if isinstance(value, ApiObject) and isinstance(value.attrs.get("__image__"), Img):
        return value.attrs["__image__"]
    return value


def _store(ctx: Ctx, index: int, obj, img: Img) -> None:
    """Write an out-parameter: mutate the SAIL object (seen by every alias) and rebind the name."""
    if isinstance(obj, ApiObject):
        obj.attrs["__image__"] = img
    ctx.set_arg(index, img)


def _output_spec(value):
    if isinstance(value, ApiObject) and value.qname == S + "BMImage":
        return value
    return None


def _apply_format(img: Img, fmt, op: Op) -> Img:
    channels, layout = SAIL_FORMATS.get(fmt, (None, None)) if fmt else (None, None)
    if channels is None or img.state.channels is None or len(img.state.channels) != 3:
        return img.evolve(op, channels=channels, layout=layout or img.state.layout)
    order = tuple(img.state.channels.index(c) for c in channels) if set(channels) == set(img.state.channels) else None
    if order is None:
        return img.evolve(op, channels=channels, layout=layout)
    return permute_channels(img, order, op).evolve(None, layout=layout)


# ------------------------------------------------------------------ Bmcv
@handles(S + "Bmcv")
def _bmcv(ctx: Ctx):
    return ApiObject(S + "Bmcv", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


def _interp(value):
    if isinstance(value, ApiRef):
        return SAIL_INTERP.get(value.qname)
    if isinstance(value, int):
        return {0: "nearest", 1: "bilinear", 2: "bicubic"}.get(value)
    return None


def _resize_op(ctx: Ctx, img: Img, w, h, alg_index, crop=None, pad=None):
    given = ctx.has(alg_index, "resize_alg")
    alg = ctx.arg(alg_index, "resize_alg", None)
    interp = _interp(alg) if given else "nearest"
    out = img
    if crop is not None:
        x0, y0, cw, ch = crop
        if not (x0 == 0 and y0 == 0 and _same(cw, img.state.size[1]) and _same(ch, img.state.size[0])):
            op = ctx.op(Crop, library="sail", top=y0, left=x0, height=ch, width=cw, in_=out.state.size, style="box")
            out = out.evolve(op, size=(ch, cw))
    rh, rw = (h, w)
    size_sites = None
    if pad is not None:
        rw, rh = pad.attrs.get("w", UNKNOWN), pad.attrs.get("h", UNKNOWN)
        sites = pad.attrs.get("__sites__") or {}
        size_sites = {k: sites[k] for k in ("w", "h") if k in sites}
    op = ctx.op(Resize, library="sail", out=(rh, rw), in_=out.state.size, interp=interp, interp_given=given,
                antialias=False, mode="fixed", order="wh", size_node=None, size_sites=size_sites,
                interp_node=ctx.arg_node(alg_index, "resize_alg"))
    out = out.evolve(op, size=(rh, rw))
    if pad is not None:
        a = pad.attrs
        top, left = a.get("sty", UNKNOWN), a.get("stx", UNKNOWN)
        pop = ctx.op(Pad, library="sail", top=top, left=left, bottom=numeric_op("sub", numeric_op("sub", h, top), rh),
                     right=numeric_op("sub", numeric_op("sub", w, left), rw),
                     value=_pad_value(a, img), placement="explicit", in_=(rh, rw), out=(h, w),
                     arg_sites=_pad_sites(a))
        out = out.evolve(pop, size=(h, w))
    return out


def _pad_sites(attrs) -> dict:
    """Where the padding's offsets and fill were set: sty is the top, stx the left."""
    sites = dict(attrs.get("__sites__") or {})
    names = {"sty": "top", "stx": "left", "r": "value", "g": "value", "b": "value"}
    out = {}
    for key, site in sites.items():
        out.setdefault(names.get(key, key), site)
    return out


def _pad_value(attrs, img):
    r, g, b = attrs.get("r", UNKNOWN), attrs.get("g", UNKNOWN), attrs.get("b", UNKNOWN)
    ch = img.state.channels
    by = {"R": r, "G": g, "B": b}
    if ch and all(c in by for c in ch):
        return tuple(by[c] for c in ch)
    return (b, g, r)


def _same(a, b):
    return a is b or (a == b if not isinstance(a, type(UNKNOWN)) else False)


@handles(S + "Bmcv.resize", S + "Bmcv.vpp_resize")
def _resize(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    if _output_spec(ctx.arg(2)) is not None:  # vpp_resize(img, out, w, h, alg)
        out_img = _resize_op(ctx, img, ctx.arg(3), ctx.arg(4), 5)
        _store(ctx, 2, ctx.arg(2), out_img)
        return 0
    return _resize_op(ctx, img, ctx.arg(2, "resize_w"), ctx.arg(3, "resize_h"), 4)


@handles(S + "Bmcv.crop_and_resize", S + "Bmcv.vpp_crop_and_resize")
def _crop_resize(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    crop = tuple(ctx.arg(i) for i in (2, 3, 4, 5))
    return _resize_op(ctx, img, ctx.arg(6, "resize_w"), ctx.arg(7, "resize_h"), 8, crop=crop)


@handles(S + "Bmcv.crop")
def _crop(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    x0, y0, cw, ch = (ctx.arg(i) for i in (2, 3, 4, 5))
    op = ctx.op(Crop, library="sail", top=y0, left=x0, height=ch, width=cw, in_=img.state.size, style="box")
    return img.evolve(op, size=(ch, cw))


@handles(S + "Bmcv.vpp_resize_padding")
def _resize_padding(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    pad = ctx.arg(4, "padding")
    return _resize_op(ctx, img, ctx.arg(2), ctx.arg(3), 5, pad=pad if isinstance(pad, ApiObject) else None)


@handles(S + "Bmcv.vpp_crop_and_resize_padding", S + "Bmcv.crop_and_resize_padding")
def _crop_resize_padding(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    crop = tuple(ctx.arg(i) for i in (2, 3, 4, 5))
    pad = ctx.arg(8, "padding")
    return _resize_op(ctx, img, ctx.arg(6), ctx.arg(7), 9, crop=crop, pad=pad if isinstance(pad, ApiObject) else None)


@handles(S + "PaddingAtrr")
def _padding_attr(ctx: Ctx):
    obj = ApiObject(S + "PaddingAtrr", site=ctx.site)
    keys = ("stx", "sty", "w", "h", "r", "g", "b")
    for i, key in enumerate(keys):
        if i < len(ctx.args):
            obj.attrs[key] = ctx.args[i]
    obj.attrs["__sites__"] = arg_sites(ctx, list(enumerate(keys)))
    return obj


@handles(S + "PaddingAtrr.*")
def _padding_setter(ctx: Ctx):
    name = ctx.qname.rsplit(".", 1)[-1]
    if name.startswith("set_"):
        attrs = ctx.args[0].attrs
        attrs[name[4:]] = ctx.arg(1)
        attrs.setdefault("__sites__", {}).update({name[4:]: s for s in arg_sites(ctx, [(1, None)]).values()})
    return None


@handles(S + "Bmcv.convert_format", S + "Bmcv.vpp_convert_format")
def _convert_format(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    spec = _output_spec(ctx.arg(2))
    if spec is not None:
        op = ctx.op(Colour, library="sail", kind="format", to=spec.attrs.get("format"), spec_site=spec.site)
        out = _apply_format(img, spec.attrs.get("format"), op)
        _store(ctx, 2, spec, out)
        return 0
    fmt = _format_of(ctx.arg(2, "image_format", ApiRef(S + "Format.FORMAT_BGR_PLANAR")))
    return _apply_format(img, fmt, ctx.op(Colour, library="sail", kind="format", to=fmt))


@handles(S + "Bmcv.yuv2bgr")
def _yuv2bgr(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    return _apply_format(img, "FORMAT_BGR_PLANAR", ctx.op(Colour, library="sail", kind="format", to="FORMAT_BGR_PLANAR"))


def _alpha_beta(value):
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        return tuple(value)
    return None


@handles(S + "Bmcv.convert_to")
def _convert_to(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    spec = _output_spec(ctx.arg(2))
    array_out = isinstance(ctx.arg(2), ApiObject) and ctx.arg(2).qname.startswith(S + "BMImageArray")
    ab = _alpha_beta(ctx.arg(3 if (spec is not None or array_out) else 2, "alpha_beta"))
    scale, offset = affine.of_alpha_beta(ab) or (None, None)
    op = ctx.op(Normalize, library="sail", alpha_beta=ab, scale=scale, offset=offset,
                node=ctx.arg_node(3 if (spec is not None or array_out) else 2, "alpha_beta"))
    out = normalized(img, op)
    if spec is not None:
        out = out.evolve(None, dtype=spec.attrs.get("dtype") or out.state.dtype)
        _store(ctx, 2, spec, out)
        return 0
    if array_out:
        ctx.arg(2).attrs["__image__"] = out
        return 0
    return out


@handles(S + "Bmcv.bm_image_to_tensor")
def _to_tensor(ctx: Ctx):
    img = _image(ctx.args[1])
    if not isinstance(img, Img):
        return UNKNOWN
    layout = "NCHW" if img.state.layout == "CHW" else ("NHWC" if img.state.layout == "HWC" else None)
    out = img.evolve(ctx.op(Layout, library="sail", kind="to_nchw", to=layout), layout=layout, kind="tensor")
    if len(ctx.args) >= 3:
        _store(ctx, 2, ctx.args[2], out)
        return None
    return out


# BMImageArrayND: `arr[i] = img.data()` stores one geometry for the whole batch (docs/sail.md §5)
@handles(S + "BMImageArray")
def _array(ctx: Ctx):
    return ApiObject(S + "BMImageArray", site=ctx.site)


def store_into_array(container: ApiObject, value):
    if isinstance(value, Img):
        container.attrs["__image__"] = value
        return True
    return False
