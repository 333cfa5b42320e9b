"""A side checked in several pairs (one original against its opencv and its bmcv port) is
interpreted once per run (checker._side_facts), and each pair's report is what it would be alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "resnet"


def _run(tmp_path, pairs, monkeypatch):
    from portlint.analysis import analyze
    from portlint.checker import CheckOptions, run_check
    from portlint.report.json_format import render

    lines = ["[tool.portlint]", 'cache-dir = ".c"', "pairs = ["]
    lines += [f'  {{original = "{o}", ported = "{p}"}},' for o, p in pairs]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines + ["]"]) + "\n")
    calls = []
    real = analyze.interpret
    monkeypatch.setattr(analyze, "interpret", lambda side, *a, **k: calls.append(side.root) or real(side, *a, **k))
    monkeypatch.chdir(tmp_path)
    report = run_check(CheckOptions.from_cli(config=str(tmp_path / "pyproject.toml"), jobs=1, no_cache=True))
    return json.loads(render(report)), calls


def test_one_original_two_ports_is_interpreted_once(tmp_path, monkeypatch):
    shutil.copy(EXAMPLE / "resnet_torch.py", tmp_path / "original.py")
    shutil.copy(EXAMPLE / "resnet_sail.py", tmp_path / "ported_a.py")
    aligned = ROOT / "tests" / "fixtures" / "PL102" / "aligned_cv2_area"
    shutil.copy(aligned / "ported.py", tmp_path / "ported_b.py")
    both, calls = _run(tmp_path, [("original.py", "ported_a.py"), ("original.py", "ported_b.py")], monkeypatch)
    assert len(calls) == 3  # the original once, each port once
    alone_a, _ = _run(tmp_path, [("original.py", "ported_a.py")], monkeypatch)
    alone_b, _ = _run(tmp_path, [("original.py", "ported_b.py")], monkeypatch)
    assert both["findings"] == alone_a["findings"] + alone_b["findings"]
    assert any(f["code"] == "PL101" for f in both["findings"])


def test_a_changed_file_is_interpreted_again_in_the_next_run(tmp_path, monkeypatch):
    shutil.copy(EXAMPLE / "resnet_torch.py", tmp_path / "original.py")
    shutil.copy(EXAMPLE / "resnet_sail.py", tmp_path / "ported.py")
    first, _ = _run(tmp_path, [("original.py", "ported.py")], monkeypatch)
    text = (tmp_path / "original.py").read_text().replace("transforms.Resize((size, size)),", "")
    (tmp_path / "original.py").write_text(text)
    second, calls = _run(tmp_path, [("original.py", "ported.py")], monkeypatch)
    assert len(calls) == 2
    assert [f["code"] for f in first["findings"]] != [f["code"] for f in second["findings"]]
