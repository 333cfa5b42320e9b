"""Running a bmodel without a Sophon card: which backends are available and one forward on them.

Where the tpu-mlir venv lives is runtime/venv.py's (re-exported here); the backends import it
from there, so this package and its backends do not import each other.
"""

from __future__ import annotations

import glob
import importlib.util
from pathlib import Path
from typing import List, Optional

from portlint.errors import PortlintError
from portlint.runtime.venv import (  # noqa: F401  (re-exported: callers ask the package where the venv is)
    MARKER, TPU_MLIR_VERSION, VENV_ENV_VAR, default_venv, require_venv, tpu_mlir_dir, venv_env, venv_python,
    venv_ready,
)


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
