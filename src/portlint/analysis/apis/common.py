"""Shared helpers for the API tables: the call context, op construction, image transforms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import libcst as cst

from portlint.analysis import affine
from portlint.analysis.image import Img, ImageState, Site
from portlint.analysis.ops import Decode, Normalize, Op
from portlint.analysis.values import UNKNOWN, ApiRef, var

HANDLERS: dict[str, Any] = {}


def handles(*qnames: str):
    """Register a handler for library calls by canonical dotted name."""
    def deco(fn):
        for q in qnames:
            HANDLERS[q] = fn
        return fn
    return deco


def arg_sites(ctx: "Ctx", spec) -> dict:
    """{name: Site of the argument's expression} for the (index, name) pairs given and passed."""
    out = {}
    for index, name in spec:
        node = ctx.arg_node(index, name)
        if node is not None and ctx.site is not None:
            out[name] = Site(ctx.site.file, node.value)
    return out


@dataclass
class Ctx:
    interp: Any
    site: Site
    args: list
    kwargs: dict
    frame: Any = None
    node: Optional[cst.Call] = None
    qname: str = ""

    def arg(self, index: int, name: Optional[str] = None, default: Any = UNKNOWN) -> Any:
        if name is not None and name in self.kwargs:
            return self.kwargs[name]
        if index is not None and 0 <= index < len(self.args):
            return self.args[index]
        if self.kwargs.get("__splat__"):
            return UNKNOWN
        return default

    def has(self, index: int, name: Optional[str] = None) -> bool:
        return (name is not None and name in self.kwargs) or (index is not None and index < len(self.args))

    def arg_node(self, index: int, name: Optional[str] = None):
        """The libcst node of an argument (for fixes and precise locations)."""
        if self.node is None:
            return None
        positional = [a for a in self.node.args if a.keyword is None and not a.star]
        for a in self.node.args:
            if name is not None and a.keyword is not None and a.keyword.value == name:
                return a
        offset = getattr(self, "_offset", 0)
        i = index - offset if index is not None else None
        if i is not None and 0 <= i < len(positional):
            return positional[i]
        return None

    def set_arg(self, index: int, value: Any, name: Optional[str] = None) -> None:
        """Rebind the variable passed as an output argument (SAIL's out-parameter style)."""
        arg = self.arg_node(index, name)
        if arg is None or self.frame is None:
            return
        if type(arg.value) in (cst.Name, cst.Attribute):
            self.interp.assign(arg.value, value, self.frame)
        elif type(arg.value) is cst.Subscript:
            self.interp.assign_subscript(arg.value, value, self.frame)

    def op(self, cls: type, **fields) -> Op:
        """An op of this call: `ctx.op(Resize, library="cv2", ...)`."""
        return cls(self.qname, self.site, **fields)


def param_image(name: str, site: Site) -> Img:
    op = Decode("parameter", site, source="parameter", name=name)
    return Img(ImageState(kind="ndarray", channels=None, layout=None, dtype=None, affine=None,
                          size=(var("H"), var("W")), ops=(op,), source="param"))


def qname_of(value) -> Optional[str]:
    if isinstance(value, ApiRef):
        return value.qname
    return None


# ------------------------------------------------------------------ state transforms
def permute_channels(img: Img, order: tuple, op: Op) -> Img:
    """Reorder memory channels (e.g. BGR -> RGB) together with their affine maps."""
    st = img.state
    ch = tuple(st.channels[i] for i in order) if st.channels and len(st.channels) == len(order) else None
    return img.evolve(op, channels=ch, affine=affine.permute(st.affine, order))


def normalized(img: Img, op: Normalize, **changes) -> Img:
    """The image after a normalisation step: each channel's map composed with op.scale/op.offset."""
    return img.evolve(op, affine=affine.compose(img.state.affine, op.scale, op.offset), **changes)


def set_layout(img: Img, layout: Optional[str], op: Op) -> Img:
    return img.evolve(op, layout=layout)


def set_dtype(img: Img, dtype: Optional[str], op: Op) -> Img:
    return img.evolve(op, dtype=dtype)


DTYPE_NAMES = {
    "float32": "float32", "float": "float64", "float64": "float64", "double": "float64", "f4": "float32",
    "f8": "float64", "uint8": "uint8", "u1": "uint8", "int8": "int8", "i1": "int8", "float16": "float16",
    "half": "float16", "int32": "int32", "int64": "int64", "int": "int64", "uint16": "uint16",
    "numpy.float32": "float32", "numpy.float64": "float64", "numpy.uint8": "uint8", "numpy.int8": "int8",
    "numpy.float16": "float16", "torch.float32": "float32", "torch.float": "float32", "torch.uint8": "uint8",
    "torch.float16": "float16", "torch.half": "float16", "torch.float64": "float64", "builtins.float": "float64",
    "float.builtin": "float64", "numpy.single": "float32", "numpy.double": "float64",
}


def dtype_name(value) -> Optional[str]:
    if isinstance(value, str):
        return DTYPE_NAMES.get(value.replace("np.", "numpy."), None)
    if isinstance(value, ApiRef):
        return DTYPE_NAMES.get(value.qname)
    return None


def image_args(args, kwargs) -> list[Img]:
    """The images a call is given; a keyword holding a list of images counts too (OpenMMLab's
    `model(return_loss=False, **data)`, where collate made data['img'] a list of batches)."""
    out = [a for a in args if isinstance(a, Img)]
    out += [v for v in kwargs.values() if isinstance(v, Img)]
    out += [v[0] for v in kwargs.values() if isinstance(v, list) and v and all(isinstance(x, Img) for x in v)]
    return out


def as_pair(value):
    """A 2-sequence as a tuple, else None."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(value)
    return None


def shape_of(img: Img) -> tuple:
    """`img.shape` for the image's layout, in terms of its (possibly symbolic) size."""
    st = img.state
    h, w = st.size
    c = len(st.channels) if st.channels else UNKNOWN
    layout = st.layout
    if not layout or any(a not in "NCHW" for a in layout) or any(layout.count(a) > 1 for a in "CHW"):
        return UNKNOWN
    # a batch-like axis (N: batch, clips, frames) has an extent the analysis does not know
    return tuple({"H": h, "W": w, "C": c}.get(a, UNKNOWN) for a in layout)
