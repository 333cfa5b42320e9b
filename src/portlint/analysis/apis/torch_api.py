"""torch semantics for the last steps before the model: from_numpy, permute, unsqueeze, float,
div, to(device), and what counts as calling a model (nn.Module, TorchScript, onnxruntime)."""

from __future__ import annotations

from portlint.analysis.apis.common import Ctx, dtype_name, handles, image_args, set_dtype
from portlint.analysis.apis.numpy_api import add_batch, first_image, image_arith, to_const, transpose
from portlint.analysis.events import ModelMode
from portlint.analysis.image import Img
from portlint.analysis.ops import Colour, Dtype, Resize
from portlint.analysis.values import UNKNOWN, ApiObject, Seq, Sym, numeric_op

MODEL_FACTORIES = ("torch.jit.load", "torch.load", "torch.hub.load", "torch.jit.script", "torch.jit.trace",
                   "onnxruntime.InferenceSession")


def model_output(interp, model, site):
    return ApiObject("portlint.ModelOutputs", attrs={"model": model, "site": site})


def _as_tensor(img: Img, site, api) -> Img:
    st = img.state
    return Img(st.__class__(**{**st.__dict__, "kind": "tensor"}))


@handles("torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.Tensor", "torch.FloatTensor")
def _from_numpy(ctx: Ctx):
    v = ctx.arg(0, "data")
    if isinstance(v, Img):
        out = _as_tensor(v, ctx.site, ctx.qname)
        dt = dtype_name(ctx.arg(None, "dtype"))
        if dt or ctx.qname == "torch.FloatTensor":
            out = set_dtype(out, dt or "float32", ctx.op(Dtype, to=dt or "float32"))
        return out
    const = to_const(v)  # torch.Tensor(MEANS): a table of known numbers (mean/std)
    return const if const is not None else UNKNOWN


@handles("constarray.float", "constarray.cuda", "constarray.cpu", "constarray.to", "constarray.double",
         "constarray.half", "constarray.contiguous", "constarray.clone", "constarray.detach", "constarray.copy",
         "constarray.astype")
def _const_same(ctx: Ctx):
    """A device move or float cast of a constant table keeps its numbers."""
    return ctx.args[0]


@handles("torch.Tensor.permute")
def _permute(ctx: Ctx):
    img = ctx.args[0]
    dims = ctx.args[1] if len(ctx.args) == 2 and isinstance(ctx.args[1], (list, tuple)) else tuple(ctx.args[1:])
    return transpose(img, dims, ctx.site, "torch.Tensor.permute")


@handles("torch.permute")
def _t_permute(ctx: Ctx):
    img = ctx.arg(0, "input")
    return transpose(img, ctx.arg(1, "dims"), ctx.site, "torch.permute") if isinstance(img, Img) else UNKNOWN


@handles("torch.Tensor.unsqueeze", "torch.Tensor.unsqueeze_", "torch.unsqueeze")
def _unsqueeze(ctx: Ctx):
    img = ctx.args[0]
    dim = ctx.arg(1, "dim")
    if not isinstance(img, Img):
        return UNKNOWN
    if dim == 0:
        return add_batch(img, ctx.site, ctx.qname)
    return Img(img.state.__class__(**{**img.state.__dict__, "layout": None}))


@handles("torch.stack", "torch.cat")
def _stack(ctx: Ctx):
    v = ctx.arg(0, "tensors")
    elem = v.elem if isinstance(v, Seq) else (first_image(v) if isinstance(v, (list, tuple)) else None)
    if not isinstance(elem, Img):
        return UNKNOWN
    if ctx.qname == "torch.cat":
        return elem if (elem.state.layout or "").startswith("N") else UNKNOWN
    return add_batch(elem, ctx.site, ctx.qname)


