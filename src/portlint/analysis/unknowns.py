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
    rather than UNKNOWN, and a rule can compare both settings and say which one it reports."""
    if value is not UNKNOWN or type(test).__name__ != "Name" or frame.func is None:
        return None
    name = test.value
    defaults = frame.func.defaults or {}
    if name not in defaults or not isinstance(defaults[name], bool):
        return None
    return var(FLAG_PREFIX + name)


def flag_name(variable: str):
    """`auto` for the variable of `flag_condition`, None for any other variable."""
    return variable[len(FLAG_PREFIX):] if variable.startswith(FLAG_PREFIX) else None
