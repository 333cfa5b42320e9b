#!/usr/bin/env python3
"""Builds the models the example pair (examples/resnet) loads, so README's verify example runs on
a fresh clone:

    python examples/build_models.py          # after scripts/install.sh (torch + the tpu-mlir venv)

writes, beside the programs, the paths they load by default:

* `resnet_traced.pt`: a small seeded CNN classifier (3x224x224 -> 16 classes, weights from
  torch.manual_seed(0)) traced to TorchScript, what `resnet_torch.py` loads;
* `resnet.onnx`: the same network, the compiler's input;
* `resnet18_fp32_b1.bmodel`: the ONNX model compiled to an FP32 BM1684X bmodel with tpu-mlir's
  `model_transform` and `model_deploy` (the simulator venv's tools), what `resnet_sail.py` loads;
* `test.jpg`, the image both programs read, if it is missing: a 640x480 picture drawn here from
  a seed (gradients, rings, stripes and texture: the fine detail on which resizing filters differ).

The network is not a ResNet-18: it is small enough to compile in seconds and has a classifier's
conv/relu/pool/gemm layers, which is all the comparison needs. Takes about 15 s.
"""

from __future__ import annotations

import argparse
import inspect
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent / "resnet"
INPUT_SHAPE = (1, 3, 224, 224)
NUM_CLASSES = 16


def build_model():
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, NUM_CLASSES),
    )
    return model.eval()


def make_image(path: Path, seed: int = 15) -> Path:
    """A deterministic 640x480 test picture with detail at every scale."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = 480, 640
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127 + 100 * np.sin(x / 37.0) * np.cos(y / 53.0)
    g = 90 + 120 * (x / w) + 30 * np.sin(np.hypot(x - 420, y - 200) / 6.0)  # rings
    b = 60 + 150 * (y / h) + 40 * (((x + 2 * y) // 5) % 2)  # fine stripes
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 5, (h, w, 3))  # texture
    img[300:420, 60:260] = [230, 200, 40]  # a flat patch with sharp edges
    img[300:420, 60:260:3] = [20, 20, 20]
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=85)
    return path


def export(out: Path) -> tuple[Path, Path]:
    import torch

    model = build_model()
    example = torch.zeros(INPUT_SHAPE)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracing and legacy-exporter notices
        torch.jit.trace(model, example).save(str(out / "resnet_traced.pt"))
        kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
        torch.onnx.export(model, example, str(out / "resnet.onnx"), input_names=["input"], output_names=["logits"],
                          opset_version=13, **kwargs)
    return out / "resnet_traced.pt", out / "resnet.onnx"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build the example's TorchScript, ONNX and FP32 bmodel.")
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: examples/resnet)")
    ap.add_argument("--venv", type=Path, help="the tpu-mlir venv (default: portlint's, see `portlint runtime doctor`)")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("build_models.py: needs torch: pip install 'portlint[verify]' (or run scripts/install.sh)", file=sys.stderr)
        return 2
    from portlint.errors import PortlintError
    from portlint.runtime.compile import compile_onnx_to_bmodel

    if not (out / "test.jpg").exists():
        make_image(out / "test.jpg")
    pt, onnx = export(out)
    with tempfile.TemporaryDirectory(prefix="portlint-example-") as tmp:
        try:
            bmodel = compile_onnx_to_bmodel(onnx, tmp, INPUT_SHAPE, "resnet", venv=args.venv)
        except PortlintError as exc:
            print(f"build_models.py: {exc}", file=sys.stderr)
            return 2
        shutil.copy2(bmodel, out / "resnet18_fp32_b1.bmodel")
    for name in ("resnet_traced.pt", "resnet.onnx", "resnet18_fp32_b1.bmodel", "test.jpg"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
