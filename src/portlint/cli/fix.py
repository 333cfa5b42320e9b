"""`portlint fix` and the pre-commit entry point (`portlint pre-commit check|fix FILES...`).

The engine reads files from disk, so fixes are iterated on a temporary copy of the ported
program; the user's files are written once, at the end, atomically and only if nobody changed
them meanwhile. The original program is read where it is and never written.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import typer

from portlint.fix.write import Snapshot, atomic_write, read_snapshot
from portlint.errors import PortlintError
from portlint.findings import Finding, Location

# What the fix check's temporary copy leaves out: version control, caches and virtual environments
# only. Unlike a folder walk for analysis (local_files.SKIP_DIRS) it keeps build/, dist/ and env/:
# an import may still resolve into them.
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".tox",
              ".portlint_cache", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass
class FixOutcome:
    """All pairs fixed: per user file the text read and the fixed text, plus what happened."""

    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # realpath -> as first read
    texts: dict[str, str] = field(default_factory=dict)  # realpath -> fixed text
    shown: dict[str, str] = field(default_factory=dict)  # realpath -> path as the user sees it
    fixed: int = 0
    remaining: list[Finding] = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    nothing_analysed: bool = False

    @property
    def changed(self) -> list[str]:
        return sorted((k for k, t in self.texts.items() if t != self.snapshots[k].text), key=lambda k: self.shown[k])


class _Mirror:
    """A temporary copy of the ported program: .py files copied (they get fixed), other files
    symlinked (bmodels, configs the code may name), tool and VCS folders left out."""

    def __init__(self, ported: str, outcome: FixOutcome):
        src = Path(ported)
        if not src.exists():
            raise PortlintError(f"{ported}: no such file or directory")
        self.is_file = src.is_file()
        shown_root = os.path.dirname(ported) if self.is_file else ported
        root = src.resolve().parent if self.is_file else src.resolve()
        while self.is_file and (root / "__init__.py").is_file() and root.parent != root:
            root, shown_root = root.parent, os.path.join(shown_root, "..")  # relative imports may climb
        self.src_root, self.shown_root, self.ported = root, shown_root or ".", ported
        self.tmp = Path(os.path.realpath(tempfile.mkdtemp(prefix="portlint-fix-")))
        self.tmp_ported = str(self.tmp / src.resolve().relative_to(root)) if self.is_file else str(self.tmp)
        self.files: dict[str, str] = {}  # temp path -> user realpath
        try:
            self._copy(outcome)
        except BaseException:
            self.close()
            raise

    def _copy(self, outcome: FixOutcome) -> None:
        for folder, dirs, names in os.walk(self.src_root):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")
                       and not (Path(folder, d) / "pyvenv.cfg").exists()]
            rel = Path(folder).relative_to(self.src_root)
            (self.tmp / rel).mkdir(parents=True, exist_ok=True)
            for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                dirs.remove(d)  # a linked folder is linked, not copied (it may be outside the project)
                os.symlink(os.path.realpath(os.path.join(folder, d)), self.tmp / rel / d)
            for name in names:
                real, dst = os.path.realpath(os.path.join(folder, name)), self.tmp / rel / name
                if not name.endswith(".py"):
                    try:
                        os.symlink(real, dst)
                    except OSError:
                        pass
                    continue
                if real not in outcome.snapshots:
                    try:
                        outcome.snapshots[real] = read_snapshot(os.path.join(folder, name))
                    except PortlintError:
                        continue  # not UTF-8 or unreadable: the check will say so
                    outcome.texts[real] = outcome.snapshots[real].text
                    outcome.shown[real] = self.shown(str(dst))
                with open(dst, "w", encoding="utf-8", newline="") as fh:
                    fh.write(outcome.texts[real])
                self.files[str(dst)] = real

    def shown(self, tmp_path: str) -> str:
        """A path under the copy as the user would name it."""
        for candidate in (os.path.abspath(tmp_path), os.path.realpath(tmp_path)):
            try:
                rel = Path(candidate).relative_to(self.tmp)
                break
            except ValueError:
                continue
        else:
            return tmp_path
        if self.is_file and str(self.tmp / rel) == self.tmp_ported:
            return self.ported
        return os.path.normpath(os.path.join(self.shown_root, rel))

    def location(self, loc: Optional[Location]) -> Optional[Location]:
        return dataclasses.replace(loc, path=self.shown(loc.path)) if loc else None

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _describe(f: Finding) -> str:
    where = f"{f.ported.path}:{f.ported.line}:{f.ported.column}" if f.ported else "?"
    return f"{f.code} at {where}"


def run_fixes(options, include_unsafe: bool, max_iterations: int = 10) -> FixOutcome:
    """Fix every pair of `options` in turn (a later pair sees the earlier pairs' fixes)."""
    from portlint.checker import Pair, run_check
    from portlint.fix.loop import fix_pair

    outcome = FixOutcome()
    analysed = 0
    for pair in options.pairs:
        mirror = _Mirror(pair.ported, outcome)
        try:
            tmp_options = dataclasses.replace(options, pairs=[Pair(pair.original, mirror.tmp_ported, pair.bmodel, pair.input_shape)])
            result = fix_pair(lambda: run_check(tmp_options), list(mirror.files), include_unsafe, max_iterations)
            for tmp_path, text in result.after.items():
                outcome.texts[mirror.files[tmp_path]] = text
            outcome.fixed += len(result.applied)
            analysed += result.report.files
            for f in result.report.findings:
                outcome.remaining.append(dataclasses.replace(
                    f, ported=mirror.location(f.ported), original=mirror.location(f.original)))
            for e in result.report.errors:
                outcome.errors.append(dataclasses.replace(e, path=mirror.shown(e.path)))
            for failure in result.failures:
                f = dataclasses.replace(failure.finding, ported=mirror.location(failure.finding.ported))
                outcome.warnings.append(f"{_describe(f)}: fix not applied: {failure.reason}")
            if not result.converged:
                outcome.warnings.append(f"{pair.ported}: fixes did not converge after {result.iterations} rounds; "
                                        "review the result and run `portlint fix` again")
        finally:
            mirror.close()
    outcome.nothing_analysed = analysed == 0 and bool(outcome.errors)
    return outcome


def unified_diff(before: str, after: str, shown: str) -> str:
    """A `git apply`-able diff with a/ and b/ paths as the user gave them."""
    a, b = (shown, shown) if os.path.isabs(shown) else (f"a/{shown}", f"b/{shown}")
    out = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), a, b):
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def write_fixes(outcome: FixOutcome) -> None:
    for k in outcome.changed:
        atomic_write(dataclasses.replace(outcome.snapshots[k], path=outcome.shown[k]), outcome.texts[k])


