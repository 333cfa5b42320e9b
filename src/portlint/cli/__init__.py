"""Command line: `portlint check|fix|verify|rules|rule|bmodel-info|runtime`.

Every user error is one line on stderr and exit code 2 (docs/contract.md); tracebacks are bugs.
Heavy libraries (torch, cv2, tpu-mlir) are imported only inside the commands that need them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from enum import Enum
from typing import List, Optional

import typer

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click.exceptions import ClickException, NoSuchOption
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, NoSuchOption

from portlint.errors import PortlintError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Find why a model ported to a Sophgo TPU predicts differently from the original PyTorch program.",
)


HIDDEN_OPTIONS = {"--files"}  # internal (pre-commit); kept out of "Possible options" suggestions


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


def _version(value: bool) -> None:
    if value:
        from portlint import __version__

        print(f"portlint {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _main(version: bool = typer.Option(False, "--version", is_eager=True, callback=_version, expose_value=False,
                                       help="Print portlint's version and exit.")) -> None:
    """Find why a model ported to a Sophgo TPU predicts differently from the original PyTorch program."""


@app.command()
def check(
    original: Optional[str] = typer.Argument(None, help="Original program: a .py file or a directory."),
    ported: Optional[str] = typer.Argument(None, help="Ported program: a .py file or a directory."),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="Output format."),
    bmodel: Optional[str] = typer.Option(None, help="The bmodel the ported program runs: gives input shapes and output names."),
    input_shape: Optional[str] = typer.Option(None, help="Model input shape, e.g. 1,3,224,224, where the port reads it from the bmodel."),
    select: Optional[str] = typer.Option(None, help="Comma-separated rule codes or kinds to report (default: all)."),
    ignore: Optional[str] = typer.Option(None, help="Comma-separated rule codes or kinds to leave out."),
    config: Optional[str] = typer.Option(None, help="pyproject.toml to read [tool.portlint] from."),
    no_color: bool = typer.Option(False, "--no-color", help="Plain text even on a terminal."),
    statistics: bool = typer.Option(False, "--statistics", help="Count findings per rule."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write .portlint_cache."),
    show_unused_suppressions: bool = typer.Option(False, "--show-unused-suppressions", help="Report portlint: ignore comments that suppress nothing."),
    files: Optional[List[str]] = typer.Option(None, "--files", hidden=True, help="Only check configured pairs containing these files (pre-commit)."),
    all_dir: Optional[str] = typer.Option(None, "--all", metavar="DIR", help="Check every pair found under DIR: original.py|original/ beside ported.py|ported/, NAME_torch.py beside NAME_sail.py / NAME_opencv.py / NAME_bmcv.py / NAME_cv2.py."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Pairs analysed in parallel (processes); default: one per core."),
    show_fixes: bool = typer.Option(False, "--show-fixes", help="Text: under each finding, the diff its fix makes."),
    original_run: Optional[List[str]] = typer.Option(None, "--original-run", metavar="COMMAND", help="How the original is run, when it is a framework without a script, e.g. \"yolo predict model=yolov8s.pt source=bus.jpg\" (a console script of its pyproject/setup.cfg/setup.py, module:function, or a .py file, then its arguments). Repeatable."),
    ported_run: Optional[List[str]] = typer.Option(None, "--ported-run", metavar="COMMAND", help="How the port is run, e.g. \"python yolov5_opencv.py --conf_thresh 0.3\" (as its README or test script does): its arguments become sys.argv. Repeatable, one per program."),
    image_size: Optional[List[str]] = typer.Option(None, "--image-size", metavar="WxH", help="The size of the images your data has, e.g. 2048x1024 (Cityscapes); sizes are compared at these instead of sample sizes. Repeatable."),
) -> None:
    """Report every place where the ported pipeline differs from the original."""
    from portlint.checker import CheckOptions, run_check
    from portlint.report.render import render

    options = CheckOptions.from_cli(
        original=original, ported=ported, bmodel=bmodel, input_shape=input_shape, select=select,
        ignore=ignore, config=config, no_cache=no_cache, files=files or [],
        show_unused_suppressions=show_unused_suppressions, all_dir=all_dir, jobs=jobs,
        original_run=original_run or [], ported_run=ported_run or [], image_size=image_size or [],
    )
    report = run_check(options)
    color = (not no_color) and output_format == OutputFormat.text and sys.stdout.isatty()
    shown, rules = report, None
    if output_format == OutputFormat.sarif:  # SARIF lists the rules and holds fixes as edits only
        from portlint.fix.imports import with_import_edits
        from portlint.rules.docs import all_rules

        shown, rules = with_import_edits(report), all_rules()
    previews = None
    if show_fixes and output_format == OutputFormat.text:
        from portlint.fix.preview import fix_previews

        previews = fix_previews(report)
    text = render(shown, output_format.value, color=color, statistics=statistics, rules=rules, previews=previews)
    if text:
        print(text)
    for err in report.errors:
        print(f"portlint: error: {err.path}: {err.message}", file=sys.stderr)
    for note in report.notes:
        print(f"portlint: note: {note}", file=sys.stderr)
    code = 2 if getattr(report, "input_error", False) else report.exit_code
    raise typer.Exit(0 if (exit_zero and code == 1) else code)


@app.command("rules")
def list_rules() -> None:
    """List every rule: code, kind, severity and whether it has a fix."""
    from portlint.rules.docs import all_rules

    for r in all_rules().values():
        print(f"{r.code}  {r.kind:<21} {r.severity:<8} fix: {r.fix:<12} {r.title}")


@app.command("rule")
def show_rule(code: str = typer.Argument(..., help="Rule code, e.g. PL101.")) -> None:
    """Print a rule's documentation."""
    from portlint.rules.docs import rule

    r = rule(code)
    print(f"{r.code} ({r.kind}, {r.severity}, fix: {r.fix}): {r.title}\n")
    print(r.doc)


