"""Evaluating a symbolic number (values.Sym) at many image sizes at once.

Why: a size formula can agree with another at the few sample sizes (rules/common.SAMPLES) and
differ on half of all other images (`int(w * r)` vs `int(round(w * r))`: 1920x1080 -> 1280x720
both, 800x533 -> 852 vs 853 rows). `sym_eval_many` evaluates the same expression tree as
values.sym_eval, with the variables bound to numpy arrays, so a rule can sweep thousands of image
sizes in one pass over the tree. Numbers are float64 (exact for the integers of image geometry,
and the same IEEE arithmetic Python's floats use); NaN marks an element that cannot be computed
(a division by zero, an overflow), as None does for the scalar evaluator. An operator the scalar
evaluator knows but this one does not gives None for the whole expression: no sweep, nothing
guessed.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

from portlint.analysis.values import Sym


def _import_numpy():
    """numpy, loaded without OpenBLAS's thread pool where no thread count is set: a sweep is
    elementwise arithmetic (no BLAS call), and the pool's threads spin when they start, about
    0.1 s of CPU per process on a 2-core machine (measured here: `python -c "import numpy"` 0.16-0.19 s
    user, 0.07-0.10 s with OPENBLAS_NUM_THREADS=1; tests/test_startup.py counts the threads).
    OpenBLAS reads the variable once, when it is loaded; it is put back right after, so nothing
    else sees it. numpy already loaded, or a count the user set, is left as it is."""
    if "numpy" in sys.modules or "OPENBLAS_NUM_THREADS" in os.environ:
        import numpy

        return numpy
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        import numpy
    finally:
        del os.environ["OPENBLAS_NUM_THREADS"]
    return numpy


np = _import_numpy()

_ARITH = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.mod, "pow": np.power,
}
_COMPARE = {
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal,
}
_UNARY = {
    "neg": np.negative, "int": np.trunc, "float": lambda a: a, "abs": np.abs,
    "floor": np.floor, "ceil": np.ceil,
    # Python's round(x) rounds half to even, as numpy's rint does
    "round": np.rint,
}


def sym_eval_many(value: Any, env: dict) -> Optional[np.ndarray]:
    """`value` (a Sym or a number) with the variables of `env` bound to numbers or equal-length
    arrays: a float64 array (NaN where it cannot be computed), or None where the expression has
    an operator or variable that cannot be evaluated this way."""
    with np.errstate(all="ignore"):
        return _eval(value, env, {})


def _eval(value: Any, env: dict, memo: dict) -> Optional[np.ndarray]:
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return np.float64(value)
    if not isinstance(value, Sym):
        return None
    hit = memo.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    result = _node(value, env, memo)
    memo[id(value)] = (value, result)
    return result


def _finite(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, np.nan)


def _truth(a: np.ndarray) -> np.ndarray:
    """1.0 / 0.0 for a value's truth, NaN where it is not known."""
    return np.where(np.isnan(a), np.nan, (a != 0).astype(np.float64))


def _node(value: Sym, env: dict, memo: dict) -> Optional[np.ndarray]:
    op, args = value.op, value.args
    if op == "var":
        v = env.get(args[0])
        if isinstance(v, np.ndarray):
            return v.astype(np.float64, copy=False)
        if isinstance(v, (bool, int, float)):
            return np.float64(v)
        return None  # unbound, or not a plain number
    if op == "round" and len(args) != 1:
        return None  # round(x, n): Python's decimal rounding is not numpy's
    vals = [_eval(a, env, memo) for a in args]
    if not vals or any(v is None for v in vals):
        return None
    if op in _ARITH and len(vals) == 2:
        a, b = vals
        if op in ("floordiv", "mod", "truediv"):
            b = np.where(b == 0, np.nan, b)
        return _finite(_ARITH[op](a, b))
    if op in _COMPARE and len(vals) == 2:
        a, b = vals
        return np.where(np.isnan(a) | np.isnan(b), np.nan, _COMPARE[op](a, b).astype(np.float64))
    if op in _UNARY and len(vals) == 1:
        return _finite(_UNARY[op](vals[0]))
    if op in ("min", "max"):
        reduce = np.fmin if op == "min" else np.fmax
        out = vals[0]
        unknown = np.isnan(out)
        for v in vals[1:]:
            unknown = unknown | np.isnan(v)
            out = reduce(out, v)
        return np.where(unknown, np.nan, out)
    if op == "ifelse" and len(vals) == 3:
        cond = _truth(vals[0])
        return np.where(np.isnan(cond), np.nan, np.where(cond == 1.0, vals[1], vals[2]))
    if op == "not" and len(vals) == 1:
        t = _truth(vals[0])
        return np.where(np.isnan(t), np.nan, 1.0 - t)
    if op in ("and", "or"):
        truths = [_truth(v) for v in vals]
        unknown = np.zeros((), dtype=bool)
        for t in truths:
            unknown = unknown | np.isnan(t)
        combined = np.logical_and.reduce if op == "and" else np.logical_or.reduce
        known = combined([np.nan_to_num(t) == 1.0 for t in np.broadcast_arrays(*truths)])
        return np.where(unknown, np.nan, known.astype(np.float64))
    return None
