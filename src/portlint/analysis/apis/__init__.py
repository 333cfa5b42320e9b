"""API facts as data and code: what each library call does to an image, a value or a model.

`call_api`, `get_attribute`, `subscript`, `binop` and `store_into` are the interpreter's only
doors into library semantics; each library lives in its own module and registers its handlers.
"""

from __future__ import annotations



import libcst as cst

from portlint.analysis.apis import common
from portlint.analysis.apis.common import HANDLERS, Ctx
from portlint.analysis.image import Img
from portlint.analysis.unknowns import is_model_stride
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, BoundApi, Namespace, Seq, Sym

_CANONICAL_PREFIXES = (
    ("torchvision.transforms.v2.functional.", "torchvision.transforms.functional."),
    ("torchvision.transforms.transforms.", "torchvision.transforms."),
    ("torchvision.transforms.v2.", "torchvision.transforms."),
    ("torchvision.transforms.functional_pil.", "torchvision.transforms.functional."),
    ("cv2.cv2.", "cv2."),
    ("PIL.Image.Resampling.", "PIL.Image."),
    ("PIL.Image.Transpose.", "PIL.Image."),
    ("sophon.sail.sail.", "sophon.sail."),
    ("sail.", "sophon.sail."),
    ("np.", "numpy."),
    ("numpy.core.", "numpy."),
    ("torch.nn.modules.module.", "torch.nn."),
    ("torch.utils.data.dataloader.", "torch.utils.data."),
    ("torch.utils.data.dataset.", "torch.utils.data."),
    # mmcv 1.x re-exports mmcv.utils and mmcv.image at the top (mmcv/__init__.py: `from .utils import *`)
    ("mmcv.utils.config.", "mmcv."),
    ("mmcv.utils.registry.", "mmcv."),
    ("mmcv.utils.", "mmcv."),
    ("mmcv.image.geometric.", "mmcv."),
    ("mmcv.image.photometric.", "mmcv."),
    ("mmcv.image.io.", "mmcv."),
    ("mmcv.image.", "mmcv."),
    ("mmcv.parallel.collate.", "mmcv.parallel."),
)
_CANONICAL_EXACT = {"sail": "sophon.sail", "np": "numpy", "sophon.sail.sail": "sophon.sail",
                    "torchvision.transforms.v2": "torchvision.transforms",
                    # mmcv/utils/parrots_wrapper.py on PyTorch: torch's DataLoader, PoolDataLoader = DataLoader
                    "mmcv.utils.parrots_wrapper.DataLoader": "torch.utils.data.DataLoader",
                    "mmcv.utils.parrots_wrapper.PoolDataLoader": "torch.utils.data.DataLoader",
                    "mmcv.parrots_wrapper.DataLoader": "torch.utils.data.DataLoader",
                    "mmcv.parrots_wrapper.PoolDataLoader": "torch.utils.data.DataLoader"}


_CANONICAL_SEEN: dict = {}  # qname -> canonical name: the tables are constant, lookups repeat


def canonical(qname: str) -> str:
    """The one name an API goes by (`np.x` -> `numpy.x`, mmcv's and mmengine's aliases), from
    the constant tables above; remembered per name (37,000 lookups on the benchmark corpus,
    a few hundred distinct names)."""
    found = _CANONICAL_SEEN.get(qname)
    if found is None:
        found = _CANONICAL_SEEN[qname] = _canonical(qname)
    return found


def _canonical(qname: str) -> str:
    if qname in _CANONICAL_EXACT:
        return _CANONICAL_EXACT[qname]
    if qname.startswith(("mmengine.", "mmcv.transforms.")):
        for prefix, repl in mmengine_api.CANONICAL_PREFIXES:
            if qname.startswith(prefix):
                return repl + qname[len(prefix):]
        return mmengine_api.CANONICAL_EXACT.get(qname, qname)
    for prefix, repl in _CANONICAL_PREFIXES:
        if qname.startswith(prefix):
            return repl + qname[len(prefix):]
    return qname


# Modules import their handlers into HANDLERS / CONSTANTS (import order does not matter).
from portlint.analysis.apis import (  # noqa: E402  (registration side effects)
    builtins_api, config_api, cv2_api, data_api, decord_api, eval_api, hub_api, mmcv_api, mmengine_api, numpy_api, pil_api,
    post_api, sail_api, torch_api, torchvision_api,
)
from portlint.analysis.apis.constants import CONSTANTS  # noqa: E402

_IMAGE_NAMES = ("img", "image", "im", "frame", "src", "pic", "input", "bmimg", "x", "tensor", "data", "ori")


# a name about an image that is not one: `image_size`, `img_path`, `input_shape`, `frame_id`
_NOT_IMAGE_SUFFIXES = ("size", "sizes", "shape", "path", "paths", "file", "files", "dir", "name", "names",
                       "id", "ids", "type", "format", "num", "count", "idx", "index", "url", "ext", "mode")


def looks_like_image(name: str) -> bool:
    low = name.lower()
    if "_" in low and low.rsplit("_", 1)[1] in _NOT_IMAGE_SUFFIXES:
        return False
    return low in ("x", "im") or any(part in low for part in _IMAGE_NAMES if len(part) > 2)


