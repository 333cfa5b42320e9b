"""Running a bmodel without a Sophon card: where the tpu-mlir venv lives and what is available.

tpu-mlir (compiler + bmodel runtime + chip simulator) is cp310-only, while portlint runs on
3.11+, so it lives in its own Python 3.10 venv and is always driven through subprocesses.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from pathlib import Path
from typing import Dict, List, Optional

from portlint.errors import PortlintError

TPU_MLIR_VERSION = "1.30.2"
VENV_ENV_VAR = "PORTLINT_TPU_MLIR_VENV"
MARKER = ".portlint-installed"


def default_venv() -> Path:
    """$PORTLINT_TPU_MLIR_VENV, else ~/.cache/portlint/tpu-mlir-venv."""
    env = os.environ.get(VENV_ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "portlint" / "tpu-mlir-venv"


def venv_python(venv: Optional[Path] = None) -> Path:
    return Path(venv or default_venv()) / "bin" / "python"


def tpu_mlir_dir(venv: Optional[Path] = None) -> Optional[Path]:
    """The installed tpu_mlir package folder inside the venv, if any."""
    hits = sorted(glob.glob(str(Path(venv or default_venv()) / "lib" / "python3*" / "site-packages" / "tpu_mlir")))
    return Path(hits[0]) if hits else None


def venv_ready(venv: Optional[Path] = None) -> bool:
    """Cheap check (no subprocess): venv python, tpu_mlir and the install marker are present."""
    v = Path(venv or default_venv())
    return venv_python(v).exists() and tpu_mlir_dir(v) is not None and (v / MARKER).exists()


def require_venv(venv: Optional[Path] = None) -> Path:
    v = Path(venv or default_venv())
    if not venv_ready(v):
        raise PortlintError(f"tpu-mlir venv not found at {v}: run `portlint runtime install`")
    return v


def venv_env(venv: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment of an activated venv: its tools are `#!/usr/bin/env python3` scripts."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env.update(extra or {})
    return env


def sail_available() -> bool:
    try:
        return importlib.util.find_spec("sophon.sail") is not None
    except (ImportError, ValueError):
        return False


def available_backends(venv: Optional[Path] = None) -> List[str]:
    """Backends that can run a bmodel here: "sail" (a real card) and/or "simulator" (tpu-mlir cmodel)."""
    out = []
    if sail_available():
        out.append("sail")
    d = tpu_mlir_dir(venv)
    if venv_ready(venv) and d is not None and glob.glob(str(d / "python" / "pyruntime_bm*.so")):
        out.append("simulator")
    return out


def run_bmodel(bmodel_path, inputs, backend: Optional[str] = None, **kwargs):
    """One forward on the first available backend (sail, else simulator), or the one named.

    Returns (outputs, label); label is "bmodel:sail" or "bmodel:simulator", as verify's JSON names it.
    """
    backends = available_backends(kwargs.get("venv"))
    chosen = backend or (backends[0] if backends else None)
    if chosen is None:
        raise PortlintError("no bmodel runtime here: install the Sophon SDK or run `portlint runtime install`")
    if chosen == "sail":
        from portlint.runtime.sail_engine import run_bmodel as run
        kwargs.pop("venv", None)
        kwargs.pop("save_io_tensors_dir", None)
    elif chosen == "simulator":
        from portlint.runtime.simulator import run_bmodel as run
    else:
        raise PortlintError(f"unknown bmodel backend {chosen!r} (known: sail, simulator)")
    return run(bmodel_path, inputs, **kwargs), f"bmodel:{chosen}"
