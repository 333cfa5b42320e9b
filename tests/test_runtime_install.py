"""`portlint runtime install|doctor`: cures applied once, idempotent, and doctor one line per item."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from conftest import portlint_cli_env, require_tpu_mlir
from portlint.runtime import available_backends
from portlint.runtime.install import GLIBC_LIBS, TORCH_PATCH_TAG, apply_cures, cured

ONNXOPT = "import copy\nimport numpy as np\nimport torch\nfrom onnx import helper\n"


def fake_venv(root):
    pkg = root / "lib" / "python3.10" / "site-packages" / "tpu_mlir"
    (pkg / "lib" / "third_party").mkdir(parents=True)
    (pkg / "python" / "transform").mkdir(parents=True)
    for name in GLIBC_LIBS + ("libz.so.1",):
        (pkg / "lib" / "third_party" / name).write_bytes(b"ELF")
    (pkg / "python" / "transform" / "OnnxOpt.py").write_text(ONNXOPT)
    return pkg


def test_cures_apply_once(tmp_path):
    pytest.importorskip("onnx")  # the patched OnnxOpt.py is run, and it imports onnx
    pkg = fake_venv(tmp_path)
    assert not cured(tmp_path)
    changes = apply_cures(tmp_path)
    assert len(changes) == 4
    assert sorted(p.name for p in (pkg / "lib" / "third_party").iterdir()) == ["libz.so.1"]
    text = (pkg / "python" / "transform" / "OnnxOpt.py").read_text()
    assert TORCH_PATCH_TAG in text
    ns = {}
    exec(compile(text.replace("import torch", "import torch_not_installed_xyz"), "OnnxOpt.py", "exec"), ns)
    assert ns["torch"] is None  # works where torch is missing
    assert cured(tmp_path) and apply_cures(tmp_path) == []


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "portlint", *map(str, args)], capture_output=True,
                          text=True, env=portlint_cli_env(), timeout=600)


def test_doctor_without_venv(tmp_path):
    r = run_cli("runtime", "doctor", "--venv", tmp_path / "none")
    # issue 15.12: no backend is a problem, not a success
    assert r.returncode == (0 if available_backends(tmp_path / "none") else 1), r.stderr
    assert "sophon.sail:" in r.stdout
    assert "tpu-mlir venv: missing" in r.stdout and "portlint runtime install" in r.stdout
    assert available_backends(tmp_path / "none") in ([], ["sail"])


@pytest.mark.slow
def test_doctor_and_reinstall_with_venv():
    venv = require_tpu_mlir()
    r = run_cli("runtime", "doctor")
    assert r.returncode == 0, r.stderr
    assert "pyruntime_bm: importable" in r.stdout and "backends:" in r.stdout and "simulator" in r.stdout
    assert "install cures (glibc moved, torch optional): applied" in r.stdout
    t0 = time.monotonic()
    r = run_cli("runtime", "install", "--venv", venv)
    assert r.returncode == 0, r.stderr
    assert "already installed" in r.stderr and time.monotonic() - t0 < 20


def test_bad_python_is_one_line_error(tmp_path):
    from portlint.errors import PortlintError
    from portlint.runtime.install import find_python310

    with pytest.raises(PortlintError, match="not a working Python 3.10"):
        find_python310(str(tmp_path / "python3.10"))
    if sys.version_info[:2] != (3, 10):  # CI also runs the base tests on 3.10 itself
        with pytest.raises(PortlintError, match="not a working Python 3.10"):
            find_python310(sys.executable)  # portlint's own 3.11+
