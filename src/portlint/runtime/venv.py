"""Where the tpu-mlir venv lives, whether it is installed, and the environment to run its tools in.

tpu-mlir (compiler + bmodel runtime + chip simulator) is cp310-only, while portlint runs on
3.11+, so it lives in its own Python 3.10 venv and is always driven through subprocesses.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Dict, Optional

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