@handles("torch.Tensor.float", "torch.Tensor.half", "torch.Tensor.double", "torch.Tensor.byte")
def _cast(ctx: Ctx):
    img = ctx.args[0]
    dt = {"float": "float32", "half": "float16", "double": "float64", "byte": "uint8"}[ctx.qname.rsplit(".", 1)[-1]]
    return set_dtype(img, dt, ctx.op(Dtype, to=dt))


@handles("torch.Tensor.to", "torch.Tensor.type")
def _to(ctx: Ctx):
    img = ctx.args[0]
    for v in list(ctx.args[1:]) + list(ctx.kwargs.values()):
        dt = dtype_name(v)
        if dt:
            return set_dtype(img, dt, ctx.op(Dtype, to=dt))
    return img


@handles("torch.Tensor.cuda", "torch.Tensor.cpu", "torch.Tensor.contiguous", "torch.Tensor.clone", "torch.Tensor.detach",
         "torch.Tensor.requires_grad_", "torch.autograd.Variable", "torch.Tensor.numpy")
def _same(ctx: Ctx):
    img = ctx.args[0]
    if not isinstance(img, Img):
        return UNKNOWN
    if ctx.qname.endswith("numpy"):
        return Img(img.state.__class__(**{**img.state.__dict__, "kind": "ndarray"}))
    return img


@handles("torch.Tensor.div", "torch.Tensor.div_", "torch.Tensor.sub", "torch.Tensor.sub_", "torch.Tensor.mul",
         "torch.Tensor.mul_", "torch.Tensor.add", "torch.Tensor.add_", "torch.div", "torch.sub", "torch.mul")
def _arith(ctx: Ctx):
    img, other = ctx.args[0], ctx.arg(1, "other")
    op = ctx.qname.rsplit(".", 1)[-1].rstrip("_")
    op = {"div": "truediv"}.get(op, op)
    return image_arith(ctx.interp, op, img, other, ctx.site)


@handles("torch.Tensor.flip", "torch.flip")
def _flip(ctx: Ctx):
    from portlint.analysis.apis.common import permute_channels
    img, dims = ctx.args[0], ctx.arg(1, "dims")
    if not isinstance(img, Img):
        return UNKNOWN
    layout = img.state.layout or ""
    if isinstance(dims, (list, tuple)) and len(dims) == 1 and "C" in layout and dims[0] in (layout.index("C"), layout.index("C") - len(layout)):
        n = len(img.state.channels) if img.state.channels else 3
        return permute_channels(img, tuple(range(n - 1, -1, -1)), ctx.op(Colour, library="torch", kind="flip"))
    return UNKNOWN


@handles("torch.Tensor.@shape")
def _shape(img: Img):
    from portlint.analysis.apis.common import shape_of
    return shape_of(img)


@handles("torch.Tensor.size")
def _size(ctx: Ctx):
    from portlint.analysis.apis.common import shape_of
    shape = shape_of(ctx.args[0])
    dim = ctx.arg(1, "dim", None)
    if isinstance(dim, int) and isinstance(shape, tuple) and -len(shape) <= dim < len(shape):
        return shape[dim]
    return shape


# ------------------------------------------------------------- models
@handles(*MODEL_FACTORIES)
def _model_factory(ctx: Ctx):
    model = ApiObject("portlint.Model", tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)
    model.attrs["__factory__"] = ctx.qname
    return model


def is_model_factory(qname: str) -> bool:
    """torchvision.models.resnet18(...) and friends build a model."""
    return qname.startswith("torchvision.models.") and qname.rsplit(".", 1)[-1][:1].islower() and "." not in qname[len("torchvision.models."):]


@handles("portlint.Module.eval", "portlint.Module.train", "portlint.Module.to", "portlint.Module.cuda",
         "portlint.Module.cpu", "portlint.Module.half", "portlint.Module.float")
def _module_self(ctx: Ctx):
    """`Net().eval()` on the program's own nn.Module subclass returns the module itself."""
    name = ctx.qname.rsplit(".", 1)[-1]
    if name in ("eval", "train"):
        ctx.interp.record(ModelMode(ctx.args[0], name if name == "eval" or ctx.arg(1, "mode", True) is True else "eval", ctx.site))
    return ctx.args[0]


