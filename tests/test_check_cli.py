"""`portlint check` as a process, against the contract (docs/contract.md):
JSON fields, relative paths, exit codes, one-line errors without tracebacks, --bmodel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORIG = "examples/resnet/resnet_torch.py"
PORT = "examples/resnet/resnet_sail.py"


def portlint(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "portlint", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_json_follows_contract():
    r = portlint("check", ORIG, PORT, "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["version"] == 1
    assert set(doc) >= {"version", "findings", "errors", "summary"}
    assert doc["summary"] == {"files": 2, "findings": len(doc["findings"])}
    f = doc["findings"][0]
    assert set(f) >= {"code", "kind", "severity", "message", "ported", "original", "fix"}
    assert (f["code"], f["kind"], f["severity"]) == ("PL101", "resize-antialias", "error")
    assert f["ported"] == {"path": PORT, "line": 27, "column": 19}  # relative, as passed; 1-based
    assert f["original"] == {"path": ORIG, "line": 15, "column": 9}
    assert f["fix"]["applicability"] == "safe" and f["fix"]["description"]
    assert "cv2.resize" in f["message"] and "antialias" in f["message"]


def test_text_shows_both_lines_side_by_side():
    r = portlint("check", ORIG, PORT, "--no-color")
    assert r.returncode == 1
    assert "transforms.Resize((size, size))," in r.stdout
    assert "img = cv2.resize(img, (self.net_w, self.net_h))" in r.stdout
    assert "\x1b[" not in r.stdout  # no colour when not a terminal


def test_clean_pair_exits_zero():
    r = portlint("check", "tests/fixtures/PL102/aligned_cv2_area/original.py", "tests/fixtures/PL102/aligned_cv2_area/ported.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All checks passed" in r.stdout


def test_exit_zero_and_statistics():
    r = portlint("check", ORIG, PORT, "--exit-zero", "--statistics")
    assert r.returncode == 0
    assert "PL101" in r.stdout.splitlines()[-2]


@pytest.mark.parametrize("args, needle", [
    (["check", ORIG, "missing.py"], "missing.py: no such file or directory"),
    (["check", ORIG], "give both ORIGINAL and PORTED"),
    (["check", ORIG, PORT, "--format", "xml"], "xml"),
    (["check", ORIG, PORT, "--input-shape", "abc"], "--input-shape"),
    (["check", ORIG, PORT, "--bmodel", "nope.bmodel"], "nope.bmodel"),
    (["check", ORIG, PORT, "--bogus"], "--bogus"),
    (["rule", "PL999"], "PL999"),
])
def test_bad_arguments_one_line_exit_2(args, needle):
    r = portlint(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_unparsable_and_binary_files(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    pass\n")
    r = portlint("check", ORIG, str(bad))
    assert r.returncode == 2
    assert "bad.py: syntax error at line 1" in r.stderr and "Traceback" not in r.stderr
    binary = tmp_path / "bin.py"
    binary.write_bytes(b"\x00\x01\x02")
    r = portlint("check", ORIG, str(binary))
    assert r.returncode == 2 and "binary file" in r.stderr


def test_rules_and_rule_docs():
    r = portlint("rules")
    assert r.returncode == 0
    codes = [line.split()[0] for line in r.stdout.splitlines()]
    assert {"PL101", "PL107", "PL201", "PL205"} <= set(codes)
    doc = portlint("rule", "PL101").stdout
    for section in ("## What it does", "## Why it matters", "## Example original", "## Example ported", "## Fix"):
        assert section in doc


def test_bmodel_gives_the_input_shape(tiny_cnn_artifacts):
    """With a real compiled bmodel (1x3x224x224) the size comparison becomes numeric."""
    base = portlint("check", ORIG, PORT, "--format", "json")
    with_bmodel = portlint("check", ORIG, PORT, "--format", "json", "--bmodel", str(tiny_cnn_artifacts.bmodel))
    assert with_bmodel.returncode == 1, with_bmodel.stderr
    def mismatches(out):  # the EXIF orientation note (PL100, info) is there with or without a bmodel
        return [f["code"] for f in json.loads(out)["findings"] if f["severity"] != "info"]
    assert mismatches(with_bmodel.stdout) == mismatches(base.stdout) == ["PL101"]
    # a non-square model exposes the size mismatch only when the shape is known
    r = portlint("check", ORIG, PORT, "--format", "json", "--input-shape", "1,3,224,320")
    assert "PL103" in [f["code"] for f in json.loads(r.stdout)["findings"]]


def test_the_process_exit_skips_teardown_but_keeps_output_and_codes(tmp_path):
    """`python -m portlint` ends with os._exit after flushing (cli.run): the report, the notes
    on stderr and every exit code must come out exactly as `main` gives them."""
    import portlint.cli as cli

    src = Path(cli.__file__).read_text()
    assert "os._exit(code)" in src  # the fast exit is what this test is about
    r = portlint("check", ORIG, PORT, "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["findings"]
    r = portlint("check", ORIG, "missing.py")
    assert r.returncode == 2 and r.stderr.startswith("portlint: error:")
    r = portlint("--version")
    assert r.returncode == 0 and r.stdout.strip()
    # a reader that stops early: no traceback, no "Exception ignored" from the flush
    # (the SARIF of PL202's fixtures is ~280 kB, far more than a pipe holds: the write fails for sure)
    big = subprocess.run(f"{sys.executable} -m portlint check --all tests/fixtures/PL202 --format sarif --no-cache "
                         "2>err.txt | head -c 5; cat err.txt; rm err.txt", shell=True, cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert big.stdout.startswith("{\n  \"") and "Traceback" not in big.stdout and "Exception" not in big.stdout


def test_the_console_script_is_the_fast_exit_entry():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'portlint = "portlint.cli:run"' in text
