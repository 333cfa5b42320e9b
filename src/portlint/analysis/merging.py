"""What a value is after two branches the analyser could not decide (or two options of a Union):
equal values stay, an image beats a non-image, objects become a Union, numbers of a symbolic
condition become ifelse(cond, a, b), and anything else is UNKNOWN: never a guess."""

from __future__ import annotations

from dataclasses import replace

from portlint.analysis import protocols
from portlint.analysis.image import Img
from portlint.analysis.objects import ClassVal, FunctionVal, Instance, LocalModule
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Seq, Sym, Union


def conditional_merge(cond, a, b):
    """Numbers that differ between the branches of a symbolic condition become ifelse(cond, a, b)."""
    if a is b:
        return a
    if isinstance(a, (int, float, Sym)) and isinstance(b, (int, float, Sym)) and not isinstance(a, bool) and not isinstance(b, bool):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b:
            return a
        return Sym("ifelse", (cond, a, b))
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(conditional_merge(cond, x, y) for x, y in zip(a, b))
    return merge_values(a, b)


def _image_rank(img: Img) -> tuple:
    """Which of two images a merge keeps: one decoded from an image file over a video frame, a
    stream or a parameter (the ports compared are image pipelines; a loader that reads images,
    videos and streams in its branches is compared through its image path), then the one
    processed more (the typical path for photos larger than the model input)."""
    ops = img.state.ops
    from_file = bool(ops) and ops[0].stage == "decode" and getattr(ops[0], "source", None) == "file"
    return (from_file, len(ops))


def _alternatives(a: Img, b: Img) -> bool:
    """The same pipeline with one last step done two ways (`im.half() if fp16 else im.float()`)."""
    oa, ob = a.state.ops, b.state.ops
    return len(oa) == len(ob) and len(oa) > 1 and all(x is y for x, y in zip(oa[:-1], ob[:-1])) and oa[-1] is not ob[-1]


_BLURRED = ("channels", "layout", "dtype", "affine")


def _blur(a: Img, b: Img) -> Img:
    """`a`, with what the two alternatives disagree on made unknown (never guessed)."""
    changes = {f: None for f in _BLURRED if getattr(a.state, f) != getattr(b.state, f)}
    if a.state.size != b.state.size:
        changes["size"] = (UNKNOWN, UNKNOWN)
    return Img(replace(a.state, **changes)) if changes else a


def _carries_image(value, depth: int = 0) -> bool:
    """An image, or a list, tuple or dict holding one (a batch, a (path, image, ...) tuple)."""
    if isinstance(value, Img):
        return True
    if depth > 2:
        return False
    if isinstance(value, Seq):
        return _carries_image(value.elem, depth + 1)
    if isinstance(value, (list, tuple)):
        return any(_carries_image(v, depth + 1) for v in value[:8])
    if isinstance(value, dict):
        return any(_carries_image(v, depth + 1) for v in list(value.values())[:8])
    return False


def _extends(longer: Img, shorter: Img) -> bool:
    """`longer` is `shorter` with more steps after it (the steps of one branch)."""
    lo, so = longer.state.ops, shorter.state.ops
    return len(lo) > len(so) > 0 and all(x is y for x, y in zip(lo, so))


def merge_values(a, b, undecided: bool = False):
    """The value after two branches: equal stays, an image beats a non-image, else UNKNOWN.

    Of two images where one only adds steps to the other, the longer is the typical path when the
    branch tests the image's size (`if h != net_h: img = cv2.resize(...)`, photos larger than the
    model input); when it tests anything else (`undecided`: a flag, a setting), what the extra
    steps change is unknown."""
    if a is b:
        return a
    if type(a) is Sym and type(b) is Sym and a.op == "var" and a == b:
        return a  # the same named unknown (analysis/unknowns.py) from both branches
    try:
        if type(a) == type(b) and isinstance(a, (int, float, str, bool)) and a == b:
            return a
    except Exception:
        pass
    if isinstance(a, Img) and isinstance(b, Img):
        if _alternatives(a, b):
            return _blur(a, b)
        longer, shorter = (a, b) if _image_rank(a) >= _image_rank(b) else (b, a)
        if undecided and _extends(longer, shorter):
            # `if self.nhwc: im = im.permute(...)` on a flag: whether the extra steps run is unknown
            return _blur(longer, shorter)
        return longer
    if isinstance(a, Img):
        return a
    if isinstance(b, Img):
        return b
    if isinstance(a, Seq) and isinstance(b, Seq):
        return a if isinstance(a.elem, Img) or not isinstance(b.elem, Img) else b
    if (b is UNKNOWN or b is None) and _carries_image(a):
        return a  # e.g. a loader's batch of images vs another loader's unknown batch
    if (a is UNKNOWN or a is None) and _carries_image(b):
        return b
    if isinstance(a, (Seq,)) and b is UNKNOWN:
        return a
    if isinstance(b, (Seq,)) and a is UNKNOWN:
        return b
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(merge_values(x, y) for x, y in zip(a, b))
    if isinstance(a, list) and isinstance(b, list):
        if len(a) == len(b):
            return [merge_values(x, y) for x, y in zip(a, b)]
        if _carries_image(a) or _carries_image(b):  # batches filled by different loops
            return a if _carries_image(a) else b
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return {k: merge_values(a[k], b[k]) for k in a}  # e.g. task_map[task] for an unknown task
    if isinstance(a, ApiObject) and isinstance(b, ApiObject) and a.qname == b.qname:
        return a  # e.g. a sail.Decoder built in either branch: same API either way
    if isinstance(a, Instance) and isinstance(b, Instance) and a.cls is b.cls:
        return a
    if a is not None and b is not None and protocols.is_object(a) and protocols.is_object(b):
        return Union.of(a, b)  # different objects from the two branches: one of them
    if isinstance(a, (Instance, FunctionVal, ClassVal, ApiObject, LocalModule, ApiRef)) and b is None:
        return a
    if isinstance(b, (Instance, FunctionVal, ClassVal, ApiObject, LocalModule, ApiRef)) and a is None:
        return b
    return UNKNOWN
