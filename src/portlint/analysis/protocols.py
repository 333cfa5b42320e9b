"""Python's object protocols on the program's own classes, as real programs use them to bring
images to the model: iteration (`__iter__`/`__next__`, generators), indexing (`__getitem__` of a
Dataset), `super()`, and values that are one of several objects (`Union`).

Each is evaluated once per use site, with the element standing for every iteration: a loader's
`__next__` is run once and what it returns is "an element"; a generator's yields are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from portlint.analysis.objects import ClassVal, FunctionVal, Instance
from portlint.analysis.tree import children
from portlint.analysis.values import UNKNOWN, ApiRef, BoundApi, Seq, Union

_GENERATORS: dict = {}


def is_generator(node, src=None) -> bool:
    """A def whose own body (not nested defs or lambdas) contains `yield`. `src`: the function's
    SourceFile; a file without the word `yield` has no generator, and most files have none."""
    if type(node) is not cst.FunctionDef:
        return False
    hit = _GENERATORS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    text = getattr(src, "text", None)
    found = False if isinstance(text, str) and "yield" not in text else _has_yield(node.body)
    _GENERATORS[id(node)] = (node, found)
    return found


def _has_yield(node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is cst.Yield:
            return True
        if t is cst.FunctionDef or t is cst.Lambda or t is cst.ClassDef:
            continue
        stack.extend(children(n))  # tree.children: libcst's .children rebuilds each node (10x dearer)
    return False


@dataclass(eq=False)
class SuperRef:
    """`super()` inside a method of `cls` called on `obj`: attributes come from cls's bases."""

    cls: ClassVal
    obj: Any


def super_attribute(ref: SuperRef, name: str, depth: int = 0):
    for base in ref.cls.bases:
        if isinstance(base, ClassVal):
            found = base.lookup(name)
            if isinstance(found, FunctionVal):
                return found.bind(ref.obj)
            if found is not None:
                return found
            if depth < 8:  # the base's own library bases
                inherited = super_attribute(SuperRef(base, ref.obj), name, depth + 1)
                if inherited is not UNKNOWN:
                    return inherited
        elif isinstance(base, ApiRef):
            # a library base class (nn.Module, DataLoader, Dataset): its method on this object
            return BoundApi(ref.obj, f"{base.qname}.{name}")
    return UNKNOWN


def method(obj: Instance, name: str):
    found = obj.cls.lookup(name)
    return found.bind(obj) if isinstance(found, FunctionVal) else None


def instance_element(interp, obj: Instance, site):
    """An element of `for x in obj`: its __iter__ (a generator, or an object with __next__), else
    its __getitem__ at an unknown index (the old sequence protocol, a map-style Dataset)."""
    it = method(obj, "__iter__")
    if it is not None:
        result = interp.call_function(it, [], {}, site)
        if isinstance(result, Instance):
            nxt = method(result, "__next__")
            if nxt is not None:
                return interp.call_function(nxt, [], {}, site)
        if result is not obj:
            elem = interp.element_of(result)
            if elem is not UNKNOWN:
                return elem
    nxt = method(obj, "__next__")
    if nxt is not None:
        return interp.call_function(nxt, [], {}, site)
    getitem = method(obj, "__getitem__")
    if getitem is not None:
        return interp.call_function(getitem, [UNKNOWN], {}, site)
    wrapped = obj.attrs.get("__iterates__")  # a subclass of a library wrapper (tqdm) over an iterable
    if wrapped is not None and wrapped is not obj:
        return interp.element_of(wrapped, site)
    return UNKNOWN


def union_map(values, fn, merge):
    """fn applied to each option of a Union, results merged."""
    result = None
    first = True
    for option in values.options:
        r = fn(option)
        result = r if first else merge(result, r)
        first = False
    return UNKNOWN if first else result


def is_object(value) -> bool:
    """What a Union may hold: objects whose identity matters, not numbers or images."""
    from portlint.analysis.objects import LocalModule
    from portlint.analysis.values import ApiObject

    return isinstance(value, (Instance, ClassVal, FunctionVal, ApiObject, ApiRef, LocalModule, BoundApi, Union))


def next_of(interp, value, site):
    """`next(it)`: one element."""
    return interp.element_of(value, site)


def iter_of(interp, value, site):
    """`iter(x)`: the iterator (its __iter__'s result for the program's own classes)."""
    if isinstance(value, Instance):
        it = method(value, "__iter__")
        if it is not None:
            return interp.call_function(it, [], {}, site)
    if isinstance(value, Seq):
        return value
    return value