def builtin(name: str):
    if f"builtins.{name}" in HANDLERS:
        return ApiRef(f"builtins.{name}")
    return UNKNOWN


_KIND_PREFIX = {"ndarray": "numpy.ndarray", "pil": "PIL.Image.Image", "tensor": "torch.Tensor", "bmimage": "sophon.sail.BMImage"}


def get_attribute(interp, obj, name: str, site):
    if isinstance(obj, ApiRef):
        q = canonical(f"{obj.qname}.{name}")
        if q in CONSTANTS:
            return CONSTANTS[q]
        return ApiRef(q)
    if isinstance(obj, ApiObject):
        if name in obj.attrs:
            return obj.attrs[name]
        return BoundApi(obj, f"{obj.qname}.{name}")
    if isinstance(obj, Img):
        prefix = _KIND_PREFIX.get(obj.state.kind, "numpy.ndarray")
        getter = HANDLERS.get(f"{prefix}.@{name}")
        if getter is not None:
            return getter(obj)
        return BoundApi(obj, f"{prefix}.{name}")
    if isinstance(obj, config_api.PathValue):
        found = config_api.path_attribute(obj, name)
        return found if found is not None else BoundApi(obj, f"pathlib.Path.{name}")
    if isinstance(obj, config_api.AttrDict):
        return obj[name] if name in obj else BoundApi(obj, f"dict.{name}")
    if isinstance(obj, config_api.FileValue):
        return BoundApi(obj, f"portlint.File.{name}")
    if isinstance(obj, list):
        return BoundApi(obj, f"list.{name}")
    if isinstance(obj, dict):
        return BoundApi(obj, f"dict.{name}")
    if isinstance(obj, str):
        return BoundApi(obj, f"str.{name}")
    if isinstance(obj, Seq):
        return BoundApi(obj, f"seq.{name}")
    if isinstance(obj, tuple):
        return BoundApi(obj, f"tuple.{name}")
    if isinstance(obj, numpy_api.ConstArray):
        getter = HANDLERS.get(f"constarray.@{name}")
        if getter is not None:
            return getter(obj)
        return BoundApi(obj, f"constarray.{name}")
    if isinstance(obj, Sym) and is_model_stride(obj) and name in ("max", "item"):
        return BoundApi(obj, "portlint.model_stride." + name)  # `model.stride.max()`: the stride itself
    if isinstance(obj, numpy_api.Canvas):
        if name == "shape":
            return obj.shape
        return BoundApi(obj, f"canvas.{name}")
    return UNKNOWN


def call_api(interp, func, args, kwargs, site, frame=None, node=None):
    if isinstance(func, ApiRef):
        handler = HANDLERS.get(func.qname)
        ctx = Ctx(interp, site, list(args), kwargs, frame, node, func.qname)
        if handler is not None:
            return handler(ctx)
        if torch_api.is_model_factory(func.qname):
            return torch_api._model_factory(ctx)
        if _is_class_name(func.qname):
            return ApiObject(func.qname, tuple(args), dict(kwargs), site=site)
        return _unknown_library_call(interp, func.qname, args, kwargs, site)
    if isinstance(func, BoundApi):
        handler = HANDLERS.get(func.qname)
        ctx = Ctx(interp, site, [func.target] + list(args), kwargs, frame, node, func.qname)
        ctx._offset = 1
        if handler is not None:
            return handler(ctx)
        if isinstance(func.target, ApiObject):
            generic = HANDLERS.get(f"{func.target.qname}.*")
            if generic is not None:
                return generic(ctx)
        return UNKNOWN
    if isinstance(func, ApiObject):
        handler = HANDLERS.get(f"{func.qname}.__call__")
        ctx = Ctx(interp, site, [func] + list(args), kwargs, frame, node, f"{func.qname}.__call__")
        ctx._offset = 1
        if handler is not None:
            return handler(ctx)
        return UNKNOWN
    if func is UNKNOWN and node is not None:
        images = common.image_args(args, kwargs)
        name = _callee_name(node.func).lower()
        if images and any(k in name for k in ("model", "net", "session", "infer", "predict")):
            interp.record_sink(images[0], site, "call:" + _callee_name(node.func))
    return UNKNOWN


def is_class_decorator(value) -> bool:
    """A library decorator that registers a class (mmcv's / mmengine's `@REGISTRY.register_module()`)."""
    return isinstance(value, ApiObject) and value.qname in (mmcv_api.REGISTER_DECORATOR, mmengine_api.REGISTER_DECORATOR)


def _unknown_library_call(interp, qname, args, kwargs, site):
    return UNKNOWN


def _is_class_name(qname: str) -> bool:
    last = qname.rsplit(".", 1)[-1]
    return last[:1].isupper() and not last.isupper()


def _callee_name(node) -> str:
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return node.attr.value
    return ""


def class_attr(cls, name: str):
    """A classmethod a program class inherits from a library base (`Model.from_pretrained` of a
    hub mixin): the library's handler, given the class; otherwise unknown."""
    for base in sorted(cls.api_bases()):
        qname = f"{canonical(base)}.{name}"
        if qname in HANDLERS:
            return BoundApi(cls, qname)
    return UNKNOWN