@handles("torch.nn.modules.utils._single", "torch.nn.modules.utils._pair", "torch.nn.modules.utils._triple",
         "torch.nn.modules.utils._quadruple")
def _ntuple(ctx: Ctx):
    """torch/nn/modules/utils.py `_ntuple(n)`: an iterable as a tuple, anything else repeated n times."""
    n = {"_single": 1, "_pair": 2, "_triple": 3, "_quadruple": 4}[ctx.qname.rsplit(".", 1)[-1]]
    x = ctx.arg(0, "x")
    if isinstance(x, (list, tuple)):
        return tuple(x)
    if isinstance(x, (int, float, Sym)) and not isinstance(x, bool):
        return (x,) * n
    return UNKNOWN


@handles("portlint.Module.register_buffer")
def _register_buffer(ctx: Ctx):
    """`self.register_buffer(name, tensor, persistent=True)` (torch/nn/modules/module.py): the
    tensor becomes the module attribute `name` (a mean/std table kept with the model)."""
    name = ctx.arg(1, "name")
    if isinstance(name, str) and hasattr(ctx.args[0], "attrs"):
        ctx.args[0].attrs[name] = ctx.arg(2, "tensor")
    return None


@handles("portlint.Model.__call__", "portlint.Model.forward")
def _model_call(ctx: Ctx):
    images = image_args(ctx.args[1:], ctx.kwargs)
    if images:
        ctx.interp.record_sink(images[0], ctx.site, ctx.args[0].attrs.get("__factory__", "model"), ctx.args[0])
    return model_output(ctx.interp, ctx.args[0], ctx.site)


@handles("portlint.Model.eval", "portlint.Model.train", "portlint.Model.to", "portlint.Model.cuda", "portlint.Model.cpu",
         "portlint.Model.half", "portlint.Model.float")
def _model_self(ctx: Ctx):
    name = ctx.qname.rsplit(".", 1)[-1]
    if name in ("eval", "train"):
        ctx.interp.record(ModelMode(ctx.args[0], name if name == "eval" or ctx.arg(1, "mode", True) is True else "eval", ctx.site))
    return ctx.args[0]


@handles("portlint.Model.run")
def _ort_run(ctx: Ctx):
    feeds = ctx.arg(2, "input_feed")
    images = [v for v in feeds.values() if isinstance(v, Img)] if isinstance(feeds, dict) else []
    if images:
        ctx.interp.record_sink(images[0], ctx.site, "onnxruntime.InferenceSession.run", ctx.args[0])
    return model_output(ctx.interp, ctx.args[0], ctx.site)


@handles("portlint.Model.get_inputs")
def _ort_inputs(ctx: Ctx):
    """`session.get_inputs()[0].shape` of an onnxruntime session: the pair's model input shape,
    symbolic until --input-shape or --bmodel binds it, as sail's `get_input_shape` (the ONNX a
    port runs beside its bmodel is the network the bmodel was compiled from, at the same static
    shape; with neither option the shape stays unknown). Its name and type are unknown."""
    if ctx.args[0].attrs.get("__factory__") != "onnxruntime.InferenceSession":
        return UNKNOWN
    from portlint.analysis.apis.sail_api import _bmodel_input_shape

    return Seq(ApiObject("portlint.OnnxInput", attrs={"shape": _bmodel_input_shape(ctx.interp), "name": UNKNOWN,
                                                       "type": UNKNOWN}))


@handles("portlint.Model.load_state_dict", "portlint.Model.*")
def _model_other(ctx: Ctx):
    return UNKNOWN


@handles("torch.no_grad", "torch.inference_mode", "torch.set_grad_enabled", "torch.device", "torch.cuda.is_available")
def _misc(ctx: Ctx):
    if ctx.qname == "torch.cuda.is_available":
        return UNKNOWN
    return ApiObject(ctx.qname, site=ctx.site)


