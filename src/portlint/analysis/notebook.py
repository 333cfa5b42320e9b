"""Jupyter notebooks as programs: the code cells, in order, are one module.

Why: upstream projects often drive their model from a notebook (SAM2's
`notebooks/image_predictor_example.ipynb`, many demo notebooks); that notebook is the original
program a port follows. The notebook is read as JSON data (nbformat 4: `cells[i].cell_type`,
`cells[i].source` as a string or a list of strings), never executed. IPython lines that are not
Python (`%matplotlib inline`, `!pip install ...`, `%%time` cells) become `pass` so that the line
numbers hold; each finding maps back to (cell, line) with the cell numbered 1, 2, ... over all
the notebook's cells, as Jupyter lists them.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass

MAX_CELLS = 5000


@dataclass(frozen=True)
class CellMap:
    """Where each code cell starts in the joined text (1-based lines) and its notebook number."""

    starts: tuple
    numbers: tuple

    def where(self, line: int) -> tuple[int, int]:
        """(cell number, line in the cell) of a line of the joined text."""
        i = max(bisect.bisect_right(self.starts, line) - 1, 0)
        return self.numbers[i], line - self.starts[i] + 1


def is_notebook(path) -> bool:
    return str(path).endswith(".ipynb")


def _python_line(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")):
        return line[: len(line) - len(stripped)] + "pass  # IPython: " + stripped
    return line


def notebook_code(data: bytes) -> tuple[str, CellMap]:
    """The Python text of a notebook's code cells and their map; ValueError says why a file is not
    a notebook this reads."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not a Jupyter notebook (invalid JSON: {exc.__class__.__name__})") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a Jupyter notebook (no cells list; nbformat 4 is read)")
    if len(cells) > MAX_CELLS:
        raise ValueError(f"notebook too large to analyse ({len(cells)} cells > {MAX_CELLS})")
    chunks, starts, numbers, line = [], [], [], 1
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        lines = source.split("\n")
        if lines and lines[0].lstrip().startswith("%%"):  # a cell magic: the cell is not Python
            lines = ["pass  # IPython cell magic: " + lines[0].strip()] + ["" for _ in lines[1:]]
        else:
            lines = [_python_line(x) for x in lines]
        starts.append(line)
        numbers.append(number)
        chunks.append("\n".join(lines))
        line += len(lines)
    return "\n".join(chunks) + "\n", CellMap(tuple(starts) or (1,), tuple(numbers) or (1,))