def instance_attr(obj, name: str):
    """Library methods of the program's own nn.Module subclasses (eval, to, cuda...)."""
    if is_torch_module_class(obj.cls) and name in ("eval", "train", "to", "cuda", "cpu", "half", "float", "register_buffer"):
        return BoundApi(obj, f"portlint.Module.{name}")
    inherited = mmengine_api.library_method(obj.cls, name)  # BaseModel.test_step, BaseTransform.__call__
    if inherited is not None:
        return BoundApi(obj, inherited)
    return UNKNOWN


def is_torch_module_class(cls) -> bool:
    return any(q.startswith("torch.nn.") or q in ("torch.nn.Module", "nn.Module") or q in mmengine_api.TORCH_MODULE_BASES
               for q in cls.api_bases())


def model_call(interp, model, args, kwargs, site):
    images = common.image_args(args, kwargs)
    if images:
        interp.record_sink(images[0], site, "torch.nn.Module.__call__", model)
    return torch_api.model_output(interp, model, site)


def subscript(interp, container, index, site):
    if isinstance(container, (tuple, list)):
        if isinstance(index, int) and not isinstance(index, bool):
            return container[index] if -len(container) <= index < len(container) else UNKNOWN
        if isinstance(index, slice) and all(isinstance(v, (int, type(None))) for v in (index.start, index.stop, index.step)):
            return container[index]
        if isinstance(index, slice):
            return UNKNOWN
        if isinstance(container, list) and container and all(isinstance(v, Img) for v in container):
            # a list of images indexed by a run-time position: any of them (the most processed)
            return max(container, key=lambda v: len(v.state.ops))
        return UNKNOWN
    if isinstance(container, dict):
        if index is UNKNOWN or isinstance(index, Sym):
            return _any_value(interp, container)
        try:
            if index in container:
                return container[index]
        except TypeError:
            return UNKNOWN
        return UNKNOWN
    if isinstance(container, str) and isinstance(index, (int, slice)):
        try:
            return container[index]
        except (IndexError, TypeError):
            return UNKNOWN
    if isinstance(container, Seq):
        if isinstance(index, slice):
            return container
        return container.elem
    if isinstance(container, Img):
        return numpy_api.slice_image(interp, container, index, site)
    if isinstance(container, numpy_api.ConstArray):
        return numpy_api.const_subscript(container, index)
    if isinstance(container, ApiRef) and container.qname.endswith(".__dict__") and isinstance(index, str):
        # `torchvision.models.__dict__[arch]`: the module's member of that name
        return get_attribute(interp, ApiRef(container.qname[: -len(".__dict__")]), index, site)
    if isinstance(container, ApiObject):
        handler = HANDLERS.get(f"{container.qname}.__getitem__")
        if handler is not None:
            return handler(Ctx(interp, site, [container, index], {}, qname=f"{container.qname}.__getitem__"))
    return UNKNOWN


MAX_DISPATCH = 8


def _any_value(interp, container: dict):
    """`FACTORIES[opt.task]`, `task_map[self.task]` with a key not known statically: any of the
    values, merged (objects become a Union that each later call or attribute applies to)."""
    from portlint.analysis.merging import merge_values

    values = list(container.values())
    if not values or len(values) > MAX_DISPATCH:
        return UNKNOWN
    out = values[0]
    for v in values[1:]:
        out = merge_values(out, v)
    return out


def store_into(interp, container, index, value, site):
    return numpy_api.store_into(interp, container, index, value, site)


def binop(interp, op, left, right, site):
    if op == "truediv" and (isinstance(left, config_api.PathValue) or isinstance(right, config_api.PathValue)):
        return config_api.path_join(left, right)
    if isinstance(left, Img) or isinstance(right, Img):
        return numpy_api.image_arith(interp, op, left, right, site)
    if isinstance(left, numpy_api.ConstArray) or isinstance(right, numpy_api.ConstArray):
        return numpy_api.const_arith(op, left, right)
    if isinstance(left, numpy_api.Canvas) or isinstance(right, numpy_api.Canvas):
        return numpy_api.canvas_arith(op, left, right)
    if isinstance(left, list) and isinstance(right, (int, float)) and op in ("add", "sub", "mul", "truediv"):
        if op == "mul" and type(right) is int:
            return NotImplemented  # list repetition: `opt.imgsz *= 2 if len(opt.imgsz) == 1 else 1` (yolov5 detect.py)
        return UNKNOWN
    return NotImplemented


def object_element(interp, obj: ApiObject, site):
    """An element of iterating a library object (a DataLoader's batch, a dataset's sample)."""
    handler = HANDLERS.get(f"{obj.qname}.__iter__.element")
    if handler is not None:
        return handler(Ctx(interp, site, [obj], {}, qname=f"{obj.qname}.__iter__.element"))
    return UNKNOWN


def unpack_image(img: Img, n: int) -> list:
    return [UNKNOWN] * n


def image_element(img: Img):
    return numpy_api.drop_batch(img)
