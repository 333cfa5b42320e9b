"""`portlint runtime install|doctor`: set up and inspect what can run a bmodel on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

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


def doctor_lines(venv: Optional[Path] = None) -> List[str]:
    """One line per thing that can (or cannot) run or build a bmodel here."""
    from portlint.runtime import available_backends, default_venv, sail_available, tpu_mlir_dir, venv_python
    from portlint.runtime.install import check_venv, cured
    from portlint.errors import PortlintError

    v = Path(venv or default_venv())
    lines = [f"sophon.sail: {'importable' if sail_available() else 'not importable (no Sophon SDK)'}"]
    if not venv_python(v).exists() or tpu_mlir_dir(v) is None:
        lines.append(f"tpu-mlir venv: missing at {v} (run `portlint runtime install`)")
    else:
        try:
            lines.append(f"tpu-mlir venv: {v} works (Python {check_venv(v)})")
            lines.append("pyruntime_bm: importable in the venv")
        except PortlintError as exc:
            lines.append(f"tpu-mlir venv: {v} present but broken")
            lines.append(f"pyruntime_bm: not importable: {exc}")
        for tool in ("model_transform", "model_deploy", "model_tool"):
            path = v / "bin" / tool
            lines.append(f"{tool}: {path if path.exists() else 'missing'}")
        lines.append(f"install cures (glibc moved, torch optional): {'applied' if cured(v) else 'NOT applied: run `portlint runtime install`'}")
    backends = available_backends(v)
    lines.append(f"backends: {', '.join(backends) if backends else 'none (bmodels cannot run here)'}")
    return lines


@runtime_app.command("doctor")
def doctor_cmd(
    venv: Optional[Path] = typer.Option(None, "--venv", help="Venv folder to inspect."),
) -> None:
    """Say which bmodel runtimes and compiler tools are available, one line each."""
    for line in doctor_lines(venv):
        print(line)


def register(app: typer.Typer) -> None:
    app.add_typer(runtime_app, name="runtime")
