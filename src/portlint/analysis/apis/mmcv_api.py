"""mmcv 1.x: configuration files read as data, registries, and the image functions the
OpenMMLab transforms call. Facts from the mmcv source (mirror open-mmlab/mmcv, tag v1.7.0):

- `Config.fromfile` (mmcv/utils/config.py `_file2dict`, `_merge_a_into_b`): `_base_` (a path or a
  list of paths, relative to the config's folder) is read first, the bases' keys joined; the
  child's keys then override: a dict value merges key by key into the base's dict unless it holds
  `_delete_=True`, which replaces it; any other value replaces. mmcv executes the file; here it is
  parsed (ast) and only literal assignments are evaluated (config_file.py), never run.
- `Registry.register_module(name=None, force=False, module=None)` (mmcv/utils/registry.py) keys
  the class by `name` or its `__name__`; `build_from_cfg(cfg, registry, default_args)` copies cfg,
  sets default_args' missing keys, pops `type` and calls the class with the rest as keywords.
- images (mmcv/image/io.py, geometric.py, photometric.py): `imread`/`imfrombytes` decode with cv2
  (flag 'color' = IMREAD_COLOR, BGR); `imresize(img, (w, h))` is cv2.resize with
  interpolation 'bilinear' (INTER_LINEAR) by default; `rescale_size((w, h), scale)` takes
  scale_factor = min(max(scale)/max(h, w), min(scale)/min(h, w)) for a tuple scale and rounds
  `int(x * scale_factor + 0.5)`; `imrescale` is imresize to that size; `imnormalize(img, mean,
  std, to_rgb=True)` converts to float32, swaps BGR->RGB when to_rgb, then (x - mean) / std;
  `impad(img, shape=(h, w))` pads bottom and right only (padding (0, 0, w' - w, h' - h)) with
  pad_val; `impad_to_multiple` pads to ceil(side / divisor) * divisor the same way.
"""

from __future__ import annotations

from portlint.analysis.apis import config_file
from portlint.analysis.apis.common import Ctx, handles, normalized, permute_channels, set_dtype
from portlint.analysis.apis.config_api import AttrDict, path_text, read_data
from portlint.analysis.apis.cv2_api import _decode
from portlint.analysis.image import Img
from portlint.analysis.ops import Colour, Dtype, Normalize, Other, Pad, Resize
from portlint.analysis.objects import ClassVal, FunctionVal
from portlint.analysis.values import UNKNOWN, ApiObject, Seq, numeric_op

REGISTRY = "mmcv.Registry"
REGISTER_DECORATOR = "mmcv.Registry.register_module.decorator"
_INTERP = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic", "area": "area", "lanczos": "lanczos"}
_FLAGS = {"color": 1, "grayscale": 0, "unchanged": -1, "color_ignore_orientation": 129, "grayscale_ignore_orientation": 128}


# ------------------------------------------------------------------ Config.fromfile

@handles("mmcv.Config.fromfile", "mmcv.Config.__init__.fromfile")
def _config_fromfile(ctx: Ctx):
    path = path_text(ctx.arg(0, "filename"))
    if path is None:
        return UNKNOWN
    value = config_file.load(lambda p: read_data(ctx.interp, p, (".py", ".json", ".yaml", ".yml")), path)
    return AttrDict(value) if isinstance(value, dict) else UNKNOWN


@handles("mmcv.Config", "mmcv.ConfigDict")
def _config(ctx: Ctx):
    base = ctx.arg(0, "cfg_dict", None)
    if base is None:
        return AttrDict()
    return AttrDict(config_file.attr_dicts(base)) if isinstance(base, dict) else UNKNOWN


# ------------------------------------------------------------------ registries

def _registry_of(value):
    return value if isinstance(value, ApiObject) and value.qname == REGISTRY else None


@handles(REGISTRY)
def _registry(ctx: Ctx):
    return ApiObject(REGISTRY, tuple(ctx.args), dict(ctx.kwargs), attrs={"_module_dict": {}, "name": ctx.arg(0, "name")},
                     site=ctx.site)


def _register(registry: ApiObject, cls, name) -> None:
    names = name if isinstance(name, (list, tuple)) else [name if isinstance(name, str) else cls.name]
    for n in names:
        if isinstance(n, str):
            registry.attrs["_module_dict"][n] = cls


