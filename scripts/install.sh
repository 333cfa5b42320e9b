#!/usr/bin/env bash
# Installs portlint for development on a fresh machine: a Python 3.11 venv in .venv with
# portlint (editable) and everything `verify` and the tests need, then the tpu-mlir venv
# (bmodel compiler, runtime and CPU simulator) under ~/.cache/portlint. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON311:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first, pinned, so that no other package pulls a different (CUDA) build
.venv/bin/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
.venv/bin/python -m pip install -q -e ".[verify,test]" "torch==2.14.1" "torchvision==0.29.1"
# An editable install compiles nothing, and where PYTHONDONTWRITEBYTECODE is set (this kind of
# machine sets it) every `portlint check` would compile portlint's ~90 modules again: about 0.2 s
# of each process's 0.5 s of imports (measured, README "Performance"). A wheel install compiles
# them (pip's default, `--no-compile` turns it off: this venv's libcst and typer have their .pyc
# files although this machine sets the variable); here they are compiled once, and Python reads
# the bytecode either way.
.venv/bin/python -m compileall -q src/portlint
PYTHON=.venv/bin/python scripts/install_tpu_mlir.sh
echo "portlint installed: .venv/bin/portlint"
