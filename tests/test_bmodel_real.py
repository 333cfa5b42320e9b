"""The reader on a bmodel really compiled by tpu-mlir, cross-checked with `model_tool --info`."""

from __future__ import annotations

import re
import struct
import subprocess

import numpy as np
import pytest

from portlint.bmodel import read_bmodel
from portlint.errors import SourceError

pytestmark = pytest.mark.slow


def test_reader_on_compiled_bmodel(tiny_cnn_artifacts):
    info = read_bmodel(tiny_cnn_artifacts.bmodel)
    assert info.chip == "BM1684X"
    [net] = info.networks
    assert net.name == "tiny_cnn" and not net.dynamic
    [inp] = net.inputs
    assert (inp.name, inp.shape, inp.dtype, inp.scale) == ("input", (1, 3, 224, 224), "float32", 1.0)
    [out] = net.outputs
    assert (out.name, out.shape, out.dtype) == ("logits_Gemm", (1, 16), "float32")


def test_matches_model_tool_info(tiny_cnn_artifacts):
    from portlint.runtime import default_venv, venv_env

    venv = default_venv()
    r = subprocess.run(["model_tool", "--info", str(tiny_cnn_artifacts.bmodel)], env=venv_env(venv),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    line = re.compile(r"^(input|output): (.+?), \[([\d, ]*)\], (\w+), scale: ([\d.e+-]+)", re.M)
    tool = [(m[0], m[1], tuple(int(d) for d in m[2].split(",") if d.strip()), m[3], float(m[4]))
            for m in line.findall(r.stdout)]
    info = read_bmodel(tiny_cnn_artifacts.bmodel)
    ours = [(role, t.name, t.shape, t.dtype, t.scale) for n in info.networks
            for role, ts in (("input", n.inputs), ("output", n.outputs)) for t in ts]
    assert tool and ours == tool
    assert f"chip: {info.chip}" in r.stdout
    assert f"[{info.networks[0].name}]" in r.stdout
    assert f"bmodel version: {info.version}" in r.stdout


def test_byte_flips_in_real_flatbuffer(tiny_cnn_artifacts, tmp_path):
    good = tiny_cnn_artifacts.bmodel.read_bytes()
    fb_end = 64 + struct.unpack_from("<I", good, 8)[0]
    rng = np.random.default_rng(2)
    p = tmp_path / "flipped.bmodel"
    for _ in range(300):
        data = bytearray(good)
        data[int(rng.integers(64, fb_end))] ^= 1 << int(rng.integers(0, 8))
        p.write_bytes(bytes(data))
        try:
            read_bmodel(p)
        except SourceError:
            pass