@handles("mmcv.Registry.register_module", "mmengine.registry.Registry.register_module")
def _register_module(ctx: Ctx):
    """register_module(name=None, force=False, module=None) of mmcv 1.x and mmengine: a class or a
    function (mmcv/utils/registry.py:262 isclass or isfunction) keyed by name or its __name__."""
    registry = ctx.args[0]
    name, module = ctx.arg(1, "name", None), ctx.arg(3, "module", None)
    if isinstance(module, (ClassVal, FunctionVal)):
        _register(registry, module, name)
        return module
    return ApiObject(f"{registry.qname}.register_module.decorator", attrs={"registry": registry, "name": name})


@handles(REGISTER_DECORATOR + ".__call__", "mmengine.registry.Registry.register_module.decorator.__call__")
def _register_decorator(ctx: Ctx):
    deco, cls = ctx.args[0], ctx.arg(1)
    if isinstance(cls, (ClassVal, FunctionVal)):
        _register(deco.attrs["registry"], cls, deco.attrs["name"])
    return cls


@handles("mmcv.Registry.get")
def _registry_get(ctx: Ctx):
    found = ctx.args[0].attrs["_module_dict"].get(ctx.arg(1, "key"))
    return found if found is not None else UNKNOWN


@handles("mmcv.Registry.build")
def _registry_build(ctx: Ctx):
    return build_from_cfg(ctx, ctx.arg(1, "cfg"), ctx.args[0], ctx.kwargs.get("default_args"))


@handles("mmcv.build_from_cfg")
def _build_from_cfg(ctx: Ctx):
    return build_from_cfg(ctx, ctx.arg(0, "cfg"), ctx.arg(1, "registry"), ctx.arg(2, "default_args", None))


def cfg_arguments(cfg, default_args):
    """build_from_cfg's copy of a config dict: its keys, with default_args' missing ones set
    (mmcv 1.x and mmengine alike); None when the config is not a dict."""
    if not isinstance(cfg, dict):
        return None
    args = dict(cfg)
    if isinstance(default_args, dict):
        for k, v in default_args.items():
            args.setdefault(k, v)
    return args


def call_built(ctx: Ctx, cls, args: dict, kinds=(ClassVal,)):
    """The registered class (or function) called with the config's other keys as keywords."""
    if not isinstance(cls, kinds) or not all(isinstance(k, str) for k in args):
        return UNKNOWN
    return ctx.interp.call(cls, [], args, ctx.site)


def build_from_cfg(ctx: Ctx, cfg, registry, default_args):
    registry = _registry_of(registry)
    args = cfg_arguments(cfg, default_args)
    if args is None or registry is None:
        return UNKNOWN
    kind = args.pop("type", None)
    cls = registry.attrs["_module_dict"].get(kind) if isinstance(kind, str) else kind
    return call_built(ctx, cls, args)


# ------------------------------------------------------------------ images

@handles("mmcv.imread")
def _imread(ctx: Ctx):
    source = ctx.arg(0, "img_or_path")
    if isinstance(source, Img):
        return source  # an array is returned as it is
    return _decoded(ctx, "file")


@handles("mmcv.imfrombytes")
def _imfrombytes(ctx: Ctx):
    return _decoded(ctx, "buffer")


def _decoded(ctx: Ctx, source: str):
    flag, order = ctx.arg(1, "flag", "color"), ctx.arg(2, "channel_order", "bgr")
    img = _decode(ctx, _FLAGS.get(flag, UNKNOWN) if isinstance(flag, str) else UNKNOWN, ctx.qname, source)
    if isinstance(order, str) and order.lower() == "rgb" and flag in ("color", "color_ignore_orientation"):
        return permute_channels(img, (2, 1, 0), ctx.op(Colour, library="cv2", kind="swap3"))
    return img


def _resized(ctx: Ctx, img: Img, out_w, out_h, interp_index: int):
    interp = ctx.arg(interp_index, "interpolation", "bilinear")
    op = ctx.op(Resize, library="cv2", out=(out_h, out_w), in_=img.state.size,
                interp=_INTERP.get(interp) if isinstance(interp, str) else None,
                interp_given=ctx.has(interp_index, "interpolation"), antialias=False, mode="fixed", order="wh",
                interp_node=ctx.arg_node(interp_index, "interpolation"))
    return img.evolve(op, size=(out_h, out_w))


