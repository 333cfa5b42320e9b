"""`check`'s fast argument path (cli/fastpath.py, issue 15.14) calls `check` exactly as typer
would, gives way to typer on anything else, and spares each process pydantic's import."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "resnet"
ARGS = [
    ["a.py", "b.py"],
    ["a.py", "b.py", "--format", "json", "--no-cache", "-j", "2"],
    ["a.py", "b.py", "-f", "sarif", "--jobs=3", "--select", "PL1", "--ignore=padding", "--statistics"],
    ["--all", "dir", "-j1", "--exit-zero", "--no-color", "--show-fixes", "--show-unused-suppressions"],
    ["--files", "x.py", "--files", "y.py", "--config", "pyproject.toml", "--bmodel", "m.bmodel",
     "--input-shape", "1,3,224,224"],
    ["--", "-odd.py", "b.py"],
    [],
]


def _typer_params(args):
    import typer.main

    from portlint.cli import app

    command = typer.main.get_command(app).commands["check"]
    ctx = command.make_context("check", list(args))
    return dict(ctx.params)


@pytest.mark.parametrize("args", ARGS, ids=[" ".join(a) or "none" for a in ARGS])
def test_same_call_as_typer(args):
    from portlint.cli import check
    from portlint.cli.fastpath import try_check

    fast = try_check(["check", *args], check)
    assert fast is not None
    expected = _typer_params(args)

    def norm(v):  # click holds an unset or repeated option as a tuple; check() takes `files or []`
        return list(v) or None if isinstance(v, (tuple, list)) else v

    assert {k: norm(v) for k, v in fast.items()} == {k: norm(v) for k, v in expected.items()}


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--bogus"], ["-j"], ["--jobs", "x"], ["--format", "xml"],
                                  ["a", "b", "c"], ["--no-cache=1"]])
def test_gives_way_to_typer(args, capsys):
    from portlint.cli import check
    from portlint.cli.fastpath import try_check

    assert try_check(["check", *args], check) is None
    from fixture_support import run_cli

    code, out, err = run_cli(["check", *args], capsys)
    assert "Traceback" not in err
    assert code == (0 if args[0] == "--help" else 2), (code, err)


def test_other_commands_use_typer():
    from portlint.cli import check
    from portlint.cli.fastpath import try_check

    assert try_check(["rules"], check) is None and try_check(["fix", "a", "b"], check) is None
    assert try_check([], check) is None


def test_a_check_process_does_not_import_pydantic(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "portlint", "check", str(EXAMPLE / "resnet_torch.py"),
                        str(EXAMPLE / "resnet_sail.py"), "--no-cache", "-j1"], cwd=tmp_path, capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 1, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "portlint.cli" in imported and not any(m.startswith("pydantic") for m in imported)


def test_the_pre_commit_hook_command_line_skips_typer():
    from portlint.cli.fastpath import try_pre_commit

    assert try_pre_commit(["pre-commit", "check", "a.py", "b/c.py"]) == ("check", ["a.py", "b/c.py"])
    assert try_pre_commit(["pre-commit", "fix"]) == ("fix", [])
    for typer_parses in (["pre-commit"], ["pre-commit", "check", "--config", "p.toml", "a.py"],
                         ["pre-commit", "--help"], ["check", "a.py"], []):
        assert try_pre_commit(typer_parses) is None


def _hook(args, cwd) -> tuple[subprocess.CompletedProcess, set]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "portlint", "pre-commit", *args], cwd=cwd,
                       capture_output=True, text=True, env=env, timeout=300)
    mods = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    return r, mods


def test_a_commit_of_files_in_no_pair_imports_neither_pydantic_nor_libcst(tmp_path):
    """What `git commit` waits for when the staged files are in no configured pair: reading the
    configuration, nothing more (0.43 s before, 0.15 s after, measured here)."""
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\npairs = [{original = "a.py", ported = "b.py"}]\n')
    (tmp_path / "other.py").write_text("x = 1\n")
    r, mods = _hook(["check", "other.py"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not {"pydantic", "libcst", "portlint.fix.run"} & mods
    r, mods = _hook(["fix", "other.py"], tmp_path)
    assert r.returncode == 0 and not {"pydantic", "libcst"} & mods


def test_the_hook_fast_path_checks_as_typer_does(tmp_path):
    for name in ("resnet_torch.py", "resnet_sail.py"):
        (tmp_path / name).write_text((EXAMPLE / name).read_text())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.portlint]\ncache-dir = "c"\npairs = [{original = "resnet_torch.py", ported = "resnet_sail.py", '
        'input-shape = [1, 3, 224, 224]}]\n')
    fast, _ = _hook(["check", "resnet_sail.py"], tmp_path)
    slow, mods = _hook(["check", "--config", "pyproject.toml", "resnet_sail.py"], tmp_path)  # an option: typer
    assert "pydantic" in mods or "typer._adapters" in mods  # the second went through typer
    assert fast.returncode == slow.returncode == 1
    strip = lambda text: "\n".join(line for line in text.splitlines() if not line.startswith("import time:"))  # noqa: E731
    assert strip(fast.stdout) == strip(slow.stdout) and "PL101" in fast.stdout
    bogus, _ = _hook(["bogus", "resnet_sail.py"], tmp_path)
    assert bogus.returncode == 2 and bogus.stderr.strip().splitlines()[-1] == "portlint: error: pre-commit mode 'bogus': expected check or fix"
