"""mmengine (0.x) and mmcv 2.x: the OpenMMLab 2.x engine a config-driven original runs on
(mmdet 3, mmseg 1, mmpose 1, mmaction2 1.x). These are libraries outside the user's repository,
so what they do is stated here as facts, read from their source: mmengine v0.5.0 (mirror
open-mmlab/mmengine, Jan 2023, the version mmaction2 v1.0.0rc3 requires: mmaction/__init__.py
`mmengine_minimum_version = '0.5.0'`) and mmcv v2.0.0rc3.

- `Config.fromfile` (mmengine/config/config.py `_file2dict`, `_merge_a_into_b`): `_base_` files
  read first and merged, a child dict merging key by key unless `_delete_=True`, as mmcv 1.x
  (mmcv_api.py, config_file.py; the file is parsed, never executed).
- `Registry(name, build_func=None, parent=None, scope=None, locations=[])`
  (mmengine/registry/registry.py:74-115): the scope is the given one or `infer_scope()`, the
  first component of the module name where `Registry(...)` is called (:129-154); a parent adds
  the registry to its `_children` under that scope (`_add_child`, :523-535).
- `register_module(name=None, force=False, module=None)` keys the class by `name` or its
  `__name__`, as mmcv 1.x.
- `Registry.get(key)` (:360-471): first `import_from_location()`, which imports every module of
  `locations` once (:307-358); then the registry's own `_module_dict`, then its parents'. A key
  `scope.Name` of another scope is looked up in the child of that scope. Here, importing a location
  imports only the module under it that defines `class Name` (or `def Name`): a location is a
  package whose `__init__` imports all of its modules, and what matters is the one that registers
  `Name`; a name no module of the repository defines stays unknown (it is mmengine's own class, in
  the root registry).
- `Registry.build(cfg, default_args=None)` calls `build_from_cfg` (build_functions.py:17-130):
  cfg copied, default_args' missing keys set, `_scope_` popped; inside
  `switch_scope_and_registry(scope)` (registry.py:198-298) the registry used is the root's child
  whose scope is the current default scope (`init_default_scope(scope)`, registry/utils.py:97-116,
  or `_scope_`), else the registry itself; `type` popped, the class got and called with the rest
  as keywords.
- `mmengine.dataset.Compose(transforms)` (dataset/base_dataset.py:18-65): each dict built with the
  root TRANSFORMS registry (so through the default scope's child), callables kept; calling it runs
  each transform on the data in turn and returns None as soon as one returns None.
- `pseudo_collate(batch)` (dataset/utils.py:43-97): a list of dicts becomes one dict whose values
  are the lists of the samples' values, with no stacking.
- `BaseModel.__init__(data_preprocessor=None, init_cfg=None)` (model/base_model/base_model.py:69-82):
  an nn.Module is kept, None means dict(type='BaseDataPreprocessor'), a dict is built with the root
  MODELS registry; it becomes `self.data_preprocessor`.
  `test_step(data)` / `val_step(data)` (:119-146): `data = self.data_preprocessor(data, False)`,
  then `_run_forward(data, mode='predict')` (:314-331): `self(**data, mode=mode)` for a dict,
  `self(*data, mode=mode)` for a list or tuple. `BaseModel` is a `BaseModule`, an `nn.Module`
  (model/base_module.py `class BaseModule(nn.Module, metaclass=ABCMeta)`), and so is
  `BaseDataPreprocessor` (data_preprocessor.py:19), whose `forward` is `cast_data`: the data moved
  to the device, values unchanged (:41-78).
- `stack_batch(tensor_list, pad_size_divisor=1, pad_value=0)` (model/utils.py:14-66): padded
  bottom-right to the largest shape rounded up to the divisor, then `torch.stack`: with tensors of
  one shape and divisor 1 a plain stack.
- mmcv 2.x `BaseTransform.__call__(results)` is `return self.transform(results)`
  (mmcv/transforms/base.py); `mmcv.transforms.to_tensor` is `torch.from_numpy` of an ndarray
  (mmcv/transforms/formatting.py:12-39). The image functions (`mmcv.imresize`, `rescale_size`,
  `imnormalize`, `impad`) are those of mmcv 1.x at the same names (mmcv_api.py); mmcv 2.0.0rc3
  mmcv/image/geometric.py and photometric.py keep their code.
"""

