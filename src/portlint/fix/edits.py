"""Text edits on source text: where a (line, column) position is, which edits overlap, the text
with edits applied, and whether a text still parses (a fix must never break a file)."""

from __future__ import annotations

import re
from typing import Iterable, Optional

import libcst as cst

from portlint.findings import TextEdit

_EOL = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _EOL.finditer(text)]


def _offset(text: str, starts: list[int], pos: tuple[int, int]) -> int:
    line, col = pos
    if not 1 <= line <= len(starts):
        raise ValueError(f"line {line} is outside the file ({len(starts)} lines)")
    end = starts[line] if line < len(starts) else len(text)
    off = starts[line - 1] + col - 1
    if col < 1 or off > end:
        raise ValueError(f"column {col} is outside line {line}")
    return off


def _span(text: str, starts: list[int], e: TextEdit) -> tuple[int, int]:
    a, b = _offset(text, starts, e.start), _offset(text, starts, e.end)
    if b < a:
        raise ValueError(f"edit ends before it starts at line {e.start[0]}")
    return a, b


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[0] == a[1] == b[0] == b[1]:
        return True  # two insertions at one place: their order would be a guess
    return a[0] < b[1] and b[0] < a[1]


def split_overlapping(text: str, edits: Iterable[TextEdit]) -> tuple[list[TextEdit], list[TextEdit]]:
    """(kept, skipped): the first of overlapping edits wins, in the given order."""
    starts = line_starts(text)
    kept, spans, skipped = [], [], []
    for e in edits:
        span = _span(text, starts, e)
        if any(_overlaps(span, s) for s in spans):
            skipped.append(e)
        else:
            kept.append(e)
            spans.append(span)
    return kept, skipped


def apply_edits(text: str, edits: Iterable[TextEdit], skipped: Optional[list[TextEdit]] = None) -> str:
    """`text` with the edits applied (1-based, end-exclusive line/column positions in `text`).

    Overlapping edits: the first wins; the rest are appended to `skipped` when given.
    Raises ValueError for a position outside the text."""
    kept, dropped = split_overlapping(text, edits)
    if skipped is not None:
        skipped.extend(dropped)
    starts = line_starts(text)
    spans = sorted(((*_span(text, starts, e), e.replacement) for e in kept), key=lambda s: s[:2])
    out, last = [], 0
    for a, b, replacement in spans:
        out.append(text[last:a])
        out.append(replacement)
        last = b
    out.append(text[last:])
    return "".join(out)


def parses(text: str) -> bool:
    """True when `text` is a Python module libcst can parse."""
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return False
    return True
