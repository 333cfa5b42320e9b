#!/bin/sh
# Install the tpu-mlir Python 3.10 venv (compiler + bmodel runtime + simulator) for portlint.
# Same as `portlint runtime install`, without needing the CLI; idempotent (second run < 1 s).
# Usage: scripts/install_tpu_mlir.sh [VENV_DIR]   (default $PORTLINT_TPU_MLIR_VENV or ~/.cache/portlint/tpu-mlir-venv)
# Env: PYTHON (portlint's interpreter, default .venv/bin/python), PORTLINT_PYTHON310, TPU_MLIR_MINIMAL=1.
set -eu
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" exec "$PY" -c '
import os, sys
from portlint.errors import PortlintError
from portlint.runtime.install import install
try:
    install(venv=sys.argv[1] if len(sys.argv) > 1 else None, minimal=os.environ.get("TPU_MLIR_MINIMAL") == "1")
except PortlintError as exc:
    sys.exit(f"install_tpu_mlir: error: {exc}")
' "$@"