def _report_problems(outcome: FixOutcome) -> None:
    for w in outcome.warnings:
        print(f"portlint: warning: {w}", file=sys.stderr)
    for e in outcome.errors:
        print(f"portlint: error: {e.path}: {e.message}", file=sys.stderr)


def _summary(verb: str, outcome: FixOutcome) -> str:
    n, m = outcome.fixed, len(outcome.remaining)
    return f"{verb} {n} finding{'s' if n != 1 else ''} ({m} remaining)."


def fix_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel, input_shape, config, no_cache) -> int:
    from portlint.checker import CheckOptions

    options = CheckOptions.from_cli(original=original, ported=ported, bmodel=bmodel, input_shape=input_shape,
                                    select=select, ignore=ignore, config=config, no_cache=no_cache)
    outcome = run_fixes(options, unsafe_fixes)
    _report_problems(outcome)
    if outcome.nothing_analysed:
        return 2
    if apply:
        write_fixes(outcome)
        print(_summary("Fixed", outcome))
        return 1 if outcome.remaining else 0
    for k in outcome.changed:
        sys.stdout.write(unified_diff(outcome.snapshots[k].text, outcome.texts[k], outcome.shown[k]))
    print(_summary("Would fix", outcome), file=sys.stderr)
    return 1 if outcome.changed else 0


def pre_commit_command(mode: str, files: list[str], config, select, ignore, unsafe_fixes) -> int:
    """pre-commit passes the staged file names; every configured pair containing one is checked
    (`check`) or fixed (`fix`, which fails when it changed files, as pre-commit fixers do)."""
    from portlint.checker import CheckOptions, run_check
    from portlint.report.render import render

    if not files:
        return 0
    options = CheckOptions.from_cli(select=select, ignore=ignore, config=config, files=files)
    if not options.pairs:
        return 0
    if mode == "check":
        report = run_check(options)
        print(render(report, "text", color=False))
        return report.exit_code
    if mode != "fix":
        raise PortlintError(f"pre-commit mode {mode!r}: expected check or fix")
    outcome = run_fixes(options, unsafe_fixes)
    _report_problems(outcome)
    if outcome.nothing_analysed:
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
    ) -> None:
        """Fix the ported program: print a unified diff, or write it with --apply."""
        if verify:  # portlint.verify (docs/verify.md) owns this mode
            from portlint.verify.fixverify import fix_verify_command

            raise typer.Exit(fix_verify_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel,
                                                input_shape, config, no_cache, image, model))
        raise typer.Exit(fix_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel,
                                     input_shape, config, no_cache))

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
        raise typer.Exit(pre_commit_command(mode, files or [], config, select, ignore, unsafe_fixes))
