"""How programs feed batches to a model: torch.utils.data DataLoader (its own class or a
subclass of it), default and custom collate, and progress bars around loaders.

Facts (torch 2.14.1, `torch/utils/data/dataloader.py`, `_utils/collate.py`):
- `DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
  num_workers=0, collate_fn=None, ...)`: each batch is `collate_fn([dataset[i] for i in idx])`.
- `default_collate`: numpy arrays and tensors are stacked into a new leading batch dimension
  (numpy becomes a tensor), tuples/lists are collated position by position (a list comes back),
  dicts key by key, numbers become a tensor, strings stay a list of strings.
- tqdm(iterable, ...) iterates `iterable` unchanged.
- torchvision 0.29.1 `datasets/folder.py`: `ImageFolder(root, transform=None, target_transform=None,
  loader=default_loader, ...)`, `DatasetFolder(root, loader, extensions=None, transform=None, ...)`;
  `dataset[i]` is `(transform(loader(path)), class_index)`; `default_loader` (the PIL backend) is
  `pil_loader`: `Image.open(f).convert("RGB")`.
"""

from __future__ import annotations

from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.apis.numpy_api import add_batch
from portlint.analysis.image import Img, fresh_image
from portlint.analysis.ops import Decode
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Seq

LOADER = "torch.utils.data.DataLoader"
_COLLATE_POSITION = 6  # collate_fn's place among DataLoader's positional parameters


@handles(LOADER)
def _loader(ctx: Ctx):
    return ApiObject(LOADER, tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


@handles(LOADER + ".__init__")
def _loader_init(ctx: Ctx):
    """`super().__init__(dataset, ...)` in a DataLoader subclass (an "infinite" loader): the
    instance remembers what a DataLoader would."""
    obj = ctx.args[0]
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, dict):
        attrs["__loader__"] = (tuple(ctx.args[1:]), dict(ctx.kwargs))
    return None


@handles(LOADER + ".__iter__")
def _loader_iter(ctx: Ctx):
    """`super().__iter__()` / `iter(loader)`: an iterator over the loader's batches."""
    return ApiObject("portlint.LoaderIterator", attrs={"loader": ctx.args[0]}, site=ctx.site)


@handles(LOADER + ".__iter__.element")
def _loader_element(ctx: Ctx):
    obj = ctx.args[0]
    return batch_of(ctx, obj.args, obj.kwargs)


@handles("portlint.LoaderIterator.__iter__.element")
def _iterator_element(ctx: Ctx):
    loader = ctx.args[0].attrs.get("loader")
    spec = getattr(loader, "attrs", {}).get("__loader__") if loader is not None else None
    if isinstance(loader, ApiObject) and loader.qname == LOADER:
        return batch_of(ctx, loader.args, loader.kwargs)
    if spec is not None:
        return batch_of(ctx, *spec)
    return UNKNOWN


def loader_spec(obj):
    """(args, kwargs) a loader object was built with: a DataLoader, or a subclass instance whose
    __init__ called DataLoader's."""
    if isinstance(obj, ApiObject) and obj.qname == LOADER:
        return obj.args, obj.kwargs
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, dict) and "__loader__" in attrs:
        return attrs["__loader__"]
    return None


def batch_of(ctx: Ctx, args, kwargs):
    """One batch: the collate function applied to a list of dataset samples."""
    interp = ctx.interp
    dataset = kwargs.get("dataset", args[0] if args else UNKNOWN)
    if dataset is UNKNOWN:
        return UNKNOWN
    sample = interp.subscript(dataset, UNKNOWN, ctx.site)
    collate = kwargs.get("collate_fn", args[_COLLATE_POSITION] if len(args) > _COLLATE_POSITION else None)
    if collate is not None and collate is not UNKNOWN:
        return interp.call(collate, [Seq(sample)], {}, ctx.site)
    return default_collate(sample, ctx.site)


def default_collate(sample, site):
    if isinstance(sample, Img):
        batched = add_batch(sample, site, "torch.utils.data.default_collate")
        return Img(batched.state.__class__(**{**batched.state.__dict__, "kind": "tensor"}))
    if isinstance(sample, (tuple, list)):
        return [default_collate(x, site) for x in sample]
    if isinstance(sample, dict):
        return {k: default_collate(v, site) for k, v in sample.items()}
    if isinstance(sample, str):
        return Seq(sample)
    return UNKNOWN


@handles("torch.utils.data.default_collate", "torch.utils.data.dataloader.default_collate")
def _default_collate(ctx: Ctx):
    batch = ctx.arg(0, "batch")
    return default_collate(batch.elem, ctx.site) if isinstance(batch, Seq) else UNKNOWN


@handles("tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm", "tqdm.std.tqdm", "tqdm.tqdm.tqdm")
def _tqdm(ctx: Ctx):
    """A progress bar iterates what it wraps."""
    return ctx.arg(0, "iterable", UNKNOWN)


_TQDM = ("tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm", "tqdm.std.tqdm", "tqdm.tqdm.tqdm")


@handles(*(q + ".__init__" for q in _TQDM))
def _tqdm_init(ctx: Ctx):
    """`super().__init__(iterable, ...)` in a progress-bar subclass (ultralytics' TQDM): the
    instance iterates what it wraps (protocols.instance_element reads `__iterates__`)."""
    obj = ctx.args[0]
    attrs = getattr(obj, "attrs", None)
    iterable = ctx.args[1] if len(ctx.args) > 1 else ctx.kwargs.get("iterable", UNKNOWN)
    if isinstance(attrs, dict) and not ctx.kwargs.get("__splat__"):
        attrs["__iterates__"] = iterable
    return None


IMAGE_FOLDER = "torchvision.datasets.ImageFolder"
DEFAULT_LOADER = "torchvision.datasets.folder.default_loader"


@handles(IMAGE_FOLDER, "torchvision.datasets.folder.ImageFolder")
def _image_folder(ctx: Ctx):
    transform = ctx.arg(1, "transform", None)
    loader = ctx.arg(3, "loader", ApiRef(DEFAULT_LOADER))
    return ApiObject(IMAGE_FOLDER, attrs={"transform": transform, "loader": loader}, site=ctx.site)


@handles("torchvision.datasets.DatasetFolder", "torchvision.datasets.folder.DatasetFolder")
def _dataset_folder(ctx: Ctx):
    transform = ctx.arg(3, "transform", None)
    return ApiObject(IMAGE_FOLDER, attrs={"transform": transform, "loader": ctx.arg(1, "loader")}, site=ctx.site)


@handles(IMAGE_FOLDER + ".__getitem__")
def _image_folder_item(ctx: Ctx):
    """`dataset[i]`: the loader's image through the constructor's transform, and a class index."""
    attrs = ctx.args[0].attrs
    sample = ctx.interp.call(attrs["loader"], [UNKNOWN], {}, ctx.site)
    transform = attrs["transform"]
    if transform is not None and transform is not UNKNOWN and sample is not UNKNOWN:
        sample = ctx.interp.call(transform, [sample], {}, ctx.site)
    return (sample, UNKNOWN)


@handles(DEFAULT_LOADER, "torchvision.datasets.folder.pil_loader")
def _default_loader(ctx: Ctx):
    """PIL decodes the file, then converts it to RGB."""
    img = fresh_image("pil", ("R", "G", "B"), None, "uint8", ctx.op(Decode, library="pil", mode="file", exif=False, source="file"))
    return img.evolve(ctx.op(Decode, library="pil", mode="RGB", convert=True), channels=("R", "G", "B"))
