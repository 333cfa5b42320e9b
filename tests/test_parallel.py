"""`--jobs N` and `--all DIR`: parallel results equal serial ones, in a fixed order; pairs are
discovered by the naming convention."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from fixture_support import FIXTURES, cases, run_cli

from portlint.discover import discover_pairs
from portlint.parallel import default_jobs, run_pairs

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "resnet"


def test_jobs_do_not_change_the_report(capsys):
    base = ["check", "--all", str(FIXTURES), "--format", "json", "--no-cache"]
    serial = run_cli([*base, "--jobs", "1"], capsys)
    parallel = run_cli([*base, "--jobs", "3"], capsys)
    default = run_cli(base, capsys)
    assert serial[0] in (0, 1), serial[2]
    assert serial == parallel == default
    doc = json.loads(serial[1])
    assert doc["summary"]["files"] >= 2 * len(cases())


def test_text_output_order_is_stable_across_jobs(capsys):
    base = ["check", "--all", str(FIXTURES), "--no-cache", "--no-color"]
    assert run_cli([*base, "-j", "1"], capsys) == run_cli([*base, "-j", "2"], capsys)


def _slow_square(n, options):
    time.sleep(0.01 * (n % 4))  # later pairs often finish first
    return n * n + options


def test_run_pairs_keeps_pair_order():
    assert run_pairs(_slow_square, list(range(12)), 1000, jobs=4) == [n * n + 1000 for n in range(12)]
    assert run_pairs(_slow_square, list(range(5)), 0, jobs=1) == [n * n for n in range(5)]
    assert run_pairs(_slow_square, [], 0, jobs=4) == []
    assert default_jobs() >= 1


def test_largest_pairs_are_analysed_first_and_reported_in_order(tmp_path, monkeypatch):
    """With a pool, the pairs with the most source go first (the short ones last, when a worker
    may wait for the other); the reports still come back in the pairs' order. Serially, the
    pairs' own order."""
    from portlint import parallel
    from portlint.checker import Pair
    from portlint.report import CheckReport

    sizes = [1, 40, 5, 300, 20]
    pairs = []
    for i, n in enumerate(sizes):
        (tmp_path / f"o{i}.py").write_text("x = 1\n" * n)
        (tmp_path / f"p{i}.py").write_text("y = 2\n")
        pairs.append(Pair(original=str(tmp_path / f"o{i}.py"), ported=str(tmp_path / f"p{i}.py")))
    seen: list = []

    def fake_run_pairs(func, todo, options, jobs, prepare=None):
        seen.append([pairs.index(p) for p in todo])
        return [CheckReport(notes=[f"pair {pairs.index(p)}"]) for p in todo]

    monkeypatch.setattr(parallel, "run_pairs", fake_run_pairs)

    class Options:
        no_cache, cache_dir = False, tmp_path / "cache"

    got = parallel.analyze_pairs(pairs, Options(), 2, lambda p, o: None)
    assert seen[-1] == [3, 1, 4, 2, 0] and [r.notes for r in got] == [[f"pair {i}"] for i in range(5)]
    shutil.rmtree(tmp_path / "cache")
    assert [r.notes for r in parallel.analyze_pairs(pairs, Options(), 1, lambda p, o: None)] == [r.notes for r in got]
    assert seen[-1] == [0, 1, 2, 3, 4]


_PREPARED: list = []


def _prepare():
    _PREPARED.append(os.getpid())


def _pid(n, options):
    return os.getpid()


def test_prepare_runs_once_in_the_parent_before_a_pool_only():
    """What `prepare` imports, the forked workers share: it runs in the checking process, once,
    and only when a pool is started (a serial run imports lazily, as before)."""
    _PREPARED.clear()
    pids = run_pairs(_pid, list(range(4)), None, jobs=2, prepare=_prepare)
    assert _PREPARED == [os.getpid()] and os.getpid() not in pids
    _PREPARED.clear()
    assert run_pairs(_pid, list(range(3)), None, jobs=1, prepare=_prepare) == [os.getpid()] * 3
    assert _PREPARED == []


def test_forked_workers_inherit_the_engine(tmp_path):
    """A parallel cold check imports the analyser before forking: the workers find libcst and the
    rules already in sys.modules (each importing them again cost ~0.3 s of CPU per worker)."""
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from portlint.checker import import_engine\n"
        "from portlint.parallel import run_pairs\n"
        "def probe(pair, options):\n"
        "    return [m in sys.modules for m in ('libcst', 'portlint.rules.registry', 'portlint.analysis.interp')]\n"
        "print(json.dumps(run_pairs(probe, [1, 2], None, jobs=2, prepare=import_engine)))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [[True] * 3, [True] * 3]


