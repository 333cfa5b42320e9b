"""`portlint bmodel-info` run as users run it: output lines, and bad files -> one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import portlint_cli_env

synthetic = pytest.importorskip("models.synthetic_bmodel", reason="needs the flatbuffers package")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "portlint", *map(str, args)], capture_output=True,
                          text=True, env=portlint_cli_env(), timeout=120)


@pytest.fixture
def bmodel(tmp_path):
    return synthetic.write_bmodel(tmp_path / "m.bmodel", [synthetic.simple_net("resnet", scale=0.5)])


def test_text(bmodel):
    r = run_cli("bmodel-info", bmodel)
    assert r.returncode == 0, r.stderr
    assert "chip: BM1684X" in r.stdout and "net 0: [resnet]  static" in r.stdout
    assert "input: input, [1, 3, 224, 224], float32, scale: 0.5" in r.stdout
    assert "output: logits_Gemm, [1, 16], float32, scale: 1" in r.stdout


def test_json(bmodel):
    r = run_cli("bmodel-info", bmodel, "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["chip"] == "BM1684X"
    assert d["networks"][0]["inputs"][0] == {"name": "input", "shape": [1, 3, 224, 224], "dtype": "float32",
                                             "scale": 0.5, "zero_point": 0}


@pytest.mark.parametrize("damage", ["missing", "empty", "magic", "truncated", "random"])
def test_bad_file_is_one_line_exit_2(bmodel, damage):
    data = bmodel.read_bytes()
    if damage == "missing":
        bmodel.unlink()
    elif damage == "empty":
        bmodel.write_bytes(b"")
    elif damage == "magic":
        bmodel.write_bytes(b"\0\0\0\0" + data[4:])
    elif damage == "truncated":
        bmodel.write_bytes(data[: len(data) // 2])
    else:
        bmodel.write_bytes(data[:64] + bytes((i * 131 + 7) % 256 for i in range(len(data) - 64)))
    r = run_cli("bmodel-info", bmodel)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bmodel) in lines[0], r.stderr
    assert r.stdout == ""
