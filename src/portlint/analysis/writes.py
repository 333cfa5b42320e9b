"""What a loop's body writes: the names it binds, the attributes it sets and the containers it
changes in place, found from the syntax alone.

Why: when the interpreter stops unrolling a long loop (interp.MAX_LOOP_WORK) it runs the body
once; whatever the body writes would have other values after the iterations not run, so the
interpreter makes each of them unknown rather than keep a one-iteration value (a list of 4 anchor
coordinates where the program builds 19248 x 4).
"""

from __future__ import annotations

from typing import Iterator, Union

import libcst as cst

from portlint.analysis.tree import children

# list, dict, set, deque and numpy methods that change their receiver in place (the numpy ones
# checked with numpy 2 here: fill, resize and put return None and change the array; itemset is
# numpy < 2 only)
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",  # list
    "update", "setdefault", "popitem",  # dict
    "add", "discard", "difference_update", "intersection_update", "symmetric_difference_update",  # set
    "appendleft", "extendleft", "popleft", "rotate",  # collections.deque
    "fill", "resize", "put", "itemset", "__setitem__",  # numpy.ndarray, any object
})

# ("name", "x") or ("attr", <node obj.attr>), and whether it is only changed in place (the
# receiver of a mutating call or a subscript store): `cv2.resize(...)` names `cv2` so, and the
# interpreter keeps module and function references as they are.
Write = tuple[str, Union[str, cst.Attribute], bool]

_CACHE: dict[int, tuple] = {}


def loop_writes(loop: cst.For) -> tuple[Write, ...]:
    """Each write of `loop` (its target and body, not the bodies of functions it defines), once,
    in source order. Attribute writes are kept only when `obj` is a name or a dotted chain of
    names, which can be looked up again without running anything."""
    hit = _CACHE.get(id(loop))
    if hit is not None and hit[0] is loop:
        return hit[1]
    found: dict = {}
    for kind, target, in_place in _writes(loop):
        key = (kind, target if kind == "name" else _dotted(target))
        if key not in found:
            found[key] = (kind, target, in_place)
        elif not in_place:  # bound somewhere in the body: a binding, whatever else changes it
            found[key] = (*found[key][:2], False)
    result = tuple(found.values())
    _CACHE[id(loop)] = (loop, result)
    return result


def _writes(loop: cst.For) -> Iterator[Write]:
    yield from _stores(loop.target)
    stack = [loop.body]
    if loop.orelse is not None:
        stack.append(loop.orelse)
    while stack:
        node = stack.pop()
        t = type(node)
        if t is cst.FunctionDef or t is cst.ClassDef:
            yield "name", node.name.value, False  # the body of a def does not run here
            continue
        if t is cst.Lambda:
            continue
        if t is cst.Assign:
            for target in node.targets:
                yield from _stores(target.target)
        elif t is cst.AugAssign or t is cst.For or t is cst.NamedExpr:
            yield from _stores(node.target)
        elif t is cst.AnnAssign and node.value is not None:
            yield from _stores(node.target)
        elif t is cst.WithItem and node.asname is not None:
            yield from _stores(node.asname.name)
        elif t is cst.ExceptHandler and node.name is not None:
            yield from _stores(node.name.name)
        elif t is cst.Import or t is cst.ImportFrom:
            yield from _imported_names(node)
        elif t is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value in MUTATING_METHODS:
            yield from _receiver(node.func.value)
        stack.extend(reversed(children(node)))


def _stores(target, in_place: bool = False) -> Iterator[Write]:
    t = type(target)
    if t is cst.Name:
        yield "name", target.value, in_place
    elif t is cst.Tuple or t is cst.List:
        for element in target.elements:
            yield from _stores(element.value)
    elif t is cst.StarredElement:
        yield from _stores(target.value)
    elif t is cst.Attribute:
        if _dotted(target.value):
            yield "attr", target, in_place
    elif t is cst.Subscript:
        yield from _receiver(target.value)


def _receiver(node) -> Iterator[Write]:
    """The container a subscript store or a mutating call changes."""
    t = type(node)
    if t is cst.Subscript:
        yield from _receiver(node.value)
    elif t is cst.Name or t is cst.Attribute:
        yield from _stores(node, in_place=True)


def _imported_names(node) -> Iterator[Write]:
    if type(node.names) is cst.ImportStar:
        return
    for alias in node.names:
        if alias.asname is not None:
            yield from _stores(alias.asname.name)
        elif type(node) is cst.Import:
            first = alias.name
            while type(first) is cst.Attribute:
                first = first.value
            yield from _stores(first)
        else:
            yield from _stores(alias.name)


def _dotted(node) -> str:
    """`a.b.c` for a chain of names, "" for anything else (a call, a subscript)."""
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""
