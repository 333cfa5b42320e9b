"""A tiny seeded CNN classifier (3x224x224 -> 16 logits) and its TorchScript/ONNX exports.

Small enough to compile to an FP32 bmodel in seconds, big enough to have the usual
conv/relu/pool/gemm pipeline of a real classifier. Weights come from torch.manual_seed(0).
"""

from __future__ import annotations

import hashlib
import inspect
import warnings
from pathlib import Path

INPUT_NAME = "input"
OUTPUT_NAME = "logits"
INPUT_SHAPE = (1, 3, 224, 224)
NUM_CLASSES = 16
OPSET = 13


def build_model():
    """The classifier in eval mode, with weights fixed by seed 0."""
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


def sample_input(seed: int = 0):
    """A seeded float32 input of INPUT_SHAPE in roughly normalised-image range."""
    import numpy as np

    return np.random.default_rng(seed).standard_normal(INPUT_SHAPE).astype(np.float32)


def export_torchscript(path: str | Path) -> Path:
    import torch

    model = build_model()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.trace deprecation notices
        traced = torch.jit.trace(model, torch.zeros(INPUT_SHAPE))
    traced.save(str(path))
    return Path(path)


def export_onnx(path: str | Path) -> Path:
    """Static-shape ONNX (legacy TorchScript exporter: no onnxscript needed)."""
    import torch

    model = build_model()
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy-exporter deprecation notices
        torch.onnx.export(model, torch.zeros(INPUT_SHAPE), str(path), input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], opset_version=OPSET, **kwargs)
    return Path(path)


def code_hash() -> str:
    """Key for caching built artifacts: changes whenever this file changes."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
