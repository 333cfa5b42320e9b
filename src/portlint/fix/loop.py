"""Applies fixes to the ported program, Ruff style: check, apply what is applicable and does not
conflict, re-check the new text, repeat until nothing changes.

A rule's edits are positions in the text the check saw, so one round applies only fixes whose
edits do not overlap; the others are retried on the re-checked text. A fix that leaves a file
unparsable is dropped on its own without losing the rest. Only files the caller lists (the
ported program) are ever written; the original side is never touched.

How a round picks and judges its fixes is its mode: TakeAll (plain `fix`, the pre-commit hook)
or OneAtATime (`fix --verify`: apply one fix, measure, keep or revert).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Protocol

import libcst as cst

from portlint.errors import PortlintError
from portlint.findings import Finding, TextEdit
from portlint.fix.edits import apply_edits, parses, split_overlapping
from portlint.fix.imports import add_imports
from portlint.fix.write import match_newlines, read_source, write_text
from portlint.report import CheckReport


@dataclass
class FixFailure:
    finding: Finding
    reason: str


@dataclass
class FixResult:
    before: dict[str, str]
    after: dict[str, str]
    applied: list[Finding] = field(default_factory=list)
    failures: list[FixFailure] = field(default_factory=list)
    report: CheckReport = field(default_factory=CheckReport)  # the check of the final text
    iterations: int = 0
    converged: bool = True

    @property
    def changed(self) -> list[str]:
        return [p for p in self.after if self.after[p] != self.before[p]]


def applicable(f: Finding, include_unsafe: bool) -> bool:
    fix = f.fix
    if fix is None or not fix.edits:
        return False
    return fix.applicability == "safe" or (include_unsafe and fix.applicability == "unsafe")


def _key(path: str) -> str:
    return str(Path(path).resolve())


def _state(texts: dict[str, str]) -> str:
    h = hashlib.sha256()
    for p in sorted(texts):
        h.update(p.encode() + b"\0" + texts[p].encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


class _Round:
    """One round: the non-conflicting, syntax-preserving subset of the fixes on one text state."""

    def __init__(self, texts: dict[str, str], names: dict[str, str], refused: Optional[dict[str, str]] = None):
        self.base, self.names, self.refused = texts, names, refused or {}
        self.edits: dict[str, list[TextEdit]] = {}
        self.imports: dict[str, list[str]] = {}
        self.result = dict(texts)

    def try_fix(self, f: Finding) -> Optional[str]:
        """Accepts the fix and returns None, returns "" to defer it, or the reason it fails."""
        fix = f.fix
        by_file: dict[str, list[TextEdit]] = {}
        for e in fix.edits:
            k = _key(e.path)
            if k in self.refused:
                return self.refused[k]
            if k not in self.base:
                return f"it edits {e.path}, which is not part of the ported program"
            by_file.setdefault(k, []).append(e)
        home = next(iter(by_file))
        trial = {}
        for k, edits in by_file.items():
            base = self.base[k]
            try:
                _, skipped = split_overlapping(base, [*self.edits.get(k, []), *edits])
                if skipped:
                    return ""  # conflicts with a fix taken this round: retry after the re-check
                text = apply_edits(base, [*self.edits.get(k, []), *edits])
                imports = [*self.imports.get(k, []), *(fix.imports if k == home else [])]
                if imports:
                    text = add_imports(text, imports)
            except ValueError as exc:
                return f"its edit does not fit the file: {exc}"
            except cst.ParserSyntaxError:
                return "the fixed file would not parse"
            except RecursionError:  # libcst's metadata walk on a deeply nested file
                return "the file is nested too deeply to place the fix's imports"
            if not parses(text):
                return "the fixed file would not parse"
            trial[k] = match_newlines(base, text)
        for k, edits in by_file.items():
            self.edits.setdefault(k, []).extend(edits)
            if k == home:
                self.imports.setdefault(k, []).extend(fix.imports)
        self.result.update(trial)
        return None


def _first_edit(f: Finding) -> tuple:
    e = f.fix.edits[0]
    return (e.path, e.start, e.end, f.code)


class Mode:
    """How the loop's rounds pick and judge fixes; the hooks below are what the loop asks."""

    # True when pick() offers each fix at most once, so running out of fixes ends the loop; the
    # loop then needs no round limit and goes on past a round that took nothing.
    offers_each_fix_once = False
    max_rounds: Optional[int] = None

    def pick(self, fixable: list[Finding]) -> list[Finding]:
        """The fixes this round tries, in order, out of the check's applicable ones."""
        raise NotImplementedError

    def refused(self, finding: Finding, reason: str) -> None:
        """The round could not take `finding`'s fix: `reason`, or "" when it conflicts with a
        fix taken before it this round."""

    def keep(self, taken: list[Finding]) -> bool:
        """Asked once the round's text is on disk: True keeps it, False reverts the files."""
        return True

    def reverted(self) -> None:
        """Told once the files are back to the text before the round."""


