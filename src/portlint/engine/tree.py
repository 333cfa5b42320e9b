"""`children(node)`: libcst's `node.children`, without its visitor machinery (about 10x cheaper).

libcst computes `.children` by running the node's `_visit_and_replace_children` with a
collecting visitor, rebuilding the node on the way. Walking a whole module that way costs more
than parsing it. The fields a node type visits, in visiting (= lexical) order, are read once per
type from that method's source (each visit is `visit_xxx(self, "field", self.field, visitor)`);
a type whose method does not follow that pattern keeps using `.children`. `tests/test_tree.py`
checks the result equals `.children` for every node of a corpus.
"""

from __future__ import annotations

import inspect
import operator
import re
from typing import Iterator, Optional, Sequence

import libcst as cst

_FIELD = re.compile(r"visit_(?:required|optional|sentinel|sequence|body_sequence|iterable)\(\s*self,\s*\"(\w+)\"")
_ORDER: dict[type, Optional[tuple[str, ...]]] = {}


def _order(cls: type) -> Optional[tuple[str, ...]]:
    try:
        return _ORDER[cls]
    except KeyError:
        pass
    found: Optional[tuple[str, ...]] = None
    try:
        method = cls._visit_and_replace_children
        src = inspect.getsource(method)
        names = tuple(_FIELD.findall(src))
        calls = src.count("visit_required(") + src.count("visit_optional(") + src.count("visit_sequence(") \
            + src.count("visit_body_sequence(") + src.count("visit_iterable(") + src.count("visit_sentinel(")
        # only the plain pattern: every visit call named, no other visiting logic
        if len(names) == calls and "visitor.on_" not in src and ".visit(" not in src:
            found = tuple(dict.fromkeys(names))  # a field visited in two branches (ImportFrom.names)
    except (OSError, TypeError, AttributeError):
        found = None
    _ORDER[cls] = found
    return found


_GETTERS: dict[type, object] = {}
_NODE = cst.CSTNode


def _getter(cls: type):
    order = _order(cls)
    if order is None:
        getter = None
    elif not order:
        getter = lambda node: ()  # noqa: E731
    elif len(order) == 1:
        name = order[0]
        getter = lambda node: (getattr(node, name),)  # noqa: E731
    else:
        getter = operator.attrgetter(*order)
    _GETTERS[cls] = getter
    return getter


def children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The same list as `node.children`: immediate child nodes in lexical order."""
    cls = type(node)
    getter = _GETTERS[cls] if cls in _GETTERS else _getter(cls)
    if getter is None:
        return node.children
    out: list = []
    for value in getter(node):
        kind = _KIND.get(value.__class__)
        if kind is None:
            kind = _kind(value.__class__)
        if kind == 1:
            out.append(value)
        elif kind == 2:
            for v in value:
                k = _KIND.get(v.__class__)
                if (k if k is not None else _kind(v.__class__)) == 1:
                    out.append(v)
    return out


_KIND: dict[type, int] = {}


def _kind(cls: type) -> int:
    """1: a node, 2: a sequence of nodes, 0: anything else (None, MaybeSentinel, str).
    Cached per class: isinstance against the abstract CSTNode is slow."""
    kind = 1 if issubclass(cls, _NODE) else 2 if issubclass(cls, (list, tuple)) else 0
    _KIND[cls] = kind
    return kind


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), pre-order, lexical order."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
