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
