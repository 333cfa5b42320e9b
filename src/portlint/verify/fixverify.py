"""`portlint fix --verify --image IMG`: every fix is applied on its own to a temporary copy of
the ported program, `verify` is re-run, and the fix is kept only if it does not make the port
diverge more (model-input max|diff| not larger, prediction not turned from aligned to not).
Prints, per fix, the divergence before and after, e.g.
    PL101 resize-antialias at resnet_sail.py:27: input max|diff| 0.490196 -> 2.38419e-07,
    first divergence resize -> none, top-1 [751] vs [867] -> [751] vs [751]: kept
With --apply the kept fixes are written to the user's files; without it their diff is printed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from portlint.errors import PortlintError

_EPS = 1e-9


@dataclass
class Measure:
    input_max: Optional[float]
    first_divergence: Optional[str]
    prediction: Optional[dict]

    @classmethod
    def of(cls, result) -> "Measure":
        s = result.stage("input")
        return cls(s.max_abs_diff if s is not None else None, result.first_divergence, result.prediction)

    def describe_prediction(self) -> str:
        p = self.prediction
        if not p:
            return "-"
        if p.get("task") == "classify":
            return f"{p['original']} vs {p['ported']}"
        m = p.get("matching") or [{}]
        return f"{sum(x.get('matched', 0) for x in m)} boxes matched"


def worse(after: Measure, before: Measure) -> Optional[str]:
    """Why `after` is worse than `before`, or None."""
    if before.prediction and after.prediction and before.prediction.get("aligned") and not after.prediction.get("aligned"):
        return "the predictions no longer agree"
    a = float("inf") if after.input_max is None else after.input_max
    b = float("inf") if before.input_max is None else before.input_max
    if a > b + _EPS * max(1.0, abs(b)):
        return "the model inputs differ more"
    return None


@dataclass
class Verdict:
    finding: object
    where: str
    before: Measure
    after: Optional[Measure]
    kept: bool
    reason: str = ""

    def line(self) -> str:
        f = self.finding
        head = f"{f.code} {f.kind} at {self.where}"
        if self.after is None:
            return f"{head}: not applied: {self.reason}"
        b, a = self.before, self.after
        return (f"{head}: input max|diff| {_n(b.input_max)} -> {_n(a.input_max)}, first divergence "
                f"{b.first_divergence or 'none'} -> {a.first_divergence or 'none'}, "
                f"{'top-1' if (b.prediction or {}).get('task') == 'classify' else 'prediction'} "
                f"{b.describe_prediction()} -> {a.describe_prediction()}: "
                f"{'kept' if self.kept else 'dropped (' + self.reason + ')'}")


def _n(x: Optional[float]) -> str:
    return "not comparable" if x is None else f"{x:.6g}"


def _key(f) -> tuple:
    return (f.code, f.message)


def fix_verify_command(original, ported, apply, unsafe_fixes, select, ignore, bmodel, input_shape, config, no_cache,
                       image, model, atol=1e-3) -> int:
    import dataclasses

    from portlint.checker import CheckOptions, Pair, run_check
    from portlint.fix.diff import unified_diff
    from portlint.fix.mirror import Mirror
    from portlint.fix.run import FixOutcome, write_fixes
    from portlint.fix.loop import _Round, applicable
    from portlint.fix.write import read_source
    from portlint.verify.compare import Tolerances
    from portlint.verify.run import Session, VerifyOptions, _check_file, check_image

    if image is None:
        raise PortlintError("fix --verify needs --image IMAGE")
    _check_file(image, "image file")
    check_image(image)
    options = CheckOptions.from_cli(original=original, ported=ported, bmodel=bmodel, input_shape=input_shape,
                                    select=select, ignore=ignore, config=config, no_cache=no_cache)
    outcome = FixOutcome()
    verdicts: list[Verdict] = []
    for pair in options.pairs:
        mirror = Mirror(pair.ported, outcome)
        try:
            tmp_options = dataclasses.replace(options, pairs=[Pair(pair.original, mirror.tmp_ported, pair.bmodel,
                                                                   pair.input_shape)])
            session = Session(VerifyOptions(original=pair.original, ported=mirror.tmp_ported, image=image, model=model,
                                            bmodel=pair.bmodel, input_shape=pair.input_shape,
                                            tolerances=Tolerances(atol=atol)))
            names = {str(Path(p).resolve()): p for p in mirror.files}
            current = {k: read_source(p) for k, p in names.items()}
            best = Measure.of(session.verify(image))
            tried: set = set()
            while True:
                report = run_check(tmp_options)
                todo = [f for f in report.findings if applicable(f, unsafe_fixes) and _key(f) not in tried]
                if not todo:
                    break
                f = todo[0]
                tried.add(_key(f))
                loc = mirror.location(f.ported)
                where = f"{loc.path}:{loc.line}" if loc else "?"
                rnd = _Round(current, names)
                reason = rnd.try_fix(f)
                if reason:
                    verdicts.append(Verdict(f, where, best, None, False, reason))
                    continue
                if reason == "":
                    verdicts.append(Verdict(f, where, best, None, False, "its edits conflict"))
                    continue
                _write(names, rnd.result, current)
                try:
                    session.replan()
                    after = Measure.of(session.verify(image))
                except PortlintError as exc:
                    _write(names, current, rnd.result)
                    session.replan()
                    verdicts.append(Verdict(f, where, best, None, False, f"verify failed on the fixed program: {exc}"))
                    continue
                why = worse(after, best)
                if why:
                    _write(names, current, rnd.result)
                    session.replan()
                    verdicts.append(Verdict(f, where, best, after, False, why))
                else:
                    verdicts.append(Verdict(f, where, best, after, True))
                    current, best = rnd.result, after
            for k, text in current.items():
                outcome.texts[mirror.files[names[k]]] = text
        finally:
            mirror.close()
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


def _write(names: dict, texts: dict, previous: dict) -> None:
    for k, text in texts.items():
        if text != previous.get(k):
            with open(names[k], "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
