"""The finding record every rule produces and every output format consumes (see docs/contract.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

KINDS = (
    "decode", "channel-order", "resize-antialias", "resize-interpolation", "resize-size",
    "crop", "padding", "normalize", "layout", "dtype", "output-order", "nms",
    "coco-rounding", "dynamic-shape", "trace", "other",
)
SEVERITIES = ("error", "warning", "info")
APPLICABILITIES = ("safe", "unsafe", "display-only")


class _Place:
    """path/line/column/cell as JSON and as text, shared by Location and Related."""

    def _json(self) -> dict:
        out = {"path": self.path, "line": self.line, "column": self.column}
        if self.cell is not None:
            out["cell"] = self.cell
        return out

    def place(self) -> str:
        """path:line:column, or path:cell N:line:column in a notebook (as Ruff writes it)."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.column}"


@dataclass(frozen=True)
class Location(_Place):
    """A place in a file as the user named it; 1-based line and column."""

    path: str
    line: int
    column: int
    source_line: str = ""
    cell: Optional[int] = None  # a notebook's cell (1-based, all cells counted); `line` is in it

    def to_json(self) -> dict:
        return self._json()


@dataclass(frozen=True)
class Related(_Place):
    """Another place a finding involves (the value's use site, a helper it flows through)."""

    path: str
    line: int
    column: int
    note: str
    cell: Optional[int] = None  # as Location.cell

    def to_json(self) -> dict:
        return {**self._json(), "note": self.note}


@dataclass(frozen=True)
class TextEdit:
    """Replace the text between two (line, column) positions (1-based, end exclusive) of a file."""

    path: str
    start: tuple[int, int]
    end: tuple[int, int]
    replacement: str


@dataclass
class Fix:
    """How to fix a finding: edits to the ported side, imports they need, and how safe it is."""

    applicability: str
    description: str
    edits: list[TextEdit] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # e.g. "import numpy as np", "from PIL import Image"

    def to_json(self) -> dict:
        return {"applicability": self.applicability, "description": self.description}


@dataclass
class Finding:
    code: str
    kind: str
    severity: str
    message: str
    ported: Optional[Location]
    original: Optional[Location] = None
    fix: Optional[Fix] = None
    program: Optional[str] = None  # which original program the ported pipeline was matched with
    related: list[Related] = field(default_factory=list)

    def sort_key(self):
        p = self.ported
        return (p.path if p else "", (p.cell or 0) if p else 0, p.line if p else 0, p.column if p else 0, self.code,
                self.message)

    def to_json(self) -> dict:
        out = {
            "code": self.code,
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "ported": self.ported.to_json() if self.ported else None,
            "original": self.original.to_json() if self.original else None,
            "fix": self.fix.to_json() if self.fix else None,
            "related": [r.to_json() for r in self.related],
        }
        if self.program:
            out["program"] = self.program
        return out