from __future__ import annotations

import os
import re

from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.apis.mmcv_api import _config_fromfile, call_built, cfg_arguments
from portlint.analysis.image import Img
from portlint.analysis.objects import ClassVal, FunctionVal, Instance
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef

REGISTRY = "mmengine.registry.Registry"
REGISTER_DECORATOR = REGISTRY + ".register_module.decorator"
# mmengine/registry/root.py: the root registries every OpenMMLab 2.x registry is a child of
ROOTS = ("RUNNERS", "RUNNER_CONSTRUCTORS", "LOOPS", "HOOKS", "DATASETS", "DATA_SAMPLERS", "TRANSFORMS",
         "MODELS", "MODEL_WRAPPERS", "WEIGHT_INITIALIZERS", "OPTIMIZERS", "OPTIM_WRAPPERS",
         "OPTIM_WRAPPER_CONSTRUCTORS", "PARAM_SCHEDULERS", "METRICS", "EVALUATOR", "TASK_UTILS",
         "VISUALIZERS", "VISBACKENDS", "LOG_PROCESSORS", "INFERENCERS")
ROOT_PREFIX = "mmengine.registry."
# library classes that are nn.Module subclasses (their program subclasses are modules)
TORCH_MODULE_BASES = frozenset({"mmengine.model.BaseModule", "mmengine.model.BaseModel",
                                "mmengine.model.BaseDataPreprocessor", "mmengine.model.ImgDataPreprocessor"})
CANONICAL_PREFIXES = (
    ("mmengine.config.config.", "mmengine."),
    ("mmengine.config.", "mmengine."),
    ("mmengine.registry.registry.", "mmengine.registry."),
    ("mmengine.registry.root.", "mmengine.registry."),
    ("mmengine.registry.utils.", "mmengine.registry."),
    ("mmengine.registry.build_functions.", "mmengine.registry."),
    ("mmengine.dataset.base_dataset.", "mmengine.dataset."),
    ("mmengine.dataset.utils.", "mmengine.dataset."),
    ("mmengine.model.base_model.base_model.", "mmengine.model."),
    ("mmengine.model.base_model.data_preprocessor.", "mmengine.model."),
    ("mmengine.model.base_model.", "mmengine.model."),
    ("mmengine.model.base_module.", "mmengine.model."),
    ("mmengine.model.utils.", "mmengine.model."),
    ("mmengine.utils.misc.", "mmengine."),
    ("mmengine.utils.", "mmengine."),
    ("mmcv.transforms.base.", "mmcv.transforms."),
    ("mmcv.transforms.formatting.", "mmcv.transforms."),
)
# mmengine/__init__.py: `from .registry import *` (registry/__init__.py __all__)
CANONICAL_EXACT = {f"mmengine.{n}": ROOT_PREFIX + n for n in
                   ROOTS + ("Registry", "build_from_cfg", "init_default_scope", "DefaultScope")}
# mmengine/utils/misc.py keeps mmcv 1.x's type checks (mmcv/utils/misc.py) under the same names
CANONICAL_EXACT.update({f"mmengine.{n}": f"mmcv.{n}" for n in ("is_seq_of", "is_list_of", "is_tuple_of", "is_str")})

_STATE = "mmengine"  # interp.library key: {"scope": default scope, "children": {root: [registries]}}


def _state(interp) -> dict:
    return interp.library.setdefault(_STATE, {"scope": None, "children": {}})


def is_registry(value) -> bool:
    return (isinstance(value, ApiObject) and value.qname == REGISTRY) or _root_name(value) is not None