# Commands living in their own modules register themselves here when present.
_COMMAND_MODULES = ("portlint.cli.fix", "portlint.cli.bmodel", "portlint.cli.verify", "portlint.cli.runtime")
for _name in _COMMAND_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name).register(app)


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: runs the typer app and turns every user error into one line + exit 2.
    A well-formed `check` command line skips typer's argument validation (cli/fastpath.py)."""
    from portlint.cli.fastpath import try_check, try_pre_commit

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        fast = try_check(args, check)
        hook = None if fast is not None else try_pre_commit(args)
        if fast is not None:
            check(**fast)
            result = 0
        elif hook is not None:  # the pre-commit hooks' own command line, typer's defaults
            from portlint.cli.fix import pre_commit_command
            from portlint.fix.guard import fix_signals

            with fix_signals():
                result = pre_commit_command(hook[0], hook[1], None, None, None, False)
        else:
            result = app(args=argv, standalone_mode=False, prog_name="portlint")
    except PortlintError as exc:
        print(f"portlint: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("portlint: error: aborted", file=sys.stderr)
        sys.exit(2)
    except ClickException as exc:
        if isinstance(exc, NoSuchOption) and exc.possibilities:  # never suggest a hidden option
            exc.possibilities = [p for p in exc.possibilities if p not in HIDDEN_OPTIONS]
        print(f"portlint: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


def run() -> None:
    """The console script and `python -m portlint`: `main`, then a process exit that skips
    freeing the parsed trees one object at a time. Tearing down a run over a few hundred files
    took longer than rendering it (about 5 s for the benchmark corpus, measured), time every
    user and pre-commit hook pays for nothing. The exit handlers still run (multiprocessing,
    logging) and the streams are flushed; `main` stays a plain function for callers in-process."""
    import atexit
    import os

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:  # the reader stopped early (`portlint check | head`): quietly, as the Python docs advise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`portlint check | head`)
            pass
    os._exit(code)

