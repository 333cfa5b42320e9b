"""`parse_module(text)`: libcst's parser, without the per-node costs that only hand-built trees need.

Why: libcst's native parser builds every node by calling its frozen dataclass constructor. That
constructor (1) sets each field through `object.__setattr__`, the detour frozen dataclasses take
round their own `__setattr__`, and (2) runs `__post_init__`, i.e. `_validate()` (regex checks of
whitespace, balanced parentheses, ...). The checks guard trees built *by hand*; a tree the parser
built from source that parsed is valid by construction. libcst says so itself, in
`libcst/_nodes/base.py` (CSTNode.__post_init__): "PERF: It might make more sense to move
validation work into the visitor, which would allow us to avoid validating the tree when parsing
a file." Measured here (scripts/benchmark.py corpus): validation is about 13% of
`libcst.parse_module`, and the constructors' field setting about another 10%.

How: at import, each node class's dataclass `__init__` is replaced by one generated from the same
`dataclasses.fields` (same parameters, same defaults, default factories called the same way) that
stores each field straight through its slot descriptor, the very descriptor `object.__setattr__`
would find, and then calls `__post_init__` as the dataclass one does, unless a parse is running.
So nodes built by hand (codemods, `with_changes`) are built and validated exactly as before, and
nodes the parser builds skip validation; `CSTNode.__post_init__` must be the only definition of
that method in libcst and only validate (checked at import). One flag switches, not hundreds of
class attributes per parse. A class whose layout is not the one described (a field outside
`__init__`, keyword-only, no slot) keeps its own constructor. `tests/test_fastparse.py` checks
the trees equal libcst's own, node for node, on the fixture corpus and on generated programs,
and the constructors' signatures equal the dataclass ones. When libcst's layout is not the one
described here, nothing is replaced and this is `libcst.parse_module`.

Equal layout nodes (spaces, newlines, commas, ...) are also shared while parsing: see "shared
layout nodes" below.
"""

from __future__ import annotations

import dataclasses
import keyword
import types

import libcst as cst

try:
    from libcst._nodes.base import CSTNode as _CSTNode
except ImportError:  # a libcst without that module: plain parsing
    _CSTNode = None


def _node_classes() -> list[type]:
    seen, stack = [], [_CSTNode]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def _skippable() -> bool:
    """Only the base class defines __post_init__, and it only validates."""
    if _CSTNode is None or "__post_init__" not in _CSTNode.__dict__:
        return False
    code = _CSTNode.__dict__["__post_init__"].__code__
    if code.co_names != ("_validate",):
        return False
    return not any("__post_init__" in sub.__dict__ for sub in _node_classes())


_SHARED: dict = {"_PARSING": False}  # the generated constructors' globals


class _Factory:
    """Default of a parameter whose field has a default factory (dataclasses' own convention)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()
_SHARED["_FACTORY"] = _FACTORY


def _slot(cls: type, name: str):
    """The member descriptor `object.__setattr__(node, name, v)` would use, or None."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            return found if isinstance(found, types.MemberDescriptorType) else None
    return None


