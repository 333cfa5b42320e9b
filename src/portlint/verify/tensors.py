"""`verify --save-tensors DIR`: every compared stage's two arrays, in the form they were
compared in, as `DIR/original.npz` and `DIR/ported.npz` (one array per stage, named by the
stage; model outputs as `output`). Why this layout: it is what tpu-mlir's
`npz_tool compare DIR/original.npz DIR/ported.npz` reads, so the manual's step 7 numbers can be
checked, or taken further, with Sophgo's own tool. float32, as tpu-mlir's tools use."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from portlint.errors import PortlintError


def stage_arrays(result) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{stage name: (original, ported)} for each stage whose two arrays were compared."""
    out = {}
    for s in result.stages:
        if s.pair is None:
            continue
        a, b = (np.asarray(x) for x in s.pair)
        out[s.name] = (a, b)
    return out


def save_tensors(result, folder: str) -> dict:
    """Write the two files; returns the JSON entry {"original", "ported", "stages"}."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
        arrays = stage_arrays(result)
        original = {name: np.ascontiguousarray(a, dtype=np.float32) for name, (a, _) in arrays.items()}
        ported = {name: np.ascontiguousarray(b, dtype=np.float32) for name, (_, b) in arrays.items()}
        np.savez(out / "original.npz", **original)
        np.savez(out / "ported.npz", **ported)
    except OSError as exc:
        raise PortlintError(f"--save-tensors {folder}: cannot write: {exc.strerror or exc}") from None
    return {"original": str(out / "original.npz"), "ported": str(out / "ported.npz"), "stages": list(arrays)}
