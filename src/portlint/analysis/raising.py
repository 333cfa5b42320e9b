"""Calls the analyser knows raise, and the blocks that swallow them.

A program such as ultralytics' `smart_value` turns command-line text into a value with
`with contextlib.suppress(Exception): return eval(v)` and falls back to the text itself:
`eval("yolov8s.pt")` raises NameError, so `v` comes back. The analyser never executes the text;
it decides the outcome only when it is certain (see apis/eval_api.py). A certain raise stops the
statement as Python does (`ProgramRaise`), propagates out of the functions that do not handle
it, and ends at the first `try` or `with contextlib.suppress(<a class that covers it>)`.
"""

from __future__ import annotations

from typing import Iterable

# builtin exception -> the classes an `except`/suppress of which catches it
_BASES = {
    "NameError": ("NameError", "Exception", "BaseException"),
    "SyntaxError": ("SyntaxError", "Exception", "BaseException"),
    "ValueError": ("ValueError", "Exception", "BaseException"),
}
EXCEPTION_NAMES = frozenset(n for bases in _BASES.values() for n in bases)


class ProgramRaise(Exception):
    """The analysed program raises here (internal to the interpreter)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def covers(handled: Iterable[str], raised: str) -> bool:
    """Whether handling `handled` (class names) catches a raised `raised`."""
    bases = _BASES.get(raised, (raised,))
    return any(h in bases for h in handled)