@handles("mmcv.imresize")
def _imresize(ctx: Ctx):
    img, size = ctx.arg(0, "img"), ctx.arg(1, "size")
    if not isinstance(img, Img) or not (isinstance(size, (tuple, list)) and len(size) == 2):
        return UNKNOWN
    out = _resized(ctx, img, size[0], size[1], 3)
    if ctx.arg(2, "return_scale", False):
        h, w = img.state.size
        return out, numeric_op("truediv", size[0], w), numeric_op("truediv", size[1], h)
    return out


def rescale_size(w, h, scale):
    """(new_w, new_h, scale_factor) of mmcv.rescale_size((w, h), scale)."""
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        factor = scale
    elif isinstance(scale, (tuple, list)) and len(scale) == 2 and all(isinstance(s, (int, float)) for s in scale):
        long_edge, short_edge = max(scale), min(scale)
        factor = numeric_op("min", numeric_op("truediv", long_edge, numeric_op("max", h, w)),
                            numeric_op("truediv", short_edge, numeric_op("min", h, w)))
    else:
        return UNKNOWN, UNKNOWN, UNKNOWN

    def scaled(side):
        return numeric_op("int", numeric_op("add", numeric_op("mul", side, numeric_op("float", factor)), 0.5))

    return scaled(w), scaled(h), factor


@handles("mmcv.rescale_size")
def _rescale_size(ctx: Ctx):
    old, scale = ctx.arg(0, "old_size"), ctx.arg(1, "scale")
    if not (isinstance(old, (tuple, list)) and len(old) == 2):
        return UNKNOWN
    new_w, new_h, factor = rescale_size(old[0], old[1], scale)
    return ((new_w, new_h), factor) if ctx.arg(2, "return_scale", False) else (new_w, new_h)


@handles("mmcv.imrescale")
def _imrescale(ctx: Ctx):
    img = ctx.arg(0, "img")
    if not isinstance(img, Img):
        return UNKNOWN
    h, w = img.state.size
    new_w, new_h, factor = rescale_size(w, h, ctx.arg(1, "scale"))
    out = _resized(ctx, img, new_w, new_h, 3)
    return (out, factor) if ctx.arg(2, "return_scale", False) else out


def _channel_values(value):
    data = getattr(value, "data", value)
    if isinstance(data, (tuple, list)) and data and all(isinstance(x, (int, float)) for x in data):
        return tuple(float(x) for x in data)
    return None


@handles("mmcv.imnormalize")
def _imnormalize(ctx: Ctx):
    img = ctx.arg(0, "img")
    if not isinstance(img, Img):
        return UNKNOWN
    mean, std = _channel_values(ctx.arg(1, "mean")), _channel_values(ctx.arg(2, "std"))
    to_rgb = ctx.arg(3, "to_rgb", True)
    out = set_dtype(img, "float32", ctx.op(Dtype, to="float32"))
    if to_rgb is True and out.state.channels and len(out.state.channels) == 3:
        out = permute_channels(out, (2, 1, 0), ctx.op(Colour, library="cv2", code=4, kind="swap3"))
    elif to_rgb is not False:
        out = out.evolve(ctx.op(Colour, library="cv2", kind=None), channels=None, affine=None)
    if mean is None or std is None or (len(mean) != len(std)):
        return normalized(out, ctx.op(Normalize, library="cv2"))
    scale = tuple(1.0 / s for s in std)
    offset = tuple(-m / s for m, s in zip(mean, std))
    return normalized(out, ctx.op(Normalize, library="cv2", scale=scale if len(scale) > 1 else scale[0],
                                  offset=offset if len(offset) > 1 else offset[0]))


def _pad(ctx: Ctx, img: Img, bottom, right, value):
    h, w = img.state.size
    if isinstance(value, (int, float)) and not isinstance(value, bool) and img.state.channels and len(img.state.channels) > 1:
        value = (value,) * len(img.state.channels)  # mmcv passes a number as every channel's value
    value = _in_pixels(value, img.state.affine)
    out = (numeric_op("add", h, bottom), numeric_op("add", w, right))
    op = ctx.op(Pad, library="cv2", top=0, bottom=bottom, left=0, right=right, value=value, border=0,
                placement="top-left", in_=(h, w), out=out, value_node=ctx.arg_node(None, "pad_val"))
    return img.evolve(op, size=out)


def _in_pixels(value, affine):
    """The fill as grey levels of the decoded image (what the rules compare): an mmdet Pad after
    Normalize fills 0 in normalised units, which is pixel 127.5 for mean 127.5, std 128 (SCRFD's
    test pipeline), the value a port padding before normalising has to use."""
    if not (isinstance(value, tuple) and affine and len(affine) == len(value)):
        return value
    if not all(isinstance(a, (int, float)) and a and isinstance(b, (int, float)) for a, b in affine):
        return value
    if all(a == 1 and b == 0 for a, b in affine):
        return value
    return tuple((v - b) / a for v, (a, b) in zip(value, affine))


