"""Compile an ONNX model to an FP32 bm1684x bmodel with the tpu-mlir venv's tools.

FP32 on purpose: precision alignment compares against an FP32 bmodel first, so that any
difference left is the program's (pre/post-processing), not quantisation's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import List, Optional, Sequence

from portlint.errors import PortlintError, SourceError
from portlint.runtime.venv import require_venv, venv_env


def compile_onnx_to_bmodel(onnx_path: str | os.PathLike, out_dir: str | os.PathLike,
                           input_shape: Sequence[int] | Sequence[Sequence[int]], name: str, *,
                           chip: str = "bm1684x", kernel_remove: bool = True,
                           venv: Optional[Path] = None, timeout: float = 1800) -> Path:
    """model_transform + model_deploy --quantize F32; returns out_dir/<name>_f32.bmodel.

    kernel_remove drops the 5.6 MB kernel module (the simulator runs the bmodel the same way).
    Intermediate files and compile.log stay in out_dir.
    """
    onnx = Path(onnx_path).absolute()
    if not onnx.is_file():
        raise SourceError(str(onnx_path), "no such ONNX file")
    v = require_venv(venv)
    out = Path(out_dir).absolute()
    out.mkdir(parents=True, exist_ok=True)
    shapes = [list(input_shape)] if input_shape and isinstance(input_shape[0], int) else [list(s) for s in input_shape]
    shapes_arg = "[" + ",".join("[" + ",".join(str(int(d)) for d in s) + "]" for s in shapes) + "]"
    bmodel = out / f"{name}_f32.bmodel"
    log = out / "compile.log"
    log.write_text("")
    steps: List[List[str]] = [
        ["model_transform", "--model_name", name, "--model_def", str(onnx),
         "--input_shapes", shapes_arg, "--mlir", f"{name}.mlir"],
        ["model_deploy", "--mlir", f"{name}.mlir", "--quantize", "F32", "--chip", chip,
         "--model", bmodel.name],
    ]
    if kernel_remove:
        steps.append(["model_tool", "--kernel_remove", bmodel.name])
    env = venv_env(v)
    for cmd in steps:
        try:
            r = subprocess.run(cmd, cwd=out, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PortlintError(f"{cmd[0]} timed out after {timeout:.0f} s (log: {log})") from None
        with log.open("a") as f:
            f.write(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}\n")
        if r.returncode != 0:
            lines = [l for l in (r.stderr + r.stdout).splitlines() if l.strip()]
            last = lines[-1].strip() if lines else "no output"
            raise PortlintError(f"{cmd[0]} failed (exit {r.returncode}) on {onnx_path}: {last} (log: {log})")
    if not bmodel.is_file():
        raise PortlintError(f"model_deploy wrote no {bmodel} (log: {log})")
    return bmodel
