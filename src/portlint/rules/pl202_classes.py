"""Multi-label NMS only matters with more than one class. yolov5/ultralytics' NMS (and the
sophon-demo copies of it) rebind `multi_label &= nc > 1`, with nc read from the prediction's shape:
a single-class model (DirectMHP's heads, nc = 1 in its data yaml) runs the best-class branch
whatever multi_label was passed. When that guard's value is not known here, a multi-label
difference is reported only with evidence that the model has several classes: a table of class
names (`COCO_CLASSES = ('person', 'bicycle', ...)`) in either side's code."""

from __future__ import annotations

import re

import libcst as cst

from portlint.analysis.syntax import walk
from portlint.analysis.values import UNKNOWN

_TABLE_NAME = re.compile(r"class|names|labels|categories", re.I)
_TABLES: dict = {}


def guard(facts, host, scope):
    """The value of `multi_label &= <cond>` in `host` (True, False or UNKNOWN); None if absent."""
    for n in walk(host):
        if type(n) is cst.AugAssign and type(n.operator) is cst.BitAndAssign and \
                type(n.target) is cst.Name and n.target.value == "multi_label":
            if _rebound(host, n.value):
                return UNKNOWN  # `nc = nc or shape[1] - 4`: the scope holds the parameter, not this value
            v = facts.evaluate(n.value, scope) if scope is not None else UNKNOWN
            return v if isinstance(v, bool) else UNKNOWN
    return None


def _rebound(host, cond) -> bool:
    """A name of `cond` is assigned in `host`'s body."""
    names = {x.value for x in walk(cond) if type(x) is cst.Name}
    for n in walk(host):
        if type(n) is cst.Assign and any(type(t.target) is cst.Name and t.target.value in names for t in n.targets):
            return True
        if type(n) is cst.Assign and any(type(t.target) is cst.Tuple and any(
                type(e.value) is cst.Name and e.value.value in names for e in t.target.elements) for t in n.targets):
            return True
    return False


def unknown_guard(info) -> bool:
    return info.extra.get("class_guard", None) is UNKNOWN


def several_classes(facts) -> bool:
    """A module-level tuple/list of at least two string literals named like a class table."""
    key = id(facts)
    found = _TABLES.get(key)
    if found is not None and found[0] is facts:
        return found[1]
    result = False
    for src in facts.side.files.values():
        if result or src.module is None:
            break
        for stmt in src.module.body:
            if type(stmt) is not cst.SimpleStatementLine:
                continue
            for small in stmt.body:
                if type(small) is cst.Assign and len(small.targets) == 1 and \
                        isinstance(small.targets[0].target, cst.Name) and \
                        _TABLE_NAME.search(small.targets[0].target.value) and \
                        type(small.value) in (cst.Tuple, cst.List) and \
                        sum(type(e.value) is cst.SimpleString for e in small.value.elements) >= 2:
                    result = True
    _TABLES[key] = (facts, result)
    return result
