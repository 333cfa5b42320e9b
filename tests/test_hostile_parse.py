"""Small hostile files (issue 14, items 4, 5 and 11): constant folding is bounded, libcst never
sees a file it would take minutes on or crash on, and a file that is not analysed is one error
line naming it while the rest of the side is analysed."""

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


def test_str_replace_on_known_strings_is_folded():
    """The interpreter passes a str method's arguments as a list: `name.replace('_', '-')` raised
    TypeError in the size bound (seen in strict mode on the real corpus) and its value was lost."""
    from portlint.analysis.bounds import str_call_fits

    assert str_call_fits("replace", "a_b.jpg", ["_", "-"]) is True
    assert str_call_fits("replace", "a" * 1000, ["", "b" * 10_000]) is False


def test_long_attribute_chain_is_refused_not_a_crash(tmp_path):
    """A 40 KB `a.b.b.b...` line made libcst's native parser overflow its stack (signal 11)."""
    side = _side(tmp_path, "chain.py", "x = a" + ".b" * 20000 + "\n")
    r = portlint("check", ORIGINAL, side, "--format", "json", "--no-cache", cwd=tmp_path, timeout=60)
    assert r.returncode == 1, r.stderr  # good.py is still analysed and has its finding
    assert "too long an operator chain" in _errors(r)["chain.py"]
    assert "portlint: error: " in r.stderr and "chain.py" in r.stderr and "Traceback" not in r.stderr


def test_long_binary_chain_is_refused_at_once(tmp_path):
    """Parsing is super-quadratic in `1+1+...` (17 s at 5k terms)."""
    bad = tmp_path / "plus.py"
    bad.write_text("x = 1" + "+1" * 5000 + "\n")
    t0 = time.monotonic()
    r = portlint("check", ORIGINAL, bad, "--no-cache", cwd=tmp_path, timeout=60)
    assert time.monotonic() - t0 < 10
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"portlint: error: {bad}: not analysed:")


def test_many_long_chains_stop_at_the_parse_time_limit(tmp_path):
    """Chains each short enough but together minutes of parsing: parsed in a child under the time
    limit, which PORTLINT_FILE_TIME_LIMIT now covers."""
    side = _side(tmp_path, "many.py", ("x = a" + "[0]" * 700 + "\n") * 200)
    t0 = time.monotonic()
    r = portlint("check", ORIGINAL, side, "--format", "json", "--no-cache", cwd=tmp_path, timeout=60,
                 env={"PORTLINT_FILE_TIME_LIMIT": "1"})
    assert time.monotonic() - t0 < 20
    assert r.returncode == 1, r.stderr
    assert "time limit" in _errors(r)["many.py"]


def test_parse_guard_passes_real_code_untouched():
    """The pre-check sends no file of the fixture corpus or of portlint itself down the slow path."""
    from portlint.analysis import parseguard

    files = [*ROOT.glob("tests/fixtures/**/*.py"), *ROOT.glob("src/portlint/**/*.py"), *ROOT.glob("examples/**/*.py")]
    assert len(files) > 100
    for f in files:
        assert parseguard.cost(f.read_text(encoding="utf-8")) <= parseguard.BUDGET, f
    flat = "x = [" + ", ".join(["1"] * 50000) + "]\n"
    assert parseguard.cost(flat) > parseguard.BUDGET and parseguard.refusal(flat) is None  # long but flat


def test_cost_sees_chains_across_lines_and_inside_f_strings():
    from portlint.analysis import parseguard

    spread = "x = (1\n" + "+ 1\n" * 5000 + ")\n"
    assert parseguard.cost(spread) > parseguard.BUDGET
    hidden = "x = f'#{a" + ".b" * 3000 + "}'\n"
    assert parseguard.cost(hidden) > parseguard.BUDGET
    commented = "# " + "+1" * 5000 + "\nx = '" + "+1" * 5000 + "'\n"
    assert parseguard.cost(commented) <= parseguard.BUDGET


def test_concatenated_strings_are_not_called_a_syntax_error(tmp_path):
    bad = tmp_path / "strings.py"
    bad.write_text("x = " + " ".join(['"a"'] * 6000) + "\n")
    r = portlint("check", ORIGINAL, bad, "--no-cache", cwd=tmp_path, env={"PORTLINT_FRONT_END": "libcst"})
    assert r.returncode == 2 and "syntax error" not in r.stderr, r.stderr
    assert f"{bad}: not analysed: valid Python that libcst's parser cannot parse" in r.stderr
    # CPython's parser has no such limit: the default front end analyses the file
    r = portlint("check", ORIGINAL, bad, "--no-cache", cwd=tmp_path)
    assert r.returncode == 3 and "not analysed" not in r.stderr and "no image pipeline" in r.stderr, r.stderr


@pytest.mark.parametrize("where", ["main", "function", "method", "module"])
def test_step_limit_in_every_entry_path_is_a_note(tmp_path, monkeypatch, where):
    """The step limit escaped as a traceback from the fallback entry path (a 400 KB one-line
    list, a 50k-line file); it is a note, and the rest is analysed."""
    from portlint import checker
    from portlint.analysis import interp

    monkeypatch.setattr(interp, "MAX_STEPS", 2000)
    big = "[" + ", ".join(["1"] * 5000) + "]"
    body = {"main": f"if __name__ == '__main__':\n    x = {big}\n",
            "function": f"def f(image):\n    return {big}\n",
            "method": f"class A:\n    def __init__(self):\n        self.x = {big}\n    def g(self, image):\n        return 1\n",
            "module": "".join(f"x{i} = [{i}] * 2\n" for i in range(5000))}[where]
    side = _side(tmp_path, "big.py", body)
    report = checker.analyze_one(checker.Pair(str(ORIGINAL), str(side)), checker.CheckOptions(pairs=[]))
    assert any("big.py: analysis stopped at the step limit" in n for n in report.notes), report.notes
    assert any(f.code == "PL101" for f in report.findings)
    assert report.errors == []


@pytest.mark.parametrize("snippet", [
    "name = 'a_b.jpg'.replace('_', '-')\n",
    "table = np.array([1.0, 2.0, 3.0, 4.0])\nempty = table.reshape(0, -1)\n",  # numpy raises here too
    "img = cv2.imread('x.jpg')\nidx = [int(s) for s in sys.argv[1:4]]\nswapped = img[:, :, idx]\n",
])
def test_interpreter_survives_strict_mode_on(snippet, tmp_path):
    """Analyser errors the real corpus raised in strict mode (each lost a value in normal runs)."""
    from portlint.analysis.analyze import interpret
    from portlint.analysis.context import PairContext
    from portlint.analysis.source import load_side

    (tmp_path / "prog.py").write_text("import sys\nimport cv2\nimport numpy as np\n" + snippet)
    interpret(load_side(str(tmp_path / "prog.py")), PairContext(), strict=True)