def test_bad_jobs_is_one_line_exit_2(capsys):
    code, out, err = run_cli(["check", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"), "--jobs", "0"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--jobs" in err


# ----------------------------------------------------------------------------- discovery

def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x = 1\n")


def test_naming_convention(tmp_path):
    _touch(tmp_path,
           "yolo/yolov5_torch.py", "yolo/yolov5_opencv.py", "yolo/yolov5_bmcv.py", "yolo/utils.py",
           "resnet/resnet_pytorch.py", "resnet/resnet_sail.py",
           "case1/original.py", "case1/ported.py",
           "case2/original/a.py", "case2/original/b.py", "case2/ported.py",
           "case3/original/", "case3/ported/main.py",
           "lonely/lonely_torch.py", "lonely/other_sail.py",
           "nested/deeper/x_torch.py", "nested/deeper/x_cv2.py",
           ".hidden/h_torch.py", ".hidden/h_sail.py",
           "venv/v_torch.py", "venv/v_sail.py",
           "case2/original/inner_torch.py", "case2/original/inner_sail.py")  # inside a side: not a pair
    found = [(os.path.relpath(f.original, tmp_path), os.path.relpath(f.ported, tmp_path))
             for f in discover_pairs(str(tmp_path))]
    assert found == [
        ("case1/original.py", "case1/ported.py"),
        ("case2/original", "case2/ported.py"),
        ("case3/original", "case3/ported"),
        ("nested/deeper/x_torch.py", "nested/deeper/x_cv2.py"),
        ("resnet/resnet_pytorch.py", "resnet/resnet_sail.py"),
        ("yolo/yolov5_torch.py", "yolo/yolov5_bmcv.py"),
        ("yolo/yolov5_torch.py", "yolo/yolov5_opencv.py"),
    ]


def test_paths_keep_the_folder_as_given(tmp_path, monkeypatch):
    _touch(tmp_path, "a/m_torch.py", "a/m_sail.py")
    monkeypatch.chdir(tmp_path)
    assert [(f.original, f.ported) for f in discover_pairs(".")] == [("a/m_torch.py", "a/m_sail.py")]
    assert [(f.original, f.ported) for f in discover_pairs("a")] == [("a/m_torch.py", "a/m_sail.py")]
    assert [(f.original, f.ported) for f in discover_pairs(str(tmp_path))] == \
        [(str(tmp_path / "a" / "m_torch.py"), str(tmp_path / "a" / "m_sail.py"))]


def test_symlink_loops_are_searched_once(tmp_path):
    _touch(tmp_path, "p/q_torch.py", "p/q_sail.py")
    os.symlink(tmp_path, tmp_path / "p" / "loop")
    os.symlink(tmp_path / "p", tmp_path / "again")
    assert len(discover_pairs(str(tmp_path))) == 1


def test_all_with_nothing_found_or_missing_dir(tmp_path, capsys):
    _touch(tmp_path, "a.py", "b_torch.py")
    for args, needle in ((["check", "--all", str(tmp_path)], "no pairs found"),
                         (["check", "--all", str(tmp_path / "missing")], "no such directory"),
                         (["check", "--all", str(tmp_path / "a.py")], "not a directory"),
                         (["check", "x.py", "y.py", "--all", str(tmp_path)], "not both")):
        code, out, err = run_cli(args, capsys)
        assert code == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_all_checks_every_pair(tmp_path, capsys, monkeypatch):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        shutil.copy(EXAMPLE / "resnet_torch.py", tmp_path / name / "resnet_torch.py")
        shutil.copy(EXAMPLE / "resnet_sail.py", tmp_path / name / "resnet_sail.py")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["check", "--all", ".", "--format", "json", "--no-cache"], capsys)
    assert code == 1, err
    doc = json.loads(out)
    assert {f["ported"]["path"] for f in doc["findings"]} == {"one/resnet_sail.py", "two/resnet_sail.py"}
    assert doc["summary"]["files"] == 4


def test_configured_pairs_run_in_parallel_too(tmp_path, capsys, monkeypatch):
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
        shutil.copy(EXAMPLE / "resnet_torch.py", tmp_path / name / "orig.py")
        shutil.copy(EXAMPLE / "resnet_sail.py", tmp_path / name / "port.py")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.portlint]\npairs = [\n" + "".join(
            f'  {{original = "{n}/orig.py", ported = "{n}/port.py"}},\n' for n in ("one", "two", "three")) + "]\n")
    monkeypatch.chdir(tmp_path)
    serial = run_cli(["check", "--format", "json", "--no-cache", "-j", "1"], capsys)
    parallel = run_cli(["check", "--format", "json", "--no-cache", "-j", "3"], capsys)
    assert serial == parallel and serial[0] == 1
    assert [f["ported"]["path"] for f in json.loads(serial[1])["findings"]][:1] == ["one/port.py"]


def test_ctrl_c_stops_workers_at_once(tmp_path):
    import signal
    import subprocess
    import sys

    for i in range(5):  # hundreds of pairs: seconds of work, far more than the 1.5 s before Ctrl-C
        shutil.copytree(FIXTURES, tmp_path / f"copy{i}")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "portlint", "check", "--all", str(tmp_path), "--no-cache", "-j", "2",
                             "--format", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, f"exit {proc.returncode} (0/1 would mean it finished before the interrupt): {err}"
    assert "Traceback" not in err
    time.sleep(0.5)
    stray = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if str(tmp_path).encode() in fh.read():
                    stray.append(pid)
        except OSError:
            continue
    assert not stray, f"workers left running: {stray}"
