"""`children(node)`: libcst's `node.children`, without its visitor machinery (about 10x cheaper).

libcst computes `.children` by running the node's `_visit_and_replace_children` with a
collecting visitor, rebuilding the node on the way. Walking a whole module that way costs more
than parsing it. The fields a node type visits, in visiting (= lexical) order, are read once per
type from that method's bytecode (each visit is `visit_xxx(self, "field", self.field, visitor)`);
a type whose method does not follow that pattern keeps using `.children`. `tests/test_tree.py`
checks the result equals `.children` for every node of a corpus.

Also here: statement-only walks (`small_statements`, `compound_statements`), for rules that need
no expression, and `module_index(module)`, one traversal per module kept for parent lookups and
walks (see ModuleIndex).
"""

from __future__ import annotations

import bisect
import dis
import operator
from typing import Iterator, Optional, Sequence

import libcst as cst

_VISIT_HELPERS = frozenset({"visit_required", "visit_optional", "visit_sentinel", "visit_sequence",
                            "visit_body_sequence", "visit_iterable"})
_ORDER: dict[type, Optional[tuple[str, ...]]] = {}


def _order(cls: type) -> Optional[tuple[str, ...]]:
    """The fields `cls._visit_and_replace_children` visits, in order, read from its bytecode:
    each visit is `visit_xxx(self, "field", self.field, visitor)`, so the field names are its
    string constants. Only that plain pattern is accepted (one string per visit call, no other
    visiting logic); anything else gives None and the caller uses `.children`. Reading bytecode
    costs about a tenth of reading and tokenizing the source; tests/test_tree.py checks both
    ways agree for every libcst node class."""
    try:
        return _ORDER[cls]
    except KeyError:
        pass
    found: Optional[tuple[str, ...]] = None
    try:
        code = cls._visit_and_replace_children.__code__
        names, calls, plain = [], 0, True
        for ins in dis.get_instructions(code):
            if ins.opname == "LOAD_CONST" and isinstance(ins.argval, str):
                names.append(ins.argval)
            elif ins.opname == "LOAD_GLOBAL" and ins.argval in _VISIT_HELPERS:
                calls += 1
            elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and (ins.argval == "visit" or ins.argval.startswith("on_")):
                plain = False  # the node visits or notifies by itself
        if plain and len(names) == calls:
            found = tuple(dict.fromkeys(names))  # a field visited in two branches (ImportFrom.names)
    except (TypeError, AttributeError):
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


# --------------------------------------------------------------------------- statements only

_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")  # where statements nest


