"""Unknown numbers that keep a name: what a program reads from a model the analyser cannot load.

`stride = model.stride` (DetectMultiBackend, an attempt_load-ed checkpoint) is a number only the
weights know. Left UNKNOWN it wipes out every size computed from it (check_img_size, letterbox's
`np.mod(dw, stride)`, rect batch shapes), and with them the *structure* a porting engineer still
sees: a size that varies with the image, an int() truncation. As a symbolic variable it keeps
that structure; its value is never supplied by the analysis, only by a rule that evaluates it at
stated candidate values and says so (rules/assumed.py).
"""

from __future__ import annotations

from portlint.analysis.values import UNKNOWN, Sym, var

STRIDE = "model.stride"
_STRIDE_VAR = var(STRIDE)

# attribute names whose unknown value is the network's stride (an int, or a tensor of the
# per-level strides whose max() is the int)
_STRIDE_NAMES = ("stride",)


def named_attribute(name: str, value):
    """`obj.stride` that the analysis cannot know: the model's stride as a symbolic number."""
    if value is UNKNOWN and name in _STRIDE_NAMES:
        return _STRIDE_VAR
    return value


def is_model_stride(value) -> bool:
    return isinstance(value, Sym) and value.op == "var" and value.args[0] == STRIDE


# `if auto:` where `auto` is a boolean parameter (default True/False) and the caller passed a
# value the analysis cannot know (`LoadImages(..., auto=pt)`, pt from the weights' file type)
FLAG_PREFIX = "flag."


def flag_condition(test, frame, value):
    """A named unknown for the test of an `if` on a boolean parameter whose argument is unknown:
    numbers assigned in the two branches then become ifelse(flag, a, b) (analysis/merging.py)
    rather than UNKNOWN, and a rule can compare both settings and say which one it reports.
    `if self.auto:` counts when the class's __init__ has a boolean parameter of that name (the
    `self.auto = auto` of a transform class such as a LetterBox)."""
    if value is not UNKNOWN or frame.func is None:
        return None
    kind = type(test).__name__
    if kind == "Name":
        name, func = test.value, frame.func
    elif kind == "Attribute" and type(test.value).__name__ == "Name" and test.value.value == "self":
        name, func = test.attr.value, _init_of(frame.locals.get("self"))
    else:
        return None
    defaults = getattr(func, "defaults", None) or {}
    if name not in defaults or not isinstance(defaults[name], bool):
        return None
    return var(FLAG_PREFIX + name)


def _init_of(obj):
    from portlint.analysis.objects import FunctionVal, Instance

    if not isinstance(obj, Instance):
        return None
    init = obj.cls.lookup("__init__")
    return init if isinstance(init, FunctionVal) else None


def flag_name(variable: str):
    """`auto` for the variable of `flag_condition`, None for any other variable."""
    return variable[len(FLAG_PREFIX):] if variable.startswith(FLAG_PREFIX) else None
