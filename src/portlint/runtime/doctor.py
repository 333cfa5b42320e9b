"""`portlint runtime doctor`: what can run or build a bmodel on this machine, one line each."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from portlint.errors import PortlintError
from portlint.runtime import available_backends, sail_available
from portlint.runtime.venv import default_venv, tpu_mlir_dir, venv_python
from portlint.runtime.install import check_venv, cured


def doctor_lines(venv: Optional[Path] = None) -> List[str]:
    """One line per thing that can (or cannot) run or build a bmodel here."""
    v = Path(venv or default_venv())
    lines = [f"sophon.sail: {'importable' if sail_available() else 'not importable (no Sophon SDK)'}"]
    if not venv_python(v).exists() or tpu_mlir_dir(v) is None:
        lines.append(f"tpu-mlir venv: missing at {v} (run `portlint runtime install`)")
    else:
        try:
            lines.append(f"tpu-mlir venv: {v} works (Python {check_venv(v)})")
            lines.append("pyruntime_bm: importable in the venv")
        except PortlintError as exc:
            lines.append(f"tpu-mlir venv: {v} present but broken")
            lines.append(f"pyruntime_bm: not importable: {exc}")
        for tool in ("model_transform", "model_deploy", "model_tool"):
            path = v / "bin" / tool
            lines.append(f"{tool}: {path if path.exists() else 'missing'}")
        lines.append(f"install cures (glibc moved, torch optional): {'applied' if cured(v) else 'NOT applied: run `portlint runtime install`'}")
    backends = available_backends(v)
    lines.append(f"backends: {', '.join(backends) if backends else 'none (bmodels cannot run here)'}")
    return lines
