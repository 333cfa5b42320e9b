"""Hostile and broken input: each bad file gives one line naming it and what is wrong, the good
files are still analysed, and exit 2 only when nothing could be analysed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL = ROOT / "examples" / "resnet" / "resnet_torch.py"
GOOD = ROOT / "examples" / "resnet" / "resnet_sail.py"


def portlint(*args, cwd, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "portlint", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture
def hostile_side(tmp_path):
    side = tmp_path / "ported"
    side.mkdir()
    (side / "good.py").write_text(GOOD.read_text())
    (side / "syntax.py").write_text("def broken(:\n    pass\n")
    (side / "latin1.py").write_bytes(b"# caf\xe9\nx = 1\n")
    (side / "binary.py").write_bytes(bytes(range(256)))
    (side / "empty.py").write_text("")
    (side / "huge.py").write_text("x = 1\n" * (10 * 1024 * 1024 // 6))
    (side / "deep.py").write_text("x = " + "(" * 500 + "1" + ")" * 500 + "\n")
    (side / "loop").mkdir()
    (side / "loop" / "again").symlink_to(side / "loop", target_is_directory=True)
    (side / "dangling.py").symlink_to(side / "nowhere.py")
    os.mkfifo(side / "fifo.py")
    return side


def test_bad_files_are_named_and_the_rest_is_analysed(hostile_side, tmp_path):
    r = portlint("check", ORIGINAL, hostile_side, "--format", "json", "--no-cache", cwd=tmp_path)
    assert r.returncode == 1, r.stderr  # findings from good.py decide
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert any(f["code"] == "PL101" and f["ported"]["path"].endswith("good.py") for f in doc["findings"])
    errors = {Path(e["path"]).name: e["message"] for e in doc["errors"]}
    assert "syntax error at line 1" in errors["syntax.py"]
    assert "not valid text" in errors["latin1.py"]
    assert "binary file" in errors["binary.py"]
    assert "too large" in errors["huge.py"]
    assert "no such file" in errors["dangling.py"]
    assert "not a regular file" in errors["fifo.py"]
    assert "empty.py" not in errors  # an empty file is valid Python
    # one line per error on stderr, each naming its file
    error_lines = [line for line in r.stderr.splitlines() if line.startswith("portlint: error:")]
    assert len(error_lines) == len(doc["errors"])
    for line, err in zip(error_lines, doc["errors"]):
        assert err["path"] in line and "\n" not in err["message"]


def test_deeply_nested_expression_is_analysed_or_named(hostile_side, tmp_path):
    r = portlint("check", ORIGINAL, hostile_side / "deep.py", "--format", "json", "--no-cache", cwd=tmp_path)
    assert r.returncode in (0, 2, 3), r.stderr  # 3: no pipeline found in deep.py (README, exit codes)
    assert "Traceback" not in r.stderr
    if r.returncode == 2:
        assert "deep.py" in r.stderr


def test_nothing_analysable_exits_2(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"\x00\x01")
    r = portlint("check", ORIGINAL, bad, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "bad.py: binary file" in r.stderr


def test_time_limit_names_the_file(tmp_path):
    slow = tmp_path / "slow.py"
    # a long straight-line program: far more statements than a 0.001 s budget allows
    slow.write_text(GOOD.read_text() + "".join(f"value_{i} = [{i}] * 3\n" for i in range(30000)))
    r = portlint("check", ORIGINAL, slow, "--no-cache", cwd=tmp_path, env={"PORTLINT_FILE_TIME_LIMIT": "0.001"})
    assert r.returncode in (0, 1), r.stderr
    assert "slow.py: analysis stopped at the time limit" in r.stderr


def test_missing_and_truncated_bmodel(tmp_path):
    r = portlint("check", ORIGINAL, GOOD, "--bmodel", tmp_path / "none.bmodel", cwd=tmp_path)
    assert r.returncode == 2 and "none.bmodel" in r.stderr and r.stderr.count("\n") == 1
    truncated = tmp_path / "cut.bmodel"
    truncated.write_bytes(b"\xee\xaa\x55\xff" + b"\x00" * 10)
    r = portlint("check", ORIGINAL, GOOD, "--bmodel", truncated, cwd=tmp_path)
    assert r.returncode == 2 and "cut.bmodel" in r.stderr and "Traceback" not in r.stderr
