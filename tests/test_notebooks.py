"""Jupyter notebooks as sides (issue 12): the code cells in order are one program, IPython lines
are not parsed as Python, findings and suppressions are placed at (cell, line), a fix inside a
notebook is shown but never written, and a broken notebook is a one-line error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fixture_support import run_cli
from portlint.analysis.notebook import notebook_code

CASE = Path(__file__).resolve().parent / "fixtures" / "PL100" / "notebook_original_normalize_dropped"


def _nb(cells) -> bytes:
    out = []
    for kind, src in cells:
        out.append({"cell_type": kind, "metadata": {}, "source": src.splitlines(keepends=True),
                    **({"outputs": [], "execution_count": None} if kind == "code" else {})})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": out}).encode()


def test_code_cells_joined_with_ipython_lines_blanked():
    text, cells = notebook_code(_nb([
        ("markdown", "# title"),
        ("code", "%matplotlib inline\nimport os\nfor _ in range(1):\n  !ls"),
        ("code", "%%time\nx = 1 +\n"),
        ("raw", "not code"),
        ("code", "y = 2"),
    ]))
    lines = text.splitlines()
    assert lines[0].startswith("pass  # IPython: %matplotlib") and lines[1] == "import os"
    assert lines[3] == "  pass  # IPython: !ls"
    assert lines[4].startswith("pass  # IPython cell magic") and lines[5] == ""  # the cell is not Python
    compile(text, "nb", "exec")  # the joined text parses
    assert cells.where(2) == (2, 2)  # `import os`: cell 2 (the markdown cell counts), line 2
    assert cells.where(lines.index("y = 2") + 1) == (5, 1)


def test_findings_point_at_cell_and_line(capsys):
    code, out, err = run_cli(["check", str(CASE / "original.ipynb"), str(CASE / "ported.py"), "--format", "json",
                              "--input-shape", "1,3,1024,1024"], capsys)
    doc = json.loads(out)
    where = {f["code"]: f["original"] for f in doc["findings"]}
    assert where["PL107"]["cell"] == 5 and where["PL107"]["line"] == 4  # T.Normalize(...) in cell 5
    assert where["PL100"]["cell"] == 7 and where["PL100"]["line"] == 1  # Image.open in cell 7
    code, out, err = run_cli(["check", str(CASE / "original.ipynb"), str(CASE / "ported.py"),
                              "--input-shape", "1,3,1024,1024"], capsys)
    assert "original.ipynb:cell 5:4:5" in out


def _ported_notebook(tmp_path) -> Path:
    src = (CASE / "ported.py").read_text()
    body, main = src.split('\n\nif __name__ == "__main__":\n')
    main = "\n".join(line[4:] for line in main.splitlines())
    nb = tmp_path / "ported.ipynb"
    nb.write_bytes(_nb([("markdown", "# TPU port"), ("code", body), ("code", main)]))
    shutil.copy(CASE / "original.ipynb", tmp_path / "original.ipynb")
    return nb


def test_a_fix_inside_a_notebook_is_shown_never_written(tmp_path, capsys):
    nb = _ported_notebook(tmp_path)
    before = nb.read_bytes()
    args = [str(tmp_path / "original.ipynb"), str(nb), "--input-shape", "1,3,1024,1024"]
    code, out, err = run_cli(["check", *args, "--format", "json"], capsys)
    (norm,) = [f for f in json.loads(out)["findings"] if f["code"] == "PL107"]
    assert norm["ported"]["cell"] == 2 and norm["fix"]["applicability"] == "display-only"
    assert "in a notebook" in norm["fix"]["description"]
    run_cli(["fix", *args, "--apply"], capsys)
    assert nb.read_bytes() == before


def test_suppression_comment_in_a_cell(tmp_path, capsys):
    nb = _ported_notebook(tmp_path)
    doc = json.loads(nb.read_text())
    cell = doc["cells"][1]
    cell["source"] = [line.replace("resized / 255.0\n", "resized / 255.0  # portlint: ignore[PL107]\n")
                      for line in cell["source"]]
    nb.write_text(json.dumps(doc))
    code, out, err = run_cli(["check", str(tmp_path / "original.ipynb"), str(nb), "--input-shape", "1,3,1024,1024",
                              "--format", "json"], capsys)
    assert "PL107" not in {f["code"] for f in json.loads(out)["findings"]}


def test_a_notebook_in_a_folder_side_is_a_program(tmp_path, capsys):
    folder = tmp_path / "upstream"
    folder.mkdir()
    shutil.copy(CASE / "original.ipynb", folder / "demo.ipynb")
    code, out, err = run_cli(["check", str(folder), str(CASE / "ported.py"), "--format", "json",
                              "--input-shape", "1,3,1024,1024"], capsys)
    assert "PL107" in {f["code"] for f in json.loads(out)["findings"]}, err


def test_a_broken_notebook_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [')
    code, out, err = run_cli(["check", str(bad), str(CASE / "ported.py")], capsys)
    assert code == 2 and "Traceback" not in err
    assert "broken.ipynb" in err and "not a Jupyter notebook" in err
