"""With only the base package installed (no torch, torchvision, cv2, PIL), `verify` and
`fix --verify` exit 2 with one line naming `pip install 'portlint[verify]'` (issue 15.2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, portlint_cli_env

EXAMPLE = ROOT / "examples" / "resnet"
BLOCK = ("torch", "torchvision", "cv2", "PIL", "onnx", "onnxruntime")


def _run_without_extra(args, cwd):
    """portlint as a process in which the verify libraries cannot be imported."""
    code = (f"import sys\nfor m in {BLOCK!r}: sys.modules[m] = None\n"
            "from portlint.cli import main\n"
            f"main({[str(a) for a in args]!r})\n")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=portlint_cli_env(), timeout=300)


@pytest.mark.parametrize("args", [
    ["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--image", "cat.jpg"],
    ["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--images", "."],
    ["fix", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--verify", "--image", "cat.jpg"],
], ids=["verify", "verify-images", "fix-verify"])
def test_one_line_with_the_install_command(tmp_path, args):
    (tmp_path / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    r = _run_without_extra(args, tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "pip install 'portlint[verify]'" in r.stderr and "torch" in r.stderr


def test_a_later_missing_import_is_the_same_line():
    from portlint.verify.extra import as_missing_extra

    err = as_missing_extra(ModuleNotFoundError("No module named 'onnxruntime'", name="onnxruntime"))
    assert err is not None and "pip install 'portlint[verify]'" in str(err)
    assert as_missing_extra(ModuleNotFoundError("x", name="somethingelse")) is None
