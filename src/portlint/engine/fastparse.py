"""`parse_module(text)`: libcst's parser, without re-validating the nodes the parser itself built.

Why: libcst builds every node through its frozen dataclass constructor, whose `__post_init__`
runs `_validate()` (regex checks of whitespace, balanced parentheses, ...). Those checks guard
trees built *by hand*; a tree the parser built from source that parsed is valid by construction.
libcst says so itself, in `libcst/_nodes/base.py` (CSTNode.__post_init__): "PERF: It might make
more sense to move validation work into the visitor, which would allow us to avoid validating
the tree when parsing a file." Measured here (scripts/benchmark.py corpus): validation is about
13% of `libcst.parse_module`.

How: while the native parser runs, `CSTNode.__post_init__` (the only definition of that method
in libcst; checked at import) is swapped for a no-op and restored right after, so nodes built
later (codemods, `with_changes`) are validated as usual. `tests/test_fastparse.py` checks the
trees equal libcst's own, node for node, on the fixture corpus and on generated programs. When
libcst's layout is not the one described here, this falls back to `libcst.parse_module`.
"""

from __future__ import annotations

import libcst as cst

try:
    from libcst._nodes.base import CSTNode as _CSTNode
except ImportError:  # a libcst without that module: plain parsing
    _CSTNode = None

def _skippable() -> bool:
    """Only the base class defines __post_init__, and it only validates."""
    if _CSTNode is None or "__post_init__" not in _CSTNode.__dict__:
        return False
    code = _CSTNode.__dict__["__post_init__"].__code__
    if code.co_names != ("_validate",):
        return False
    stack = [_CSTNode]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if "__post_init__" in sub.__dict__:
                return False
            stack.append(sub)
    return True


def _no_validation(self) -> None:
    return None


_ENABLED = _skippable()
_VALIDATING = _CSTNode.__dict__["__post_init__"] if _ENABLED else None


def parse_module(text: str) -> cst.Module:
    """libcst.parse_module(text), skipping the validation of parser-built nodes when safe."""
    if not _ENABLED:
        return cst.parse_module(text)
    # portlint runs one thread per process and builds nodes by hand only in `fix`, never while
    # a parse runs, so no hand-built node can be created during the swap.
    _CSTNode.__post_init__ = _no_validation
    try:
        return cst.parse_module(text)
    finally:
        _CSTNode.__post_init__ = _VALIDATING
