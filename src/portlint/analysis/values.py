"""The static value domain: what can be known about a Python value without running anything.

Concrete Python values (int, float, str, bool, None, tuple, list, dict) stand for themselves.
Everything else is one of the classes below. UNKNOWN is never guessed into a value.
`Sym` is a symbolic number (an image's height, a bmodel dimension, arithmetic on them) that the
comparison evaluates later at sample image sizes.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # never let unknown silently act as False
        raise TypeError("UNKNOWN has no truth value")


UNKNOWN = _Unknown()


def is_unknown(v: Any) -> bool:
    return v is UNKNOWN


@dataclass(frozen=True)
class Sym:
    """A symbolic number: ('var', name) leaves and arithmetic over them."""

    op: str
    args: tuple

    def __repr__(self) -> str:
        if self.op == "var":
            return self.args[0]
        if self.op == "const":
            return repr(self.args[0])
        return f"{self.op}({', '.join(map(repr, self.args))})"


def var(name: str) -> Sym:
    return Sym("var", (name,))


_BIN = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
    "eq": operator.eq, "ne": operator.ne,
}


# Values already computed, per variable assignment: {env items: {id(sym): (sym, value)}}. The
# comparison evaluates the same symbolic sizes at the same few sample sizes again and again, and
# symbols share sub-expressions; the Sym is kept in the entry so its id cannot be reused.
_MEMO: dict[tuple, dict[int, tuple]] = {}
_MEMO_LIMIT = 200_000


def sym_eval(value: Any, env: dict[str, float]) -> Any:
    """Evaluate a Sym (or a tuple of them) with variable values; None where it cannot."""
    try:
        key = tuple(env.items())
        memo = _MEMO.get(key)
    except TypeError:  # unhashable values: no memo
        return _sym_eval(value, env, {})
    if memo is None:
        if sum(len(m) for m in _MEMO.values()) > _MEMO_LIMIT:
            _MEMO.clear()
        memo = _MEMO[key] = {}
    return _sym_eval(value, env, memo)


def _sym_eval(value: Any, env: dict[str, float], memo: dict) -> Any:
    if value.__class__ is Sym:
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        result = _sym_eval_node(value, env, memo)
        memo[id(value)] = (value, result)
        return result
    if isinstance(value, tuple):
        return tuple(_sym_eval(v, env, memo) for v in value)
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Sym):  # a subclass: evaluated, not remembered
        return _sym_eval_node(value, env, memo)
    return None


def _sym_eval_node(value: "Sym", env: dict[str, float], memo: dict) -> Any:
    op, args = value.op, value.args
    if op == "var":
        return env.get(args[0])
    vals = [_sym_eval(a, env, memo) if not isinstance(a, str) else a for a in args]
    if any(v is None for v in vals):
        return None
    try:
        if op in _BIN:
            return _BIN[op](vals[0], vals[1])
        if op == "neg":
            return -vals[0]
        if op == "int":
            return int(vals[0])
        if op == "float":
            return float(vals[0])
        if op == "round":
            return round(vals[0]) if len(vals) == 1 else round(vals[0], vals[1])
        if op == "min":
            return min(vals)
        if op == "max":
            return max(vals)
        if op == "abs":
            return abs(vals[0])
        if op == "floor":
            return math.floor(vals[0])
        if op == "ceil":
            return math.ceil(vals[0])
        if op == "ifelse":
            return vals[1] if vals[0] else vals[2]
        if op == "not":
            return not vals[0]
        if op == "and":
            return all(vals)
        if op == "or":
            return any(vals)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return None


def sym_vars(value: Any) -> set[str]:
    if isinstance(value, tuple):
        return set().union(*(sym_vars(v) for v in value)) if value else set()
    if isinstance(value, Sym):
        if value.op == "var":
            return {value.args[0]}
        return set().union(*(sym_vars(a) for a in value.args)) if value.args else set()
    return set()


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) or isinstance(v, Sym)


def numeric_op(op: str, *args: Any) -> Any:
    """Arithmetic on concrete numbers or Syms; UNKNOWN when any operand is not a number."""
    if all(isinstance(a, (int, float)) for a in args):
        r = sym_eval(Sym(op, tuple(args)), {})
        return UNKNOWN if r is None else r
    if all(isinstance(a, (int, float, Sym)) for a in args):
        return Sym(op, tuple(args))
    return UNKNOWN


@dataclass(frozen=True)
class ApiRef:
    """A library name not yet called: a module, function, class or constant (canonical dotted name)."""

    qname: str


@dataclass(eq=False)
class ApiObject:
    """An instance of a library class whose meaning we know (a transform, a sail.Bmcv, an Engine)."""

    qname: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    site: Any = None  # Site of the constructing call


@dataclass(frozen=True)
class BoundApi:
    """A method of a library object or of an image: `bmcv.resize`, `img.astype`."""

    target: Any
    qname: str


@dataclass(eq=False)
class Seq:
    """A sequence of unknown length whose elements are all like `elem` (a list of images, names)."""

    elem: Any
    kind: str = "list"


@dataclass(eq=False)
class Namespace:
    """argparse results and similar attribute bags."""

    attrs: dict = field(default_factory=dict)


MAX_UNION = 6


@dataclass(eq=False)
class Union:
    """One of a few known objects, where a branch the analyser cannot decide picked one:
    `dataset = LoadStreams(...) if webcam else LoadImages(...)`, `FACTORIES[opt.task](opt)`.
    Calling, reading an attribute or iterating applies to each option; the results are merged."""

    options: tuple

    @staticmethod
    def of(*values) -> "Union":
        flat = []
        for v in values:
            for option in (v.options if isinstance(v, Union) else (v,)):
                if not any(option is f for f in flat):
                    flat.append(option)
        return Union(tuple(flat[:MAX_UNION]))
