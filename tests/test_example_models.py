"""The README's verify example works on a fresh clone (issue 15.11): the shipped image, then
examples/build_models.py (seeded weights, TorchScript + ONNX, FP32 bmodel with the simulator's
tools), then the README's command, run in a copy of the example folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, portlint_cli_env, require_tpu_mlir

pytestmark = pytest.mark.slow
README_COMMANDS = ("python examples/build_models.py",
                   "cd examples/resnet && portlint verify resnet_torch.py resnet_sail.py --image test.jpg")


def test_the_example_image_ships():
    jpg = ROOT / "examples" / "resnet" / "test.jpg"
    assert jpg.is_file() and jpg.stat().st_size < 100_000
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in README_COMMANDS:
        assert command in readme, command


def test_build_models_then_the_readme_command(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    require_tpu_mlir()
    folder = tmp_path / "examples" / "resnet"
    shutil.copytree(ROOT / "examples" / "resnet", folder)
    env = portlint_cli_env()
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "build_models.py"), "--out", str(folder)],
                       capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    for name in ("resnet_traced.pt", "resnet.onnx", "resnet18_fp32_b1.bmodel", "test.jpg"):
        assert (folder / name).is_file(), name
    # the README's command, with --format json to read the result
    r = subprocess.run([sys.executable, "-m", "portlint", "verify", "resnet_torch.py", "resnet_sail.py",
                        "--image", "test.jpg", "--format", "json"], cwd=folder, capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 1, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    assert doc["model"] == {"original": "torchscript", "ported": "bmodel:simulator"}
    assert doc["first_divergence"] == "resize"
    stages = {s["name"]: s for s in doc["stages"]}
    assert stages["output"]["aligned"] and stages["resize"]["findings"] == ["PL101"]
    assert os.path.basename(doc["model_files"]["ported"]) == "resnet18_fp32_b1.bmodel"