def _root_name(value):
    if isinstance(value, ApiRef) and value.qname.startswith(ROOT_PREFIX) and value.qname[len(ROOT_PREFIX):] in ROOTS:
        return value.qname
    return None


# ------------------------------------------------------------------ Config

@handles("mmengine.Config.fromfile")
def _fromfile(ctx: Ctx):
    return _config_fromfile(ctx)


# ------------------------------------------------------------------ registries

def _module_scope(interp, site) -> str:
    """infer_scope(): the first component of the dotted name of the module calling Registry()."""
    path = getattr(getattr(site, "file", None), "path", None)
    if path is None:
        return UNKNOWN
    folder, name = os.path.split(str(path))
    top = os.path.splitext(name)[0]
    while os.path.isfile(os.path.join(folder, "__init__.py")) and folder != os.path.dirname(folder):
        folder, top = os.path.dirname(folder), os.path.basename(folder)
    return top


@handles(REGISTRY)
def _registry(ctx: Ctx):
    scope = ctx.arg(3, "scope", None)
    if scope is None:
        scope = _module_scope(ctx.interp, ctx.site)
    parent = ctx.arg(2, "parent", None)
    locations = ctx.arg(4, "locations", [])
    registry = ApiObject(REGISTRY, tuple(ctx.args), dict(ctx.kwargs), site=ctx.site, attrs={
        "_module_dict": {}, "name": ctx.arg(0, "name"), "scope": scope, "parent": parent,
        "locations": list(locations) if isinstance(locations, (list, tuple)) else UNKNOWN, "imported": set()})
    root = _root_of(registry)
    if root is not None and isinstance(scope, str):
        _state(ctx.interp)["children"].setdefault(root, []).append(registry)
    return registry


def _root_of(registry):
    seen = 0
    while isinstance(registry, ApiObject) and seen < 16:
        registry, seen = registry.attrs.get("parent"), seen + 1
    return _root_name(registry)


# register_module and its decorator: mmcv_api._register_module (the same code in mmengine)


@handles("mmengine.registry.init_default_scope")
def _init_default_scope(ctx: Ctx):
    scope = ctx.arg(0, "scope")
    _state(ctx.interp)["scope"] = scope if isinstance(scope, str) else UNKNOWN
    return None


def _scoped(interp, registry, scope=None):
    """switch_scope_and_registry: the root's child of the default scope, else the registry."""
    scope = scope if isinstance(scope, str) else _state(interp)["scope"]
    if scope is UNKNOWN:
        return UNKNOWN
    if scope is None:
        return registry
    root = _root_name(registry) or _root_of(registry)
    for child in _state(interp)["children"].get(root, []):
        if child.attrs["scope"] == scope:
            return child
    return registry


_CLASS_RE: dict = {}


def _defines(text: str, name: str) -> bool:
    pattern = _CLASS_RE.get(name)
    if pattern is None:
        pattern = _CLASS_RE[name] = re.compile(rf"^[ \t]*(?:class|def)[ \t]+{re.escape(name)}\b", re.M)
    return pattern.search(text) is not None


def _import_defining(interp, registry: ApiObject, name: str) -> None:
    """import_from_location, for one name: the module under the registry's locations that
    defines it (each file imported once)."""
    from portlint.analysis.source import resolve_local_module

    locations = registry.attrs.get("locations")
    site = registry.site
    if not isinstance(locations, list) or site is None:
        return
    imported = registry.attrs["imported"]
    for loc in locations:
        if not isinstance(loc, str):
            continue
        target = resolve_local_module(site.file.path, 0, loc, interp.import_roots)
        if target is None:
            continue
        folder = str(target.parent) + os.sep if target.name == "__init__.py" else None
        for path, src in list(interp.side.files.items()):
            if path in imported or not (path == target or (folder and str(path).startswith(folder))):
                continue
            if src.module is None or not _defines(src.text, name):
                continue
            imported.add(path)
            interp.module_env(src)
            if name in registry.attrs["_module_dict"]:
                return


