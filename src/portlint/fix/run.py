"""`portlint fix` and the pre-commit fixer over every pair: each ported program is fixed on a
temporary copy (the checker reads files from disk), and the user's files are written once, at
the end, atomically and only if nobody changed them meanwhile. The original program is read
where it is and never written."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Optional

from portlint import checker
from portlint.findings import Finding
from portlint.fix.guard import signals_deferred
from portlint.fix.loop import Mode, TakeAll, fix_pair
from portlint.fix.mirror import Mirror, UserFiles
from portlint.fix.write import atomic_write


@dataclass
class FixOutcome(UserFiles):
    """All pairs fixed: per user file the text read and the fixed text, plus what happened."""

    fixed: int = 0
    remaining: list[Finding] = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    nothing_analysed: bool = False
    not_converged: list[str] = field(default_factory=list)  # an error: nothing is written (issue 15.3)
    input_error: bool = False  # e.g. the sides given the wrong way round (exit 2)


def _describe(f: Finding) -> str:
    where = f"{f.ported.path}:{f.ported.line}:{f.ported.column}" if f.ported else "?"
    return f"{f.code} at {where}"


def run_fixes(options, include_unsafe: bool, max_iterations: int = 10,
              mode_for: Optional[Callable[[checker.Pair, Mirror], Mode]] = None) -> FixOutcome:
    """Fix every pair of `options` in turn (a later pair sees the earlier pairs' fixes).

    `mode_for(pair, mirror)` gives the loop's mode for a pair once its copy exists (default:
    TakeAll(max_iterations))."""
    outcome = FixOutcome()
    analysed = 0
    for pair in options.pairs:
        mirror = Mirror(pair.ported, outcome, pair.original)
        try:
            tmp_options = dataclasses.replace(options, pairs=[checker.Pair(pair.original, mirror.tmp_ported, pair.bmodel,
                                                                           pair.input_shape, pair.original_runs,
                                                                           pair.ported_runs, pair.image_sizes)])
            mode = mode_for(pair, mirror) if mode_for else TakeAll(max_iterations)
            result = fix_pair(lambda: checker.run_check(tmp_options), list(mirror.files), include_unsafe, mode=mode,
                              refused=mirror.refused)
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
            outcome.input_error = outcome.input_error or result.report.input_error
            if not result.converged:
                outcome.not_converged.append(f"{pair.ported}: fixes did not converge after {result.iterations} rounds "
                                             "(a fix keeps changing what it fixed); nothing was written")
        finally:
            mirror.close()
    outcome.nothing_analysed = analysed == 0 and bool(outcome.errors)
    return outcome


def write_fixes(outcome: UserFiles) -> None:
    """Write every changed user file atomically (refused when it changed since it was read);
    Ctrl-C and SIGTERM wait until the last one is written (fix/guard.py)."""
    with signals_deferred():
        for k in outcome.changed:
            atomic_write(dataclasses.replace(outcome.snapshots[k], path=outcome.shown[k]), outcome.texts[k])
