"""`# portlint: ignore[...]` comments: drop the findings the user has accepted, report stale ones.

A line comment suppresses a finding when it sits on the finding's ported line or on its original
line (either side may be where the user decided the difference is fine):

    img = cv2.resize(img, (224, 224))  # portlint: ignore[PL101, PL106]
    img = cv2.resize(img, (224, 224))  # portlint: ignore            (every code)
    # portlint: ignore-file[PL107]    anywhere in a file: findings located in that file
    # portlint: ignore-file           (every code)

A rule kind may stand in for a code (`ignore[resize-antialias]`).

Comments are found by a small scanner, not `tokenize`, so a file that does not parse still has
its suppressions honoured. It skips string literals (also triple-quoted and escaped quotes);
known limitation: a `#` inside a nested f-string replacement field (`f"{d['#']}"`, Python 3.12
syntax with reused quotes) can be taken for a comment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from portlint.findings import Finding, Location
from portlint.report import CheckReport

_MARKER = re.compile(r"#\s*portlint:\s*(ignore-file|ignore)(?![\w-])(?:\[([^\]]*)\])?")
_SPECIAL = re.compile(r"[#'\"\\\n]")


@dataclass
class Suppression:
    path: str
    line: int
    column: int
    file_level: bool
    codes: Optional[tuple[str, ...]]  # None: every code
    source_line: str = ""
    used: set[str] = field(default_factory=set)
    cell: Optional[int] = None  # in a notebook: the cell, and `line` is the line in it

    def matches(self, finding: Finding) -> bool:
        if self.codes is None:
            self.used.add("*")
            return True
        hit = {c for c in (finding.code, finding.kind) if c in self.codes}
        self.used |= hit
        return bool(hit)

    def unused(self) -> Optional[str]:
        """The part of the comment that suppressed nothing, e.g. `ignore[PL106]`, or None."""
        name = "ignore-file" if self.file_level else "ignore"
        if self.codes is None:
            return None if self.used else name
        stale = [c for c in self.codes if c not in self.used]
        return f"{name}[{', '.join(stale)}]" if stale else None


def comments(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, text) of every `#` comment, 1-based, skipping string literals."""
    i, line, line_start, n = 0, 1, 0, len(text)
    quote = ""
    while True:
        m = _SPECIAL.search(text, i)
        if m is None:
            return
        i = m.start()
        c = text[i]
        if c == "\n":
            line, line_start = line + 1, i + 1
            if len(quote) == 1:  # unterminated one-line string: recover at the line end
                quote = ""
            i += 1
        elif quote:
            if c == "\\":
                if text.startswith("\n", i + 1):
                    line, line_start = line + 1, i + 2
                i += 2
            elif text.startswith(quote, i):
                quote, i = "", i + len(quote)
            else:
                i += 1
        elif c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield line, i - line_start + 1, text[i:end].rstrip("\r")
            i = end
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
        else:  # a backslash outside a string: line continuation
            i += 1


def parse_suppressions(path: str, text: str) -> list[Suppression]:
    if "portlint" not in text:  # every marker names portlint: no comment scan needed
        return []
    lines = text.splitlines()
    found = []
    for line, column, comment in comments(text):
        for m in _MARKER.finditer(comment):
            codes = None
            if m.group(2) is not None:
                codes = tuple(_norm(c) for c in m.group(2).split(",") if c.strip())
            src = lines[line - 1] if line <= len(lines) else ""
            found.append(Suppression(path, line, column + m.start(), m.group(1) == "ignore-file", codes, src))
    return found


def _read_suppressions(path: str) -> list[Suppression]:
    """A file's suppression comments; a notebook's are read from its code cells, each placed at
    (cell, line). An unreadable file suppresses nothing."""
    from portlint.analysis.notebook import is_notebook, notebook_code

    try:
        if is_notebook(path):
            with open(path, "rb") as fh:
                text, cells = notebook_code(fh.read())
            found = parse_suppressions(path, text)
            for s in found:
                s.cell, s.line = cells.where(s.line)
            return found
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return parse_suppressions(path, fh.read())
    except (OSError, ValueError):
        return []


def _norm(code: str) -> str:
    code = code.strip()
    return code.upper() if code.upper().startswith("PL") else code


class _Index:
    """Suppressions per file, each file read once; unreadable files suppress nothing."""

    def __init__(self) -> None:
        self.files: dict[str, list[Suppression]] = {}

    def of(self, path: str) -> list[Suppression]:
        key = os.path.realpath(path)
        if key not in self.files:
            self.files[key] = _read_suppressions(path)
        return self.files[key]

    def suppresses(self, finding: Finding) -> bool:
        hit = False
        for loc in (finding.ported, finding.original):
            if loc is None:
                continue
            for s in self.of(loc.path):
                if (s.file_level or (s.line == loc.line and s.cell == loc.cell)) and s.matches(finding):
                    hit = True  # keep going: every matching comment counts as used
        return hit


def apply_suppressions(report: CheckReport, show_unused: bool = False,
                       files: Iterable[str] = ()) -> CheckReport:
    """Remove suppressed findings from `report` (in place, also returned). With `show_unused`,
    add a PL001 finding per comment that suppressed nothing, looking in the files the findings
    name, `files`, and `report.paths` when the report carries the analysed files."""
    index = _Index()
    report.findings = [f for f in report.findings if not index.suppresses(f)]
    if show_unused:
        from portlint.rules import pl001_unused_suppression  # a warm (cached) check imports no rule

        for path in (*files, *getattr(report, "paths", ())):
            index.of(str(path))
        for sups in index.files.values():
            for s in sups:
                stale = s.unused()
                if stale:
                    report.findings.append(pl001_unused_suppression.unused(
                        stale, Location(s.path, s.line, s.column, s.source_line, cell=s.cell)))
    return report