class TakeAll(Mode):
    """Ruff's way, for `fix` and the pre-commit hook: each round tries every applicable fix in
    file order and keeps all that fit together; one that conflicts waits for the re-checked text.
    As a fix may come back every round, the loop ends when a round takes nothing, when the
    texts repeat (fixes undoing each other) or after `max_rounds`."""

    def __init__(self, max_rounds: int = 10):
        self.max_rounds = max_rounds

    def pick(self, fixable: list[Finding]) -> list[Finding]:
        return sorted(fixable, key=_first_edit)


class Judge(Protocol):
    """What OneAtATime asks about each fix (fix --verify measures the port with `verify`)."""

    def refused(self, finding: Finding, reason: str) -> None: ...
    def keep(self, finding: Finding) -> bool: ...
    def reverted(self) -> None: ...


class OneAtATime(Mode):
    """`fix --verify`: one fix per round, each finding's fix tried once (a finding is its code
    and message, as positions move), kept only if `judge` keeps it."""

    offers_each_fix_once = True

    def __init__(self, judge: Judge):
        self.judge = judge
        self._tried: set[tuple[str, str]] = set()

    def pick(self, fixable: list[Finding]) -> list[Finding]:
        for f in fixable:
            if (f.code, f.message) not in self._tried:
                self._tried.add((f.code, f.message))
                return [f]
        return []

    def refused(self, finding: Finding, reason: str) -> None:
        self.judge.refused(finding, reason)

    def keep(self, taken: list[Finding]) -> bool:
        return self.judge.keep(taken[0])

    def reverted(self) -> None:
        self.judge.reverted()


def _write_changes(names: dict[str, str], texts: dict[str, str], previous: dict[str, str]) -> None:
    for k, text in texts.items():
        if text != previous[k]:
            try:
                write_text(names[k], text)
            except OSError as exc:  # the temporary copy: a full disk, `ulimit -f`
                raise PortlintError(f"{names[k]}: cannot write the temporary copy: {exc.strerror or exc}") from None


def fix_pair(run_check: Callable[[], CheckReport], ported_files: Iterable[str], include_unsafe: bool,
             max_iterations: int = 10, mode: Optional[Mode] = None,
             refused: Optional[dict[str, str]] = None) -> FixResult:
    """Fix `ported_files` in place (give it a temporary copy) until the check converges.

    `run_check()` must check the files as they are on disk and report edits with paths that
    resolve to `ported_files`. `mode` picks and judges the fixes of each round (default:
    TakeAll(max_iterations)); a round that would break a file's syntax never reaches the disk.
    `refused` maps the resolved path of a file no fix may edit to the reason (Mirror.refused)."""
    mode = mode or TakeAll(max_iterations)
    names = {_key(p): str(p) for p in ported_files}
    before = {k: read_source(p) for k, p in names.items()}
    current = dict(before)
    result = FixResult(before={names[k]: t for k, t in before.items()}, after={})
    seen = {_state(current)}
    for iteration in itertools.count():
        report = run_check()
        result.report, result.iterations = report, iteration
        todo = mode.pick([f for f in report.findings if applicable(f, include_unsafe)])
        result.failures = []  # only fixes of findings that are still there are worth a warning
        if not todo:
            break
        if iteration == mode.max_rounds:
            result.converged = False
            break
        rnd, accepted = _Round(current, names, refused), []
        for f in todo:
            reason = rnd.try_fix(f)
            if reason is None:
                accepted.append(f)
                continue
            mode.refused(f, reason)
            if reason:
                result.failures.append(FixFailure(f, reason))
        if not accepted:
            if mode.offers_each_fix_once:
                continue
            break
        if not mode.offers_each_fix_once:
            state = _state(rnd.result)
            if state in seen:  # the fixes undo each other: stop at the last state that was checked
                result.converged = False
                break
            seen.add(state)
        _write_changes(names, rnd.result, current)
        if mode.keep(accepted):
            current = rnd.result
            result.applied.extend(accepted)
        else:
            _write_changes(names, current, rnd.result)
            mode.reverted()
    result.after = {names[k]: t for k, t in current.items()}
    return result