@handles("portlint.ModelOutputs.__getitem__")
def _outputs_item(ctx: Ctx):
    outputs, index = ctx.args[0], ctx.args[1]
    return ApiObject("portlint.ModelOutput", attrs={"outputs": outputs, "index": index})


# torch 2.14.1, measured against cv2 on skimage's chelsea as float32 (docs/facts.md):
# bilinear/bicubic with align_corners=False equal INTER_LINEAR/INTER_CUBIC to 0.002;
# align_corners=True differs by up to 15.8; antialias=True (downscaling) by 26.8 at 224x224;
# mode "nearest" equals INTER_NEAREST when upscaling but picks other pixels when shrinking (52),
# "nearest-exact" differs from both (122).
_INTERPOLATE_MODES = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic", "area": "area",
                      "nearest-exact": "nearest-exact", "linear": "bilinear", "trilinear": "bilinear"}


@handles("torch.nn.functional.interpolate", "torch.nn.functional.upsample")
def _interpolate(ctx: Ctx):
    """F.interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
    recompute_scale_factor=None, antialias=False) on an N,C,H,W image."""
    img = ctx.arg(0, "input")
    if not isinstance(img, Img):
        return UNKNOWN
    size = ctx.arg(1, "size", None)
    factor = ctx.arg(2, "scale_factor", None)
    mode = ctx.arg(3, "mode", "nearest")
    corners = ctx.arg(4, "align_corners", None)
    antialias = ctx.arg(6, "antialias", False)
    h, w = img.state.size
    if isinstance(size, (list, tuple)) and len(size) == 2:
        out = tuple(size)
    elif isinstance(size, (int, Sym)) and not isinstance(size, bool):
        out = (size, size)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        out = (numeric_op("floor", numeric_op("mul", h, factor)), numeric_op("floor", numeric_op("mul", w, factor)))
    else:
        out = (UNKNOWN, UNKNOWN)
    interp = _INTERPOLATE_MODES.get(mode) if isinstance(mode, str) else None
    if interp in ("bilinear", "bicubic") and corners is True:
        interp += "-align-corners"
    elif corners is not None and corners is not False and interp in ("bilinear", "bicubic"):
        interp = None  # unknown align_corners: unknown sampling
    op = ctx.op(Resize, library="torch", out=out, in_=(h, w), interp=interp, interp_given=ctx.has(3, "mode"),
                antialias=antialias is True, mode="fixed", order="hw", size_node=ctx.arg_node(1, "size"),
                interp_node=ctx.arg_node(3, "mode"))
    return img.evolve(op, size=out)


@handles("torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel",
         "torch.nn.DistributedDataParallel", "mmcv.parallel.MMDataParallel", "mmcv.parallel.MMDistributedDataParallel",
         "mmcv.parallel.data_parallel.MMDataParallel", "mmcv.parallel.distributed.MMDistributedDataParallel")
def _data_parallel(ctx: Ctx):
    """`DataParallel(model)` runs the module it wraps on each device's slice of the batch: for
    the pre-processing it is that module (its forward, its eval/to chains). mmcv's
    MMDataParallel is a DataParallel that first unwraps DataContainers (mmcv/parallel/data_parallel.py)."""
    module = ctx.arg(0, "module")
    return module if module is not None else UNKNOWN


@handles("torch.multiprocessing.spawn", "torch.multiprocessing.spawn.spawn", "torch.multiprocessing.start_processes")
def _spawn(ctx: Ctx):
    """`mp.spawn(main_worker, nprocs=n, args=(...))` runs `main_worker(i, *args)` in each of n
    processes (torch/multiprocessing/spawn.py); process 0 stands for them all."""
    fn = ctx.arg(0, "fn")
    args = ctx.arg(1, "args", ())
    if fn is UNKNOWN or not isinstance(args, (tuple, list)):
        return None
    ctx.interp.call(fn, [0, *args], {}, ctx.site)
    return None
