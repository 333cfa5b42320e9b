"""Shared pytest setup. Each section belongs to one area of the code; add yours as a new section."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
TESTS = ROOT / "tests"
for _p in (str(SRC), str(TESTS)):
    if _p not in sys.path:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, _p)


# ===================================================================================
# bmodel / runtime fixtures (tests/test_bmodel*.py, tests/test_runtime*.py)
# ===================================================================================

def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_tpu_mlir() -> Path:
    """The tpu-mlir venv. Its absence fails the test: scripts/install.sh (the README's set-up)
    and CI install it, and these tests must run, not skip."""
    from portlint.runtime import default_venv, venv_ready

    venv = default_venv()
    if not venv_ready(venv):
        pytest.fail(f"tpu-mlir venv not found at {venv}: run scripts/install.sh (or `portlint runtime install`)",
                    pytrace=False)
    return venv


def portlint_cli_env() -> dict:
    """Environment for `python -m portlint` subprocesses run from a plain checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


class TinyCnnArtifacts:
    """Paths of the tiny CNN's exports; .bmodel is None in `tiny_cnn_exports`."""

    def __init__(self, root: Path, with_bmodel: bool):
        from models import tiny_cnn

        self.root = root
        self.pt = root / "tiny_cnn.pt"
        self.onnx = root / "tiny_cnn.onnx"
        self.bmodel = root / "bmodel" / "tiny_cnn_f32.bmodel" if with_bmodel else None
        self.input_name = tiny_cnn.INPUT_NAME
        self.output_name = tiny_cnn.OUTPUT_NAME
        self.input_shape = tiny_cnn.INPUT_SHAPE
        self.num_classes = tiny_cnn.NUM_CLASSES


def _cache_root(tmp_path_factory) -> Path:
    """$PORTLINT_TEST_CACHE or ~/.cache/portlint/test-artifacts, keyed by the model code hash."""
    from models import tiny_cnn
    from portlint.runtime import TPU_MLIR_VERSION

    base = os.environ.get("PORTLINT_TEST_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "portlint" / "test-artifacts"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        root = tmp_path_factory.mktemp("artifacts")
    return root / f"tiny_cnn-{tiny_cnn.code_hash()}-tpumlir{TPU_MLIR_VERSION}"


def _build_once(final: Path, build) -> None:
    """Build into a scratch dir then rename, so parallel or interrupted runs never see half a build."""
    if final.exists():
        return
    scratch = Path(tempfile.mkdtemp(prefix=final.name + ".", dir=final.parent))
    try:
        build(scratch)
        try:
            os.replace(scratch, final)
        except OSError:  # another run finished first
            pass
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_cnn_exports(tmp_path_factory) -> TinyCnnArtifacts:
    """tiny_cnn.pt (TorchScript) and tiny_cnn.onnx; needs torch, not tpu-mlir."""
    from models import tiny_cnn

    root = _cache_root(tmp_path_factory)
    exports = root.with_name(root.name + "-exports")
    if not exports.exists():
        pytest.importorskip("torch")
        pytest.importorskip("onnx")

    def build(d: Path) -> None:
        tiny_cnn.export_torchscript(d / "tiny_cnn.pt")
        tiny_cnn.export_onnx(d / "tiny_cnn.onnx")

    _build_once(exports, build)
    return TinyCnnArtifacts(exports, with_bmodel=False)


@pytest.fixture(scope="session")
def tiny_cnn_artifacts(tiny_cnn_exports, tmp_path_factory) -> TinyCnnArtifacts:
    """.pt, .onnx and the FP32 bm1684x .bmodel (compiled by tpu-mlir, cached by code hash)."""
    require_tpu_mlir()
    from portlint.runtime.compile import compile_onnx_to_bmodel

    root = _cache_root(tmp_path_factory)

    def build(d: Path) -> None:
        shutil.copy2(tiny_cnn_exports.pt, d / "tiny_cnn.pt")
        shutil.copy2(tiny_cnn_exports.onnx, d / "tiny_cnn.onnx")
        compile_onnx_to_bmodel(d / "tiny_cnn.onnx", d / "bmodel", tiny_cnn_exports.input_shape, "tiny_cnn")

    _build_once(root, build)
    art = TinyCnnArtifacts(root, with_bmodel=True)
    assert art.bmodel.is_file(), f"compiled bmodel missing in {root}"
    return art
