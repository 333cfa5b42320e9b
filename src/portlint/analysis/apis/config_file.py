"""An mmcv python configuration file read as data (`mmcv.Config.fromfile`), never executed.

The file is parsed with `ast`; only top-level assignments to names are evaluated, and only when
their value is literal data: numbers, strings, None/True/False, lists, tuples, dicts, `dict(...)`
calls with keywords (and `**` of a known dict), names bound earlier in the same file, subscripts
of known containers, and arithmetic on known numbers, strings and sequences. Anything else (an
import, a function call, a comprehension) leaves that name unknown. `_base_` files are read first
and merged as mmcv's `Config._file2dict` / `_merge_a_into_b` do (mmcv/utils/config.py, v1.7.0):
the bases' keys joined, then each child key overrides, a child dict merging key by key into the
base dict unless it holds `_delete_=True`. Keys starting with `__` and module objects are dropped,
as mmcv does.
"""

from __future__ import annotations

import ast
import operator
import posixpath
from typing import Callable

from portlint.analysis.apis.config_api import AttrDict
from portlint.analysis.bounds import binop_fits
from portlint.analysis.values import UNKNOWN

MAX_DEPTH = 8  # _base_ nesting followed
MAX_ITEMS = 100_000  # literal elements evaluated in one file
BASE_KEY, DELETE_KEY = "_base_", "_delete_"
_OP_NAMES = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv", ast.FloorDiv: "floordiv", ast.Mod: "mod"}
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}


class _NotData(Exception):
    pass


def attr_dicts(value):
    """Nested dicts as attribute dictionaries (mmcv's ConfigDict), lists and tuples kept."""
    if isinstance(value, dict):
        return AttrDict({k: attr_dicts(v) for k, v in value.items()})
    if isinstance(value, list):
        return [attr_dicts(v) for v in value]
    if isinstance(value, tuple):
        return tuple(attr_dicts(v) for v in value)
    return value


def load(read: Callable[[str], object], path: str, depth: int = 0):
    """The merged configuration of `path` as nested AttrDicts; UNKNOWN if it cannot be read.
    `read(path)` gives the file's text (or UNKNOWN), and decides which files may be read."""
    if depth > MAX_DEPTH:
        return UNKNOWN
    text = read(path)
    if not isinstance(text, str):
        return UNKNOWN
    if path.endswith((".json", ".yaml", ".yml")):
        return _data_file(text, path)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return UNKNOWN
    own = _evaluate(tree)
    base = own.pop(BASE_KEY, None)
    if base is None:
        return attr_dicts(own)
    bases = [base] if isinstance(base, str) else base
    if not isinstance(bases, (list, tuple)) or not all(isinstance(b, str) for b in bases):
        return UNKNOWN
    merged: dict = {}
    folder = posixpath.dirname(path)
    for b in bases:
        value = load(read, posixpath.normpath(posixpath.join(folder, b)), depth + 1)
        if not isinstance(value, dict):
            return UNKNOWN
        merged.update(value)
    return attr_dicts(merge_into(own, merged))


def merge_into(a: dict, b: dict) -> dict:
    """mmcv Config._merge_a_into_b: a's keys override b's (b is not changed)."""
    b = dict(b)
    for k, v in a.items():
        if isinstance(v, dict):
            v = dict(v)
            # as mmcv: `_delete_` is only looked at (and removed) when the base has the key
            if k in b and not v.pop(DELETE_KEY, False) and isinstance(b[k], dict):
                b[k] = merge_into(v, b[k])
            else:
                b[k] = v
        else:
            b[k] = v
    return b


def _data_file(text: str, path: str):
    try:
        if path.endswith(".json"):
            import json

            return attr_dicts(json.loads(text))
        import yaml

        from portlint.analysis.bounds import data_fits

        value = yaml.safe_load(text)
        return attr_dicts(value) if isinstance(value, dict) and data_fits(value) else UNKNOWN
    except Exception:
        return UNKNOWN


def _evaluate(tree: ast.Module) -> dict:
    env: dict = {}
    budget = [MAX_ITEMS]
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue  # imports, functions, conditionals: not data
        try:
            result = _value(value, env, budget)
        except (_NotData, RecursionError):
            result = UNKNOWN
        except Exception:  # arithmetic that fails when run (a TypeError, a division by zero)
            result = UNKNOWN
        for target in targets:
            if isinstance(target, ast.Name):
                env[target.id] = result
    return {k: v for k, v in env.items() if not k.startswith("__")}


def _value(node, env: dict, budget: list):
    budget[0] -= 1
    if budget[0] < 0:
        raise _NotData()
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env and env[node.id] is not UNKNOWN:
            return env[node.id]
        raise _NotData()
    if isinstance(node, ast.List):
        return [_value(e, env, budget) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e, env, budget) for e in node.elts)
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                spread = _value(v, env, budget)
                if not isinstance(spread, dict):
                    raise _NotData()
                out.update(spread)
            else:
                out[_value(k, env, budget)] = _value(v, env, budget)
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        out = {}
        for kw in node.keywords:
            v = _value(kw.value, env, budget)
            if kw.arg is None:
                if not isinstance(v, dict):
                    raise _NotData()
                out.update(v)
            else:
                out[kw.arg] = v
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _value(node.operand, env, budget)
        if not isinstance(v, (int, float)):
            raise _NotData()
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        left, right = _value(node.left, env, budget), _value(node.right, env, budget)
        if isinstance(node.op, ast.Mult) and not all(isinstance(x, (int, float)) for x in (left, right)):
            raise _NotData()  # sequence repetition: bounded data only
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (left, right))
        if numbers and not binop_fits(_OP_NAMES[type(node.op)], left, right):
            raise _NotData()  # a number too large to compute (analysis/bounds.py)
        sizes = [len(x) for x in (left, right) if isinstance(x, (list, tuple, str))]
        if sum(sizes) > MAX_ITEMS:  # a concatenation of known data: bounded
            raise _NotData()
        return _BIN[type(node.op)](left, right)
    if isinstance(node, ast.Subscript):
        container = _value(node.value, env, budget)
        index = _value(node.slice, env, budget)
        return container[index]
    raise _NotData()
