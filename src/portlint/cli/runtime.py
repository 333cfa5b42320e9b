"""`portlint runtime install|doctor`: set up and inspect what can run a bmodel on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

runtime_app = typer.Typer(no_args_is_help=True, help="Install or inspect the bmodel runtimes (SAIL, tpu-mlir simulator).")


@runtime_app.command("install")
def install_cmd(
    venv: Optional[Path] = typer.Option(None, "--venv", help="Venv folder (default: $PORTLINT_TPU_MLIR_VENV or ~/.cache/portlint/tpu-mlir-venv)."),
    python: Optional[str] = typer.Option(None, "--python", help="Python 3.10 interpreter to build the venv with."),
    minimal: bool = typer.Option(False, "--minimal", help="tpu-mlir with --no-deps plus a smaller dependency set (1.6 GB instead of 2.0 GB)."),
    force: bool = typer.Option(False, "--force", help="Reinstall even when the venv is already complete."),
) -> None:
    """Create the Python 3.10 venv with tpu-mlir (compiler, bmodel runtime, chip simulator)."""
    from portlint.runtime.install import install

    install(venv=venv, python=python, minimal=minimal, force=force)


@runtime_app.command("doctor")
def doctor_cmd(
    venv: Optional[Path] = typer.Option(None, "--venv", help="Venv folder to inspect."),
) -> None:
    """Say which bmodel runtimes and compiler tools are available, one line each.
    Exit 0 when a backend can run a bmodel here, 1 when none can."""
    from portlint.runtime import available_backends
    from portlint.runtime.doctor import doctor_lines
    from portlint.runtime.venv import default_venv

    for line in doctor_lines(venv):
        print(line)
    raise typer.Exit(0 if available_backends(Path(venv or default_venv())) else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(runtime_app, name="runtime")