def registry_get(interp, registry, key):
    if not isinstance(key, str):
        return UNKNOWN
    scope, _, real = key.rpartition(".")
    if scope and not (isinstance(registry, ApiObject) and scope == registry.attrs.get("scope")):
        other = _scoped(interp, registry, scope)
        if other is registry:
            return UNKNOWN
        return registry_get(interp, other, real)
    node, depth = registry, 0
    while isinstance(node, ApiObject) and depth < 16:
        found = node.attrs["_module_dict"].get(real)
        if found is None:
            _import_defining(interp, node, real)
            found = node.attrs["_module_dict"].get(real)
        if found is not None:
            return found
        node, depth = node.attrs.get("parent"), depth + 1
    return UNKNOWN  # the root registry: mmengine's own classes, not modelled


def build(ctx: Ctx, cfg, registry, default_args=None):
    args = cfg_arguments(cfg, default_args)
    if args is None or not is_registry(registry):
        return UNKNOWN
    registry = _scoped(ctx.interp, registry, args.pop("_scope_", None))
    if registry is UNKNOWN:
        return UNKNOWN
    kind = args.pop("type", None)
    cls = registry_get(ctx.interp, registry, kind) if isinstance(kind, str) else kind
    return call_built(ctx, cls, args, (ClassVal, FunctionVal))


@handles(REGISTRY + ".build", *(ROOT_PREFIX + n + ".build" for n in ROOTS))
def _build(ctx: Ctx):
    registry = ctx.args[0] if ctx.qname.startswith(REGISTRY) else ApiRef(ctx.qname[: -len(".build")])
    offset = 1 if ctx.qname.startswith(REGISTRY) else 0
    return build(ctx, ctx.arg(offset, "cfg"), registry, ctx.arg(offset + 1, "default_args", None))


@handles(REGISTRY + ".get", *(ROOT_PREFIX + n + ".get" for n in ROOTS))
def _get(ctx: Ctx):
    registry = ctx.args[0] if ctx.qname.startswith(REGISTRY) else ApiRef(ctx.qname[: -len(".get")])
    offset = 1 if ctx.qname.startswith(REGISTRY) else 0
    return registry_get(ctx.interp, _scoped(ctx.interp, registry), ctx.arg(offset, "key"))


@handles("mmengine.registry.build_from_cfg")
def _build_from_cfg(ctx: Ctx):
    return build(ctx, ctx.arg(0, "cfg"), ctx.arg(1, "registry"), ctx.arg(2, "default_args", None))


# ------------------------------------------------------------------ data pipeline

COMPOSE = "mmengine.dataset.Compose"


@handles(COMPOSE)
def _compose(ctx: Ctx):
    transforms = ctx.arg(0, "transforms", None)
    if transforms is None:
        transforms = []
    if not isinstance(transforms, (list, tuple)):
        return UNKNOWN
    built = []
    for t in transforms:
        built.append(build(ctx, t, ApiRef(ROOT_PREFIX + "TRANSFORMS")) if isinstance(t, dict) else t)
    return ApiObject(COMPOSE, attrs={"transforms": built}, site=ctx.site)


@handles(COMPOSE + ".__call__")
def _compose_call(ctx: Ctx):
    data = ctx.arg(1, "data")
    for t in ctx.args[0].attrs["transforms"]:
        if t is UNKNOWN or data is UNKNOWN:
            return UNKNOWN
        data = ctx.interp.call(t, [data], {}, ctx.site)
        if data is None:
            return None
    return data


@handles("mmengine.dataset.pseudo_collate")
def _pseudo_collate(ctx: Ctx):
    batch = ctx.arg(0, "data_batch")
    if not isinstance(batch, (list, tuple)) or not batch:
        return UNKNOWN
    if all(isinstance(d, dict) for d in batch):
        keys = list(batch[0])
        if any(list(d) != keys for d in batch):
            return UNKNOWN
        return {k: [d[k] for d in batch] for k in keys}
    return UNKNOWN