def direct_init(cls: type):
    """A constructor for dataclass `cls` equal to its own (validation skipped while parsing), or
    None when `cls`'s layout is not the plain one (every field an `__init__` parameter with a slot)."""
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, "__code__", None) is None or init.__code__.co_filename != "<string>":
        return None
    fields = dataclasses.fields(cls)
    params, body, names, tag = [], [], {}, f"_{cls.__name__}_{id(cls)}"
    for i, f in enumerate(fields):
        slot = _slot(cls, f.name)
        if (not f.init or f.kw_only or slot is None or not f.name.isidentifier()
                or keyword.iskeyword(f.name) or f.name == "self" or f.name.startswith("_")):
            return None
        names[f"{tag}_set{i}"] = slot.__set__
        if f.default is not dataclasses.MISSING:
            names[f"{tag}_default{i}"] = f.default
            params.append(f"{f.name}={tag}_default{i}")
        elif f.default_factory is not dataclasses.MISSING:
            names[f"{tag}_factory{i}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f"    if {f.name} is _FACTORY: {f.name} = {tag}_factory{i}()")
        else:
            params.append(f.name)
        body.append(f"    {tag}_set{i}(self, {f.name})")
    body.append("    if not _PARSING: self.__post_init__()")
    source = f"def {tag}_init(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    _SHARED.update(names)
    exec(compile(source, f"<portlint.fastparse {cls.__name__}>", "exec"), _SHARED)  # noqa: S102 - our own text
    init = _SHARED.pop(f"{tag}_init")
    init.__name__, init.__qualname__ = "__init__", f"{cls.__qualname__}.__init__"
    init.__annotations__ = dict(getattr(cls.__dict__["__init__"], "__annotations__", {}))  # for introspection
    return init


_ENABLED = _skippable()
_OWN_INITS: list[tuple[type, object]] = []
_DIRECT_INITS: list[tuple[type, object]] = []
if _ENABLED:
    for _cls in _node_classes():
        _direct = direct_init(_cls)
        if _direct is not None:
            _OWN_INITS.append((_cls, _cls.__dict__["__init__"]))
            _DIRECT_INITS.append((_cls, _direct))
            _cls.__init__ = _direct


# ------------------------------------------------------------------ shared layout nodes
#
# Why: 60% of the nodes the parser builds are layout (measured on the benchmark corpus: 41%
# SimpleWhitespace, then Newline, TrailingWhitespace, Comma, Dot, brackets, EmptyLine), and most
# of them are equal: " ", "", a plain newline, ", ". Nodes are immutable, so equal layout nodes
# can be one object: while a parse runs, libcst's native parser, which looks each class up on the
# `libcst` module by name for every node it builds (LibCST's native/libcst_derive/src/into_py.rs:
# `PyModule::import(py, "libcst")?.getattr(<class name>)?.call((), Some(kwargs))`), finds these
# factories there, which hand out one node per distinct value. About 5% of a parse (benchmark).
# Where a libcst builds its nodes otherwise, the factories are never called and nothing changes.
# Layout only: the analysis tells places apart by the identity of the other nodes
# (tree.ModuleIndex leaves layout out), and nothing asks where a comma or a space is. Parentheses
# are not shared: libcst ends an `import (a, b)` statement's range at its right parenthesis
# (libcst/_nodes/statement.py, ImportFrom and LazyImportFrom `_codegen_impl`: `end_node = ... self.rpar`).
_BY_VALUE = ("SimpleWhitespace", "Newline")
_BY_PARTS = ("TrailingWhitespace", "EmptyLine", "Comma", "Dot", "Colon", "Semicolon", "AssignEqual",
             "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace", "RightCurlyBrace")
_MAX_SHARED = 4096  # distinct nodes kept per class (a file of odd whitespace gets fresh ones past it)
_SHAREABLE: set = {id(None), id(True), id(False), id(cst.MaybeSentinel.DEFAULT)}  # ids of shared values


def _by_value(cls: type):
    """A factory for a node whose only field is a string (or None): one node per value."""
    shared: dict = {}

    def build(value=None):
        node = shared.get(value)
        if node is None:
            node = cls() if value is None else cls(value)
            if len(shared) < _MAX_SHARED:
                shared[value] = node
                _SHAREABLE.add(id(node))
        return node
    return build


def _by_parts(cls: type):
    """A factory for a layout node made of shared nodes only: one node per combination. A part
    that is not shared (a comment, a multi-line whitespace) makes a fresh node; the key is of
    identities of shared nodes, which live as long as the process, so no id is ever reused."""
    shared: dict = {}

    def build(**parts):
        key = (*parts, *map(id, parts.values()))
        node = shared.get(key)
        if node is None:
            node = cls(**parts)
            if len(shared) < _MAX_SHARED and all(id(v) in _SHAREABLE for v in parts.values()):
                shared[key] = node
                _SHAREABLE.add(id(node))
        return node
    return build


def _factories() -> list[tuple[str, object, type]]:
    out = []
    for names, make in ((_BY_VALUE, _by_value), (_BY_PARTS, _by_parts)):
        for name in names:
            cls = getattr(cst, name, None)
            if isinstance(cls, type) and issubclass(cls, _CSTNode):
                out.append((name, make(cls), cls))
    return out


_FACTORIES = _factories() if _ENABLED else []


def parse_module(text: str) -> cst.Module:
    """libcst.parse_module(text), skipping the validation of parser-built nodes when safe, its
    equal layout nodes shared."""
    if not _ENABLED:
        return cst.parse_module(text)
    # portlint runs one thread per process and builds nodes by hand only in `fix`, never while
    # a parse runs, so no hand-built node can be created while the flag is up (nor see the
    # factories in place of the classes).
    _SHARED["_PARSING"] = True
    for name, factory, _cls in _FACTORIES:
        setattr(cst, name, factory)
    try:
        return cst.parse_module(text)
    finally:
        for name, _factory, cls in _FACTORIES:
            setattr(cst, name, cls)
        _SHARED["_PARSING"] = False