def _statements(body, enter_definitions: bool) -> Iterator[cst.CSTNode]:
    """Pre-order over `body` and the blocks nested in it, statements and block nodes only
    (never an expression): SimpleStatementLine/Suite are yielded, not entered."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        t = type(node)
        if t is cst.SimpleStatementLine or t is cst.SimpleStatementSuite or (not enter_definitions and t in DEFINITIONS):
            continue
        children = []
        for name in _BLOCK_FIELDS:
            child = getattr(node, name, None)
            if isinstance(child, (list, tuple)):
                children.extend(child)
            elif child is not None and type(child) in _INDEXED:
                children.append(child)
        stack.extend(reversed(children))


def small_statements(body) -> Iterator[cst.BaseSmallStatement]:
    """Every small statement (Assign, Import, Expr, ...) in `body` and all blocks nested in it,
    definitions included, in source order, without visiting any expression: about a tenth of a
    full walk."""
    for node in _statements(body, enter_definitions=True):
        t = type(node)
        if t is cst.SimpleStatementLine or t is cst.SimpleStatementSuite:
            yield from node.body


def compound_statements(body) -> Iterator[cst.BaseCompoundStatement]:
    """Every compound statement (if, for, while, with, try, ...) in `body` and the blocks nested in
    it, pre-order, not entering nested definitions (as a walk with skip_functions)."""
    for node in _statements(body, enter_definitions=False):
        if type(node) not in DEFINITIONS and isinstance(node, cst.BaseCompoundStatement):
            yield node


# --------------------------------------------------------------------------- one walk per module

# Nodes that open a scope of their own: walks of a scope do not enter them (exact types: libcst
# defines no subclass of them, tests/test_tree.py).
DEFINITIONS = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
_MARKED = (*DEFINITIONS, cst.SimpleString)  # ModuleIndex.positions_of
# Layout-only nodes (about 60% of all nodes): spaces, newlines, blank lines, comments, and the
# punctuation tokens (commas, dots, brackets, `=` of keywords, colons). No rule looks at them
# (suppression comments are read from the text; what a bracket encloses is its parent's field),
# so the index leaves them out.
LAYOUT = {cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.Newline,
          cst.EmptyLine, cst.Comment,
          cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen, cst.RightParen,
          cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace}


_LAYOUT_BASES = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
                 *(c for c in LAYOUT if c not in (cst.SimpleWhitespace, cst.ParenthesizedWhitespace)))


def _only_layout(hint) -> bool:
    """Whether a field's annotation admits only layout nodes (e.g. `Sequence[EmptyLine]`,
    `Union[Comma, MaybeSentinel]`)."""
    import typing

    origin = typing.get_origin(hint)
    if origin is None:
        return isinstance(hint, type) and issubclass(hint, _LAYOUT_BASES)
    args = [a for a in typing.get_args(hint) if a is not type(None) and a is not cst.MaybeSentinel]
    return bool(args) and all(_only_layout(a) for a in args)


def _node_classes() -> frozenset:
    """Every libcst node class except the layout ones: `v.__class__ in` this set is the cheap
    test for "an indexed node" (isinstance against libcst's abstract CSTNode goes through ABCMeta)."""
    found, stack = set(), [cst.CSTNode]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return frozenset(c for c in found if c not in LAYOUT)


_INDEXED = _node_classes()


def _field_plan(cls: type) -> Optional[list[tuple[str, str]]]:
    """The fields of a node type that can hold indexed nodes, in visiting (lexical) order, each
    with what its annotation says it holds: "seq" (a sequence of nodes), "one" (a node, None or
    a sentinel) or "either" (decided per value). Fields that can only hold layout are left out.
    None when the type's visiting order is not known (`_order`): use `.children` then."""
    import collections.abc
    import typing

    def is_seq(hint) -> bool:
        return typing.get_origin(hint) in (collections.abc.Sequence, list, tuple)

    def maybe_seq(hint) -> bool:
        return is_seq(hint) or any(maybe_seq(a) for a in typing.get_args(hint))

    order = _order(cls)
    if order is None or any(not f.isidentifier() for f in order):
        return None
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # annotations that do not resolve: decide per value
        hints = {}
    plan = []
    for f in order:
        hint = hints.get(f)
        if hint is None:
            plan.append((f, "either"))
        elif not _only_layout(hint):
            plan.append((f, "seq" if is_seq(hint) else "either" if maybe_seq(hint) else "one"))
    return plan


# Recursive visitors, one generated per node type from its field plan: about 25% faster than a
# stack walk (no intermediate child lists). They append to the lists of the index being built
# (one at a time: building an index never builds another). A tree deeper than the recursion
# limit falls back to a stack walk over `.children`.
_VISIT_NS: dict = {}
# node class -> its visitor; until a class is first met, a stub that generates the visitor. Layout
# classes and non-node values (None, str, MaybeSentinel) have no entry: one dict lookup per value.
_VISITORS: dict = {}


def _visitor(cls: type):
    def visit_value(var: str, indent: str) -> list:
        return [f"{indent}f = get({var}.__class__)", f"{indent}if f is not None: f({var}, i)"]

    lines = ["def visit(node, p):", "    i = len(order)", "    add_node(node)", "    add_parent(p)", "    add_end(0)"]
    plan = _field_plan(cls)
    if plan is None:
        lines += ["    for v in node.children:"] + visit_value("v", "        ")
    for f, kind in plan or ():
        if kind == "seq":
            lines += [f"    for v in node.{f}:"] + visit_value("v", "        ")
        else:
            lines += [f"    v = node.{f}"] + visit_value("v", "    ")
            if kind == "either":
                lines += ["    if isinstance(v, (list, tuple)):", "        for x in v:"] + visit_value("x", "            ")
    lines.append("    ends[i] = len(order)")
    exec(compile("\n".join(lines), f"<portlint index visitor of {cls.__name__}>", "exec"), _VISIT_NS)
    _VISITORS[cls] = visit = _VISIT_NS.pop("visit")
    return visit


def _stub(cls: type):
    def first_visit(node, p):
        return _visitor(cls)(node, p)
    return first_visit


_VISITORS.update({cls: _stub(cls) for cls in _INDEXED})
_VISIT_NS["get"] = _VISITORS.get


def _index_recursive(module) -> tuple[list, list, list]:
    order: list = []
    par: list = []
    ends: list = []
    _VISIT_NS.update(order=order, add_node=order.append, add_parent=par.append, add_end=ends.append, ends=ends)
    try:
        cls = module.__class__
        (_VISITORS.get(cls) or _visitor(cls))(module, -1)
    finally:
        for name in ("order", "add_node", "add_parent", "add_end", "ends"):
            _VISIT_NS.pop(name, None)
    return order, par, ends


def _index_with_stack(module) -> tuple[list, list, list]:
    """The same index as `_index_recursive`, from a stack walk over `.children` (any depth)."""
    order: list = []
    par: list[int] = []
    stack: list = [module]
    pstack: list[int] = [-1]
    while stack:
        node = stack.pop()
        i = len(order)
        order.append(node)
        par.append(pstack.pop())
        kids = [c for c in children(node) if c.__class__ in _INDEXED]
        if kids:
            kids.reverse()
            stack.extend(kids)
            pstack.extend([i] * len(kids))
    n = len(order)
    size = [1] * n
    for i in range(n - 1, 0, -1):
        size[par[i]] += size[i]
    return order, par, [i + s for i, s in enumerate(size)]


class ModuleIndex:
    """One pre-order traversal of a module, kept: every node's position, subtree end and parent.

    `walk(node)` is then a slice of `order` (skipping nested definitions by jumping over their
    subtrees), `parent(node)` a list lookup, and `functions()` a filter — no more traversals.
    Layout-only nodes (LAYOUT and what is under them) are not part of the index."""

    __slots__ = ("module", "order", "end", "par", "pos", "_functions", "_nested", "_marks")

    def __init__(self, module: cst.CSTNode) -> None:
        try:
            order, par, end = _index_recursive(module)
        except RecursionError:  # nested deeper than the recursion limit
            order, par, end = _index_with_stack(module)
        self.module = module
        self.order = order
        self.par = par
        self.end = end
        self.pos = dict(zip(map(id, order), range(len(order))))  # a third of a dict comprehension's time
        self._functions: Optional[list] = None
        self._nested: Optional[list] = None  # positions of FunctionDef, ClassDef, Lambda
        self._marks: Optional[dict] = None

    def positions_of(self, cls: type) -> list:
        """Positions (in `order`) of the nodes of one of the types rules look up often
        (_MARKED), found for all of them in one pass."""
        if self._marks is None:
            marks: dict = {c: [] for c in _MARKED}
            get = marks.get
            for i, n in enumerate(self.order):
                found = get(n.__class__)
                if found is not None:
                    found.append(i)
            self._marks = marks
        return self._marks[cls]

    def index_of(self, node) -> Optional[int]:
        i = self.pos.get(id(node))
        return i if i is not None and self.order[i] is node else None

    def walk(self, i: int, skip_functions: bool) -> list:
        order, end = self.order, self.end
        out = [order[i]]
        j, stop = i + 1, end[i]
        if not skip_functions:
            out.extend(order[j:stop])
            return out
        nested = self._nested
        if nested is None:
            nested = self._nested = sorted(k for c in DEFINITIONS for k in self.positions_of(c))
        # copy the slices between the nested definitions (each skipped with its whole subtree)
        for k in nested[bisect.bisect_right(nested, i):bisect.bisect_left(nested, stop)]:
            if k < j:
                continue  # inside a definition already skipped
            out.extend(order[j:k])
            j = end[k]
        out.extend(order[j:stop])
        return out

    def parent(self, node):
        """The node's parent in the index (None for the module, layout nodes and strangers)."""
        i = self.pos.get(id(node))
        if i is None or self.order[i] is not node:
            return None
        p = self.par[i]
        return self.order[p] if p >= 0 else None

    def functions(self) -> list:
        """Every FunctionDef, in the order a stack walk pushing children left to right pops them
        (right to left, pre-order): the reverse of a left-to-right post-order."""
        if self._functions is None:
            order, end = self.order, self.end
            found = list(self.positions_of(cst.FunctionDef))
            found.sort(key=lambda i: (end[i], -i), reverse=True)
            self._functions = [order[i] for i in found]
        return self._functions


_INDEXES: dict[int, ModuleIndex] = {}
_RECENT: list[ModuleIndex] = []


def module_index(module: cst.CSTNode) -> ModuleIndex:
    found = _INDEXES.get(id(module))
    if found is None or found.module is not module:
        found = _INDEXES[id(module)] = ModuleIndex(module)
    if not _RECENT or _RECENT[0] is not found:
        if found in _RECENT:
            _RECENT.remove(found)
        _RECENT.insert(0, found)
        del _RECENT[64:]  # find() looks at the first few only: kept short, as moving in it is linear
    return found


def find(node, recent: int = 32) -> Optional[tuple[ModuleIndex, int]]:
    """The index of a recently used module holding `node` (a pair's rules work on a few dozen
    modules at a time; looking through every module ever indexed would cost more than walking)."""
    for idx in _RECENT[:recent]:
        i = idx.index_of(node)
        if i is not None:
            if idx is not _RECENT[0]:
                _RECENT.remove(idx)
                _RECENT.insert(0, idx)
            return idx, i
    return None
