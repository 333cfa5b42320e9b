"""`portlint fix` and the pre-commit entry point (`portlint pre-commit check|fix FILES...`):
arguments in, messages out; the fixing is portlint.fix's (fix/run.py)."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from portlint.errors import PortlintError


def _report_problems(outcome) -> None:
    for w in outcome.warnings:
        print(f"portlint: warning: {w}", file=sys.stderr)
    for e in outcome.errors:
        print(f"portlint: error: {e.path}: {e.message}", file=sys.stderr)
    for text in getattr(outcome, "not_converged", []):
        print(f"portlint: error: {text}", file=sys.stderr)


def _failed(outcome) -> bool:
    """Nothing to write: nothing analysed, an input error, or fixes that did not converge (exit 2)."""
    return outcome.nothing_analysed or getattr(outcome, "input_error", False) or bool(getattr(outcome, "not_converged", []))


def _summary(verb: str, outcome) -> str:
    n, m = outcome.fixed, len(outcome.remaining)
    return f"{verb} {n} finding{'s' if n != 1 else ''} ({m} remaining)."


def fix_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel, input_shape, config, no_cache,
                original_run=(), ported_run=(), image_size=()) -> int:
    from portlint.checker import CheckOptions
    from portlint.fix.diff import unified_diff
    from portlint.fix.run import run_fixes, write_fixes

    options = CheckOptions.from_cli(original=original, ported=ported, bmodel=bmodel, input_shape=input_shape,
                                    select=select, ignore=ignore, config=config, no_cache=no_cache,
                                    original_run=original_run, ported_run=ported_run, image_size=image_size)
    outcome = run_fixes(options, unsafe_fixes)
    _report_problems(outcome)
    if _failed(outcome):
        return 2
    if apply:
        write_fixes(outcome)
        print(_summary("Fixed", outcome))
        return 1 if outcome.remaining else 0
    for k in outcome.changed:
        sys.stdout.write(unified_diff(outcome.snapshots[k].text, outcome.texts[k], outcome.shown[k]))
    print(_summary("Would fix", outcome), file=sys.stderr)
    return 1 if outcome.changed else 0


def fix_verify_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel, input_shape, config, no_cache,
                       image, model) -> int:
    """`fix --verify`: each fix kept only if `verify` on the image does not diverge more (docs/verify.md)."""
    from portlint.verify.extra import as_missing_extra, require_verify_extra
    from portlint.verify.run import _check_file

    if image is None:
        raise PortlintError("fix --verify needs --image IMAGE")
    _check_file(image, "image file")
    require_verify_extra()
    try:
        return _fix_verify(original, ported, apply, unsafe_fixes, select, ignore, bmodel, input_shape, config,
                           no_cache, image, model)
    except ModuleNotFoundError as exc:
        error = as_missing_extra(exc)
        if error is None:
            raise
        raise error from None


def _fix_verify(original, ported, apply, unsafe_fixes, select, ignore, bmodel, input_shape, config, no_cache,
                image, model) -> int:
    from portlint.checker import CheckOptions
    from portlint.fix.diff import unified_diff
    from portlint.fix.run import write_fixes
    from portlint.verify.fixverify import check_image_argument, verified_fixes

    check_image_argument(image)
    options = CheckOptions.from_cli(original=original, ported=ported, bmodel=bmodel, input_shape=input_shape,
                                    select=select, ignore=ignore, config=config, no_cache=no_cache)
    outcome, verdicts = verified_fixes(options, image, model, unsafe_fixes)
    for v in verdicts:
        print(v.line())
    kept = sum(1 for v in verdicts if v.kept)
    if apply:
        write_fixes(outcome)
        print(f"Fixed {kept} finding{'s' if kept != 1 else ''} verified on {image} "
              f"({len(verdicts) - kept} not kept).")
        return 0
    for k in outcome.changed:
        sys.stdout.write(unified_diff(outcome.snapshots[k].text, outcome.texts[k], outcome.shown[k]))
    print(f"Would fix {kept} finding{'s' if kept != 1 else ''} verified on {image} ({len(verdicts) - kept} not kept).",
          file=sys.stderr)
    return 1 if outcome.changed else 0


def pre_commit_command(mode: str, files: list[str], config, select, ignore, unsafe_fixes) -> int:
    """pre-commit passes the staged file names; every configured pair containing one is checked
    (`check`) or fixed (`fix`, which fails when it changed files, as pre-commit fixers do)."""
    from portlint.checker import CheckOptions, run_check

    if mode not in ("check", "fix"):
        raise PortlintError(f"pre-commit mode {mode!r}: expected check or fix")
    if not files:
        return 0
    options = CheckOptions.from_cli(select=select, ignore=ignore, config=config, files=files)
    if not options.pairs:
        return 0
    if mode == "check":
        from portlint.report.render import render

        report = run_check(options)
        print(render(report, "text", color=False))
        return report.exit_code
    from portlint.fix.run import run_fixes, write_fixes  # libcst: only when there is something to fix

    outcome = run_fixes(options, unsafe_fixes)
    _report_problems(outcome)
    if _failed(outcome):
        return 2
    write_fixes(outcome)
    for k in outcome.changed:
        print(f"fixed {outcome.shown[k]}")
    print(_summary("Fixed", outcome))
    return 1 if outcome.changed or outcome.remaining else 0


def register(app: typer.Typer) -> None:
    @app.command("fix")
    def fix(
        original: Optional[str] = typer.Argument(None, help="Original program: a .py file or a directory (read only)."),
        ported: Optional[str] = typer.Argument(None, help="Ported program: a .py file or a directory (the one fixed)."),
        apply: bool = typer.Option(False, "--apply", help="Write the fixes instead of printing a diff."),
        unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also apply fixes marked unsafe."),
        select: Optional[str] = typer.Option(None, help="Comma-separated rule codes or kinds to fix (default: all)."),
        ignore: Optional[str] = typer.Option(None, help="Comma-separated rule codes or kinds to leave alone."),
        bmodel: Optional[str] = typer.Option(None, help="The bmodel the ported program runs."),
        input_shape: Optional[str] = typer.Option(None, help="Model input shape, e.g. 1,3,224,224."),
        config: Optional[str] = typer.Option(None, help="pyproject.toml to read [tool.portlint] from."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write .portlint_cache."),
        verify: bool = typer.Option(False, "--verify", help="Apply each fix alone, re-run `portlint verify` on --image, keep only fixes that do not make the port diverge more."),
        image: Optional[str] = typer.Option(None, "--image", help="--verify: the image to replay both pipelines on."),
        model: Optional[str] = typer.Option(None, "--model", help="--verify: the original model (TorchScript, .onnx or module:factory)."),
        original_run: Optional[List[str]] = typer.Option(None, "--original-run", metavar="COMMAND", help="How the original is run, when it is a framework without a script (as for check). Repeatable."),
        ported_run: Optional[List[str]] = typer.Option(None, "--ported-run", metavar="COMMAND", help="How the port is run, with the arguments its README gives (as for check). Repeatable."),
        image_size: Optional[List[str]] = typer.Option(None, "--image-size", metavar="WxH", help="The size of the images your data has (as for check). Repeatable."),
    ) -> None:
        """Fix the ported program: print a unified diff, or write it with --apply."""
        if not verify and (image or model):
            given = " and ".join(n for n, v in (("--image", image), ("--model", model)) if v)
            raise PortlintError(f"{given} {'are' if image and model else 'is'} only used with --verify: "
                                "add --verify to check each fix on the image, or leave it out")
        from portlint.fix.guard import fix_signals

        with fix_signals():  # SIGTERM cleans up too; Ctrl-C is exit 130, never a traceback
            if verify and (original_run or ported_run):
                given = "--original-run" if original_run else "--ported-run"
                raise PortlintError(f"{given} is not used with --verify yet: verify replays each side's pipeline from its file")
            if verify:
                raise typer.Exit(fix_verify_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel,
                                                    input_shape, config, no_cache, image, model))
            raise typer.Exit(fix_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel,
                                         input_shape, config, no_cache, original_run or [], ported_run or [],
                                         image_size or []))

    @app.command("pre-commit", hidden=True)
    def pre_commit(
        mode: str = typer.Argument(..., help="check or fix"),
        files: Optional[List[str]] = typer.Argument(None, help="Files pre-commit passes."),
        config: Optional[str] = typer.Option(None, help="pyproject.toml to read [tool.portlint] from."),
        select: Optional[str] = typer.Option(None, help="Comma-separated rule codes or kinds."),
        ignore: Optional[str] = typer.Option(None, help="Comma-separated rule codes or kinds to leave out."),
        unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="fix: also apply unsafe fixes."),
    ) -> None:
        """Entry point of the hooks in .pre-commit-hooks.yaml."""
        from portlint.fix.guard import fix_signals

        with fix_signals():
            raise typer.Exit(pre_commit_command(mode, files or [], config, select, ignore, unsafe_fixes))
