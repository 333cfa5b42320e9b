"""`portlint check` never imports the heavy runtime libraries (torch, torchvision, cv2, PIL,
onnx/onnxruntime, tpu-mlir): a full check, cold and warm, serial and with workers, is run under
`python -X importtime` and every module it imported is listed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "resnet"
HEAVY = ("torch", "torchvision", "cv2", "PIL", "onnx", "onnxruntime", "tpu_mlir", "transform", "tools",
         "sophon", "tensorflow", "matplotlib")
_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|(\s*)(\S+)")


def _imported(args, cwd) -> tuple[set[str], int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "portlint", *args], cwd=cwd,
                       capture_output=True, text=True, env=env, timeout=300)
    mods = set()
    for line in r.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            mods.add(m.group(2).split(".")[0])
    return mods, r.returncode


@pytest.mark.parametrize("extra", [["--no-cache"], [], ["--no-cache", "--jobs", "2"]], ids=["cold", "cached", "workers"])
def test_check_imports_no_heavy_library(tmp_path, extra):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m_torch.py").write_text((EXAMPLE / "resnet_torch.py").read_text())
        (tmp_path / name / "m_sail.py").write_text((EXAMPLE / "resnet_sail.py").read_text())
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\ncache-dir = "c"\n')
    for _ in range(2 if not extra else 1):  # `cached`: the second run is served from the cache
        mods, code = _imported(["check", "--all", ".", *extra], tmp_path)
        assert code == 1
        assert "portlint" in mods
        heavy = sorted(m for m in mods if m in HEAVY)
        assert not heavy, f"portlint check imported {heavy}"


def test_worker_processes_import_nothing_heavy(tmp_path):
    """Workers are forked from the checking process; what they import shows in sys.modules."""
    code = (
        "import sys, json\n"
        "from portlint.parallel import run_pairs\n"
        "def probe(pair, options):\n"
        "    from portlint.checker import CheckOptions, Pair, analyze_one\n"
        f"    analyze_one(Pair({str(EXAMPLE / 'resnet_torch.py')!r}, {str(EXAMPLE / 'resnet_sail.py')!r}),"
        " CheckOptions(pairs=[], no_cache=True))\n"
        f"    return sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(json.dumps(run_pairs(probe, [1, 2], None, jobs=2)))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[[], []]"


def test_serial_and_warm_checks_do_not_import_multiprocessing(tmp_path):
    """The process pool's machinery (multiprocessing, pickle, socket: ~16 ms) is imported only
    when a pool starts: not by a --jobs 1 check, nor by a run the cache answers."""
    (tmp_path / "m_torch.py").write_text((EXAMPLE / "resnet_torch.py").read_text())
    (tmp_path / "m_sail.py").write_text((EXAMPLE / "resnet_sail.py").read_text())
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\ncache-dir = "c"\n')
    for args in (["--jobs", "1"], []):  # cold and serial, then warm with the default jobs
        mods, code = _imported(["check", "--all", ".", *args], tmp_path)
        assert code == 1 and "portlint" in mods
        assert "multiprocessing" not in mods, args


def test_the_sweep_imports_numpy_without_the_blas_thread_pool():
    """A size sweep is elementwise arithmetic: numpy is loaded with one OpenBLAS thread (its pool's
    threads spin when they start, ~0.1 s of CPU per check process), and the variable that asks for
    it is not left behind; a count the user set is theirs."""
    report = "; import os; print(len(os.listdir('/proc/self/task')), os.environ.get('OPENBLAS_NUM_THREADS'))"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT / "src")
    # the rule's first sweep, and the analysis module imported first (as the benchmark's harness does)
    for load in ("from portlint.rules.size_sweep import grid; grid()", "import portlint.analysis.sweep"):
        out = subprocess.run([sys.executable, "-c", load + report], env=dict(env), capture_output=True, text=True,
                             check=True).stdout.split()
        assert out == ["1", "None"], load
        out = subprocess.run([sys.executable, "-c", load + report], env=dict(env, OPENBLAS_NUM_THREADS="2"),
                             capture_output=True, text=True, check=True).stdout.split()
        assert out[1] == "2" and (int(out[0]) > 1 or (os.cpu_count() or 1) < 2), load
