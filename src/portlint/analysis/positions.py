"""Source positions of libcst nodes, the same as libcst's `PositionProvider`, about 5x cheaper.

`PositionProvider` codegens the whole module and, for every token, splits it on newlines and
builds `CodePosition` objects for every node. portlint only ever asks for the positions of a
few nodes (where findings and fixes are), so this codegen state keeps just a character offset
per node (two ints) and converts an offset to (line, column) only when asked, by bisecting the
line starts of the text — valid because libcst round-trips: the module's code *is* the text.

The semantics are PositionProvider's: the syntactic range a node records (hoisted from child
nodes where libcst says so), else the whitespace-inclusive range of its codegen. When the
generated code does not match the text (it always does for a module parsed from that text),
`module_positions` falls back to PositionProvider itself.
"""

from __future__ import annotations

import bisect
import re
from contextlib import contextmanager
from typing import Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

from portlint.analysis import fastcode

_NEWLINE = re.compile(r"\r\n?|\n")


class _OffsetState(CodegenState):
    """A codegen state that records, per node, (start offset, end offset) into the output."""

    __slots__ = ("offset", "ranges", "_stack", "popped")

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.offset = 0
        self.ranges: dict = {}
        self._stack: list[int] = []
        self.popped = ""

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        if self.tokens:  # PositionProvider's line count still includes the popped newline
            self.popped = self.tokens.pop()
            self.offset -= len(self.popped)

    def before_codegen(self, node) -> None:
        self._stack.append(self.offset)

    def after_codegen(self, node) -> None:
        start = self._stack.pop()
        if node not in self.ranges:  # a syntactic range recorded inside wins
            # PositionProvider does not rewind its line count over a popped final newline
            end = self.offset + len(self.popped) if isinstance(node, cst.Module) else self.offset
            self.ranges[node] = (start, end)

    @contextmanager
    def record_syntactic_position(self, node, *, start_node=None, end_node=None) -> Iterator[None]:
        start = self.offset
        try:
            yield
        finally:
            end = self.offset
            if start_node is not None:
                start = self.ranges[start_node][0]
            if end_node is not None:
                end = self.ranges[end_node][1]
            self.ranges[node] = (start, end)


class Positions:
    """node -> CodeRange (1-based lines, 0-based columns), computed on access."""

    def __init__(self, ranges: dict, text: str) -> None:
        self._ranges = ranges
        self._starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        self._cache: dict = {}

    def _pos(self, offset: int) -> CodePosition:
        i = bisect.bisect_right(self._starts, offset) - 1
        return CodePosition(i + 1, offset - self._starts[i])

    def get(self, node, default=None) -> Optional[CodeRange]:
        found = self._cache.get(node)
        if found is None:
            r = self._range(node)
            if r is None:
                return default
            found = self._cache[node] = CodeRange(self._pos(r[0]), self._pos(r[1]))
        return found

    def _range(self, node):
        return self._ranges.get(node)

    def __getitem__(self, node) -> CodeRange:
        found = self.get(node)
        if found is None:
            raise KeyError(node)
        return found

    def __contains__(self, node) -> bool:
        return node in self._ranges

    def __len__(self) -> int:
        return len(self._ranges)

    def __iter__(self):
        return iter(self._ranges)

    def items(self):
        return ((n, self[n]) for n in self._ranges)


class SpanPositions(Positions):
    """Positions of an astfront tree: its converter recorded each node's range (packed, with its
    code's range, which positions do not use)."""

    def __init__(self, module, text: str) -> None:
        super().__init__(module.spans, text)
        self._module = module

    def _range(self, node):
        return self._module.span(node)


def module_positions(module: cst.Module, text: Optional[str] = None):
    """Positions of every node of `module` (parsed from `text`), as PositionProvider gives them."""
    state = _OffsetState(module.default_indent, module.default_newline)
    module._codegen(state)
    if text is None:
        text = "".join(state.tokens)
    elif state.offset != len(text) or "".join(state.tokens) != text:
        from libcst.metadata import MetadataWrapper, PositionProvider

        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
    return Positions(state.ranges, text + state.popped)


# --------------------------------------------------------------------------- one node at a time

_CONTEXT_FREE: dict[type, bool] = {}