@handles("mmcv.transforms.BaseTransform.__call__")
def _transform_call(ctx: Ctx):
    obj = ctx.args[0]
    method = obj.cls.lookup("transform") if isinstance(obj, Instance) else None
    if not isinstance(method, FunctionVal):
        return UNKNOWN
    return ctx.interp.call_function(method.bind(obj), [ctx.arg(1, "results")], {}, ctx.site)


@handles("mmcv.transforms.to_tensor")
def _to_tensor(ctx: Ctx):
    from portlint.analysis.apis.torch_api import _as_tensor

    data = ctx.arg(0, "data")
    return _as_tensor(data, ctx.site, ctx.qname) if isinstance(data, Img) else UNKNOWN


# ------------------------------------------------------------------ models

@handles("mmengine.model.BaseModel.__init__")
def _base_model_init(ctx: Ctx):
    obj = ctx.args[0]
    pre = ctx.arg(1, "data_preprocessor", None)
    if pre is None:
        pre = {"type": "BaseDataPreprocessor"}
    if isinstance(pre, dict):
        pre = build(ctx, pre, ApiRef(ROOT_PREFIX + "MODELS"))
        if pre is UNKNOWN and ctx.arg(1, "data_preprocessor", None) is None:
            pre = ApiObject("mmengine.model.BaseDataPreprocessor", site=ctx.site)
    if isinstance(obj, Instance):
        obj.attrs["data_preprocessor"] = pre
    return None


def _preprocess(ctx: Ctx, pre, data):
    if isinstance(pre, ApiObject) and pre.qname == "mmengine.model.BaseDataPreprocessor":
        return data  # cast_data: values unchanged
    if isinstance(pre, Instance):
        forward = pre.cls.lookup("forward")
        if isinstance(forward, FunctionVal):
            return ctx.interp.call_function(forward.bind(pre), [data, False], {}, ctx.site)
    return UNKNOWN


@handles("mmengine.model.BaseModel.test_step", "mmengine.model.BaseModel.val_step")
def _test_step(ctx: Ctx):
    model = ctx.args[0]
    if not isinstance(model, Instance):
        return UNKNOWN
    data = _preprocess(ctx, model.attrs.get("data_preprocessor", UNKNOWN), ctx.arg(1, "data"))
    if isinstance(data, dict) and all(isinstance(k, str) for k in data):
        return ctx.interp.call(model, [], {**data, "mode": "predict"}, ctx.site)
    if isinstance(data, (list, tuple)):
        return ctx.interp.call(model, list(data), {"mode": "predict"}, ctx.site)
    return UNKNOWN


@handles("mmengine.model.BaseDataPreprocessor.cast_data")
def _cast_data(ctx: Ctx):
    return ctx.arg(1, "data")


@handles("mmengine.model.stack_batch")
def _stack_batch(ctx: Ctx):
    from portlint.analysis.apis.common import set_layout
    from portlint.analysis.ops import Batch

    tensors, divisor = ctx.arg(0, "tensor_list"), ctx.arg(1, "pad_size_divisor", 1)
    if divisor != 1 or not isinstance(tensors, (list, tuple)) or not tensors:
        return UNKNOWN
    first = tensors[0]
    if not isinstance(first, Img) or any(t is not first and not isinstance(t, Img) for t in tensors):
        return UNKNOWN
    layout = first.state.layout
    return set_layout(first, "N" + layout if layout else None, Batch(ctx.qname, ctx.site))  # a new leading axis


def library_method(cls, name: str):
    """A method a program class inherits from an mmengine / mmcv 2.x base that is modelled here."""
    from portlint.analysis.apis.common import HANDLERS

    for base in sorted(cls.api_bases()):
        qname = f"{base}.{name}"
        if qname in HANDLERS:
            return qname
    return None

