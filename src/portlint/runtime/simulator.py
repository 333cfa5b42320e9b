"""Run an FP32 bmodel on the CPU with tpu-mlir's bmodel runtime + chip simulator (cmodel).

The runtime is a cp310 extension living in the tpu-mlir venv, so each call is a subprocess
of that venv's python running `_simulator_runner.py`; arrays travel through .npz files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence

import numpy as np

from portlint.errors import PortlintError, SourceError
from portlint.runtime.venv import require_venv, venv_env, venv_python

RUNNER = Path(__file__).with_name("_simulator_runner.py")
_SUFFIX = re.compile(r"_[A-Za-z][A-Za-z0-9]*$")


def run_bmodel(bmodel_path: str | os.PathLike, inputs: Mapping[str, np.ndarray],
               save_io_tensors_dir: Optional[str | os.PathLike] = None, *, net: Optional[str] = None,
               venv: Optional[Path] = None, timeout: float = 600) -> Dict[str, np.ndarray]:
    """One forward pass; returns {runtime output name: array} in runtime order.

    With save_io_tensors_dir, the runtime runs there with BMRT_SAVE_IO_TENSORS=1 and writes
    input_ref_data.dat.bmrt / output_ref_data.dat.bmrt, as on a real device.
    """
    bmodel = Path(bmodel_path).absolute()
    if not bmodel.is_file():
        raise SourceError(str(bmodel_path), "no such bmodel file")
    v = require_venv(venv)
    with tempfile.TemporaryDirectory(prefix="portlint-sim-") as tmp:
        t = Path(tmp)
        np.savez(t / "in.npz", **{k: np.ascontiguousarray(a) for k, a in inputs.items()})
        extra = {}
        cwd = t
        if save_io_tensors_dir is not None:
            cwd = Path(save_io_tensors_dir).absolute()
            cwd.mkdir(parents=True, exist_ok=True)
            extra["BMRT_SAVE_IO_TENSORS"] = "1"
        env = venv_env(v, extra)
        if save_io_tensors_dir is None:
            env.pop("BMRT_SAVE_IO_TENSORS", None)
        cmd = [str(venv_python(v)), str(RUNNER), str(bmodel), net or "-",
               str(t / "in.npz"), str(t / "out.npz"), str(t / "status.json")]
        try:
            r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise PortlintError(f"{bmodel_path}: simulator run timed out after {timeout:.0f} s") from None
        status = t / "status.json"
        if not status.exists():
            lines = [l for l in (r.stderr + r.stdout).splitlines() if l.strip()]
            raise PortlintError(f"{bmodel_path}: simulator crashed (exit {r.returncode}): "
                                f"{lines[-1] if lines else 'no output'}")
        st = json.loads(status.read_text())
        if not st["ok"]:
            raise PortlintError(f"{bmodel_path}: simulator: {st['error']}")
        with np.load(t / "out.npz", allow_pickle=False) as z:
            return {name: z[name] for name in st["outputs"]}


def match_output_names(runtime_names: Iterable[str], model_names: Sequence[str]) -> Dict[str, str]:
    """Map runtime output names (`logits_Gemm`) to the model's (`logits`).

    tpu-mlir appends `_<OpType>` to each output name; its order is the ONNX declaration order.
    Exact names first, then the longest model name that the runtime name extends by one
    `_Suffix`, then, if the rest pair up one to one, by position.
    """
    rt = list(runtime_names)
    left = list(model_names)
    out: Dict[str, str] = {}
    for r in rt:
        if r in left:
            out[r] = r
            left.remove(r)
    for r in rt:
        if r in out:
            continue
        cands = [m for m in left if r.startswith(m + "_") and _SUFFIX.fullmatch(r[len(m):])]
        cands = cands or [m for m in left if r.startswith(m + "_")]
        if cands:
            m = max(cands, key=len)
            out[r] = m
            left.remove(m)
    rest = [r for r in rt if r not in out]
    if rest and len(rest) == len(left):
        out.update(zip(rest, left))
    return out