def _context_free(cls: type) -> bool:
    """Expression types whose code does not depend on where they stand: their codegen takes no
    arguments from the parent (unlike an Element's default comma) and they hold no statements
    (whose indentation comes from the enclosing blocks)."""
    found = _CONTEXT_FREE.get(cls)
    if found is None:
        import inspect

        found = False
        if issubclass(cls, cst.BaseExpression):
            try:
                params = list(inspect.signature(cls._codegen_impl).parameters)
                found = params == ["self", "state"]
            except (TypeError, ValueError):
                found = False
        _CONTEXT_FREE[cls] = found
    return found


# Node types whose code depends on the parent *before* their first token (`elif` vs `if`, a default
# `*` or `:`/`->`): their own code may not be where they stand, so their parent is located instead.
_LEADING_CONTEXT = {cst.If, cst.Param, cst.Annotation, cst.From}


class LazyPositions:
    """Positions for a few nodes without generating the whole module when it can be avoided.

    A node's own code, generated alone with the indentation of the blocks around it, is the text
    it has in the module (an Element's default comma or a small statement's semicolon can only add
    text after it). When that text occurs once in the file, that occurrence is the node, and every
    node under it is at the occurrence plus the offset its codegen gave. A text that occurs twice
    is retried with the parent, then the grandparent, ... (parents from the module's index,
    engine/tree.py); when even a large ancestor is not unique, the whole module is generated
    once (`module_positions`)."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text
        self._full = None
        self._found: dict = {}
        self._starts: Optional[list[int]] = None
        self._index = None  # the module's tree.ModuleIndex, once needed

    def _full_positions(self):
        if self._full is None:
            self._full = module_positions(self.module, self.text)
        return self._full

    def _pos(self, offset: int) -> CodePosition:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        i = bisect.bisect_right(self._starts, offset) - 1
        return CodePosition(i + 1, offset - self._starts[i])

    def _occurrence(self, candidate, indent: list, node) -> tuple[Optional[CodeRange], int]:
        """(the node's range if `candidate`'s code occurs exactly once, that code's length)."""
        written = fastcode.generate(candidate, "".join(indent), self.module.default_newline, node)
        if written is not None:
            code, rng = written
        else:  # a node the fast writer leaves to libcst (statements, lambdas)
            state = _OffsetState(self.module.default_indent, self.module.default_newline)
            state.indent_tokens.extend(indent)
            candidate._codegen(state)
            code = "".join(state.tokens)
            rng = state.ranges.get(node)
        if not code:
            return None, 0
        at = self.text.find(code)
        if at < 0 or self.text.find(code, at + 1) >= 0:
            return None, len(code)
        if rng is None:
            return None, len(code)
        return CodeRange(self._pos(at + rng[0]), self._pos(at + rng[1])), len(code)

    def _fast(self, node) -> Optional[CodeRange]:
        if _context_free(type(node)):  # most finding sites: no parents needed
            found = self._occurrence(node, [], node)[0]
            if found is not None:
                return found
        if self._index is None:
            from portlint.analysis.tree import module_index

            self._index = module_index(self.module)
        chain, cur = [], node
        while cur is not None and cur is not self.module:
            chain.append(cur)
            cur = self._index.parent(cur)
        if cur is not self.module:
            return None  # not in the index (layout nodes): no shortcut
        indents = []  # the indentation each enclosing block adds, outermost first
        for anc in reversed(chain[1:]):
            if type(anc) is cst.IndentedBlock:
                indents.append(self.module.default_indent if anc.indent is None else anc.indent)
        limit = max(2000, len(self.text) // 4)
        depth = len(indents)
        for i, candidate in enumerate(chain):
            if type(candidate) is cst.IndentedBlock and i:
                depth -= 1  # above this block its indentation no longer applies
            if type(candidate) in _LEADING_CONTEXT:
                continue
            found, size = self._occurrence(candidate, indents[:depth], node)
            if found is not None:
                return found
            if size > limit:
                return None
        return None

    def get(self, node, default=None) -> Optional[CodeRange]:
        if self._full is not None:
            return self._full.get(node, default)
        found = self._found.get(id(node))
        if found is not None and found[0] is node:
            return found[1]
        rng = self._fast(node)
        if rng is None:
            return self._full_positions().get(node, default)
        self._found[id(node)] = (node, rng)
        return rng

    def __getitem__(self, node) -> CodeRange:
        found = self.get(node)
        if found is None:
            raise KeyError(node)
        return found
