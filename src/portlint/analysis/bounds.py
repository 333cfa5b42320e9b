"""Size bounds on the values the analyser computes, checked before computing them.

Why: the interpreter folds constants (`N = 10 ** 10 ** 10`, `s = s + s` in an unrolled loop,
`"x".ljust(10 ** 9)`) with Python's own arithmetic, which has no size limit: one line of a
hostile or unlucky program could take hours or all the memory. Every int result is kept under
MAX_INT_BITS bits and every str/list/tuple result under MAX_LEN items; a result that would be
larger is UNKNOWN, as anything else the analyser cannot know. No real program's image pipeline
needs numbers or strings anywhere near these sizes.
"""

from __future__ import annotations

from typing import Any

MAX_INT_BITS = 4096  # ~1200 decimal digits (Python refuses to print more than 4300)
MAX_LEN = 1_000_000  # characters of a str, items of a list or tuple


def _bits(v: Any) -> int:
    """Bits of an int operand (bools and floats count as small)."""
    return v.bit_length() if type(v) is int else 1


def int_ok(v: Any) -> bool:
    return type(v) is not int or v.bit_length() <= MAX_INT_BITS


def binop_fits(op: str, a: Any, b: Any) -> bool:
    """Whether `a <op> b` on plain numbers stays within the bounds (checked before computing)."""
    if isinstance(a, int) and isinstance(b, int):
        if op == "mul":
            return _bits(a) + _bits(b) <= MAX_INT_BITS + 1
        if op == "pow":
            if b < 0 or a in (0, 1, -1):
                return True
            return b <= MAX_INT_BITS and b * _bits(a) <= MAX_INT_BITS
        if op == "lshift":
            return 0 <= b <= MAX_INT_BITS and _bits(a) + b <= MAX_INT_BITS
        return _bits(a) <= MAX_INT_BITS and _bits(b) <= MAX_INT_BITS
    if op == "pow" and isinstance(a, int) and isinstance(b, float):
        return _bits(a) <= MAX_INT_BITS  # a float result: overflows fast if at all
    return True


def concat_fits(a, b) -> bool:
    """`a + b` for two strs, lists or tuples."""
    return len(a) + len(b) <= MAX_LEN


def str_call_fits(name: str, s: str, args: tuple) -> bool:
    """A pure str method on known arguments (`str.<name>(s, *args)`) whose result stays small."""
    if name in ("center", "ljust", "rjust", "zfill"):
        return all(type(a) is not int or a <= MAX_LEN for a in args)
    if name == "replace":
        old, new = (tuple(args) + ("", ""))[:2]  # args is a list when the interpreter calls it
        if not isinstance(old, str) or not isinstance(new, str):
            return True
        count = args[2] if len(args) > 2 and type(args[2]) is int and args[2] >= 0 else None
        hits = (len(s) + 1) if not old else s.count(old)
        if count is not None:
            hits = min(hits, count)
        return len(s) + hits * max(0, len(new) - len(old)) <= MAX_LEN
    if name == "join":
        items = args[0] if args else ()
        if not isinstance(items, (list, tuple)):
            return True
        total = len(s) * max(0, len(items) - 1)
        return total + sum(len(x) for x in items if isinstance(x, str)) <= MAX_LEN
    if name == "expandtabs":
        return s.count("\t") * (args[0] if args and type(args[0]) is int and args[0] > 0 else 8) + len(s) <= MAX_LEN
    return True


def data_fits(value: Any, limit: int = MAX_LEN) -> bool:
    """A parsed data file's value (yaml/json) has at most `limit` nodes, shared ones counted each
    time they are reached: YAML aliases can make a small file a huge tree (a "billion laughs")."""
    stack, seen = [value], 0
    while stack:
        v = stack.pop()
        seen += 1
        if seen > limit:
            return False
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, str) and len(v) > limit:
            return False
    return True
