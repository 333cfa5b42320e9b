"""`portlint runtime install`: a Python 3.10 venv with tpu-mlir, cured of its two install defects.

Defect 1: the wheel bundles Ubuntu's glibc (libc/libm/libpthread) in lib/third_party and puts
that folder on LD_LIBRARY_PATH of every tool it launches, so children die with
`GLIBC_2.xx not found` on newer systems: the three files are moved out.
Defect 2: transform/OnnxOpt.py imports torch unconditionally though only custom ops use it:
the import is made optional, which saves installing torch (~2 GB) in the venv.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional

from portlint.errors import PortlintError
from portlint.runtime.venv import MARKER, TPU_MLIR_VERSION, default_venv, tpu_mlir_dir, venv_env, venv_python

GLIBC_LIBS = ("libc.so.6", "libm.so.6", "libpthread.so.0")
TORCH_PATCH_TAG = "# portlint: torch made optional"
FULL_REQS = [f"tpu-mlir[onnx]=={TPU_MLIR_VERSION}", "psutil"]
# Smaller set measured to work (1.6 GB instead of 2.0 GB): the wheel with --no-deps plus these.
MINIMAL_REQS = ["numpy==1.24.3", "onnx==1.14.1", "onnxruntime==1.16.3", "onnxruntime_extensions==0.14.0",
                "onnxsim==0.4.17", "protobuf==3.20.3", "psutil", "tqdm==4.65.0", "plotly==5.15.0",
                "Pillow==10.0.0", "opencv-python-headless==4.8.0.74", "transformers==5.6.2"]
CHECK_SCRIPT = (
    "import os, sys, tpu_mlir; sys.path.insert(0, os.path.join(os.path.dirname(tpu_mlir.__file__), 'python')); "
    "import pyruntime_bm; print(sys.version.split()[0])"
)


def find_python310(explicit: Optional[str] = None) -> str:
    """A working Python 3.10: --python, $PORTLINT_PYTHON310, pyenv's 3.10, or python3.10 on PATH.

    Each candidate is run once: a pyenv shim on PATH exists but may not work.
    """
    if explicit:
        if not _is_py310(explicit):
            raise PortlintError(f"{explicit}: not a working Python 3.10 interpreter")
        return explicit
    cands = [os.environ.get("PORTLINT_PYTHON310")]
    for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"), "/root/.pyenv"):
        if root:
            cands += sorted(glob.glob(f"{root}/versions/3.10*/bin/python3.10"), reverse=True)
    cands += [shutil.which("python3.10"), "/usr/bin/python3.10", "/usr/local/bin/python3.10"]
    for c in cands:
        if c and Path(c).exists() and _is_py310(c):
            return c
    raise PortlintError("tpu-mlir needs Python 3.10 and none was found: pass --python or set PORTLINT_PYTHON310")


def _is_py310(python: str) -> bool:
    try:
        r = subprocess.run([python, "-c", "import sys, venv; print(sys.version_info[:2] == (3, 10))"],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.stdout.strip() == "True"


def apply_cures(venv: Path) -> List[str]:
    """Apply both cures in place; returns what was changed (empty when already cured)."""
    pkg = tpu_mlir_dir(venv)
    if pkg is None:
        raise PortlintError(f"{venv}: tpu_mlir is not installed in this venv")
    done = []
    moved = venv / "portlint-moved-glibc"
    for name in GLIBC_LIBS:
        src = pkg / "lib" / "third_party" / name
        if src.exists() or src.is_symlink():
            moved.mkdir(exist_ok=True)
            os.replace(src, moved / name)
            done.append(f"moved {name} out of tpu_mlir/lib/third_party")
    opt = pkg / "python" / "transform" / "OnnxOpt.py"
    if opt.exists():
        text = opt.read_text()
        if TORCH_PATCH_TAG not in text and "\nimport torch\n" in text:
            repl = f"\ntry:  {TORCH_PATCH_TAG}\n    import torch\nexcept ImportError:\n    torch = None\n"
            opt.write_text(text.replace("\nimport torch\n", repl, 1))
            done.append("made OnnxOpt.py's torch import optional")
    return done


def cured(venv: Path) -> bool:
    pkg = tpu_mlir_dir(venv)
    if pkg is None:
        return False
    opt = pkg / "python" / "transform" / "OnnxOpt.py"
    glibc_gone = not any((pkg / "lib" / "third_party" / n).exists() for n in GLIBC_LIBS)
    return glibc_gone and (not opt.exists() or TORCH_PATCH_TAG in opt.read_text())


def check_venv(venv: Path) -> str:
    """Import pyruntime_bm with the venv's python; returns its Python version or raises."""
    r = subprocess.run([str(venv_python(venv)), "-c", CHECK_SCRIPT], env=venv_env(venv),
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise PortlintError(f"tpu-mlir venv {venv} does not work: {last}")
    return r.stdout.strip()


def install(venv: Optional[Path] = None, python: Optional[str] = None, minimal: bool = False,
            force: bool = False, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> Path:
    """Create/complete the venv; idempotent: an installed, cured venv returns in well under a second."""
    venv = Path(venv or default_venv()).expanduser().absolute()
    marker = venv / MARKER
    spec = f"tpu-mlir=={TPU_MLIR_VERSION}"
    if not force and marker.exists() and marker.read_text().strip() == spec and cured(venv):
        log(f"tpu-mlir {TPU_MLIR_VERSION} already installed in {venv}")
        return venv
    t0 = time.monotonic()
    if not venv_python(venv).exists():
        py = find_python310(python)
        log(f"creating venv {venv} with {py}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([py, "-m", "venv", str(venv)], "creating the venv")
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check"]
    if minimal:
        log(f"installing {spec} (--no-deps) and a minimal dependency set")
        _run(pip + ["--no-deps", spec], "pip install tpu-mlir", env=venv_env(venv))
        _run(pip + MINIMAL_REQS, "pip install dependencies", env=venv_env(venv))
    else:
        log(f"installing {' '.join(FULL_REQS)} (about 1-2 min, 2 GB)")
        _run(pip + FULL_REQS, "pip install tpu-mlir", env=venv_env(venv))
    marker.unlink(missing_ok=True)
    for change in apply_cures(venv):
        log(change)
    version = check_venv(venv)
    marker.write_text(spec + "\n")
    log(f"tpu-mlir {TPU_MLIR_VERSION} ready in {venv} (Python {version}, {time.monotonic() - t0:.0f} s)")
    return venv


def _run(cmd: List[str], what: str, env=None) -> None:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        lines = [l for l in (r.stderr + r.stdout).strip().splitlines() if l.strip()]
        raise PortlintError(f"{what} failed (exit {r.returncode}): {lines[-1] if lines else 'no output'}")
