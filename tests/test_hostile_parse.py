"""Small hostile files (issue 14, item 4): constant folding is bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import portlint_cli_env

ROOT = Path(__file__).resolve().parents[1]
ORIGINAL = ROOT / "examples" / "resnet" / "resnet_torch.py"
GOOD = ROOT / "examples" / "resnet" / "resnet_sail.py"


def portlint(*args, cwd, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "portlint", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**portlint_cli_env(), **(env or {})})


def _side(tmp_path, name: str, text: str) -> Path:
    side = tmp_path / "ported"
    side.mkdir()
    (side / "good.py").write_text(GOOD.read_text())
    (side / name).write_text(text)
    return side


def _errors(r) -> dict:
    doc = json.loads(r.stdout)
    return {Path(e["path"]).name: e["message"] for e in doc["errors"]}


def test_huge_constants_are_not_computed(tmp_path):
    """`10 ** 10 ** 10` hung `check` (constant folding without a size bound)."""
    src = ("N = 10 ** 10 ** 10\nM = 9 ** 9 ** 9\nK = 2 << 10 ** 10\nP = 10 ** 4000 * 10 ** 4000\n"
           "s = 'ab'\nfor i in range(60):\n    s = s + s\n"
           "x = [1]\nfor i in range(60):\n    x += x\n"
           "t = 'a'.ljust(10 ** 10)\nu = ('a' * 1000).replace('', 'b' * 10000)\n")
    side = _side(tmp_path, "huge.py", src)
    t0 = time.monotonic()
    r = portlint("check", ORIGINAL, side, "--format", "json", "--no-cache", cwd=tmp_path, timeout=60)
    assert time.monotonic() - t0 < 30
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert _errors(r) == {}


def test_numeric_bounds_in_process():
    from portlint.analysis.values import UNKNOWN, Sym, numeric_op, sym_eval

    t0 = time.monotonic()
    assert numeric_op("pow", 10, 10 ** 10) is UNKNOWN
    assert numeric_op("mul", 10 ** 4000, 10 ** 4000) is UNKNOWN
    assert sym_eval(Sym("pow", (Sym("var", ("H",)), 10 ** 9)), {"H": 480}) is None
    assert numeric_op("pow", 2, 10) == 1024 and numeric_op("pow", 2.0, -1) == 0.5
    assert time.monotonic() - t0 < 1