@handles("mmcv.impad")
def _impad(ctx: Ctx):
    img = ctx.arg(0, "img")
    shape, padding = ctx.kwargs.get("shape"), ctx.kwargs.get("padding")
    value = ctx.kwargs.get("pad_val", 0)
    if not isinstance(img, Img) or ctx.kwargs.get("padding_mode", "constant") != "constant":
        return UNKNOWN
    h, w = img.state.size
    if isinstance(shape, (tuple, list)) and len(shape) >= 2 and padding is None:
        bottom = numeric_op("max", numeric_op("sub", shape[0], h), 0)
        right = numeric_op("max", numeric_op("sub", shape[1], w), 0)
        return _pad(ctx, img, bottom, right, value)
    return img.evolve(ctx.op(Other, function="mmcv.impad"), size=(UNKNOWN, UNKNOWN))


@handles("mmcv.impad_to_multiple")
def _impad_to_multiple(ctx: Ctx):
    img, divisor = ctx.arg(0, "img"), ctx.arg(1, "divisor")
    if not isinstance(img, Img) or not isinstance(divisor, int):
        return UNKNOWN
    h, w = img.state.size

    def up(side):
        return numeric_op("sub", numeric_op("mul", numeric_op("ceil", numeric_op("truediv", side, divisor)), divisor), side)

    return _pad(ctx, img, up(h), up(w), ctx.arg(2, "pad_val", 0))


@handles("mmcv.imflip", "mmcv.imflip_")
def _imflip(ctx: Ctx):
    img = ctx.arg(0, "img")
    if not isinstance(img, Img):
        return UNKNOWN
    return img.evolve(ctx.op(Other, function="imflip"))


# ------------------------------------------------------------------ batching

@handles("mmcv.parallel.collate")
def _collate(ctx: Ctx):
    """collate([sample], samples_per_gpu): a dict keeps its keys, a list its positions, an array
    or tensor gains the batch axis (torch.stack, mmcv/parallel/collate.py)."""
    batch = ctx.arg(0, "batch")
    if isinstance(batch, Seq):  # a DataLoader's batch of samples like one
        return _collate_one(ctx, batch.elem)
    if not isinstance(batch, (list, tuple)) or len(batch) != 1:
        return UNKNOWN
    return _collate_one(ctx, batch[0])


def _collate_one(ctx: Ctx, value):
    from portlint.analysis.apis.numpy_api import add_batch

    if isinstance(value, Img):
        return add_batch(value, ctx.site, ctx.qname)
    if isinstance(value, dict):
        return {k: _collate_one(ctx, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_collate_one(ctx, v) for v in value]
    return UNKNOWN



# ------------------------------------------------------------------ type checks (mmcv/utils/misc.py)

_PY = {"builtins.int": int, "builtins.float": float, "builtins.str": str, "builtins.bool": bool,
       "builtins.list": list, "builtins.tuple": tuple, "builtins.dict": dict}
_SEQ = {"mmcv.is_list_of": (list,), "mmcv.is_tuple_of": (tuple,), "mmcv.is_seq_of": (list, tuple)}


@handles(*_SEQ)
def _is_seq_of(ctx: Ctx):
    """is_seq_of(seq, expected_type): seq is a sequence (list for is_list_of, tuple for
    is_tuple_of) whose items are all of the type; decided on known Python values only."""
    seq, expected = ctx.arg(0, "seq"), ctx.arg(1, "expected_type")
    kind = _PY.get(getattr(expected, "qname", None))
    if seq is None or isinstance(seq, (int, float, str, dict)):
        return False
    if not isinstance(seq, (list, tuple)) or kind is None or ctx.has(2, "seq_type"):
        return UNKNOWN
    if not isinstance(seq, _SEQ[ctx.qname]):
        return False
    items = [isinstance(x, kind) if isinstance(x, (int, float, str, bool, list, tuple, dict, type(None))) else None for x in seq]
    return UNKNOWN if None in items else all(items)


@handles("mmcv.is_str")
def _is_str(ctx: Ctx):
    v = ctx.arg(0, "x")
    return isinstance(v, str) if isinstance(v, (int, float, str, bool, list, tuple, dict, type(None))) else UNKNOWN
