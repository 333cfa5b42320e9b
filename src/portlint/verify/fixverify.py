"""`portlint fix --verify --image IMG`: every fix is applied on its own to a temporary copy of
the ported program, `verify` is re-run, and the fix is kept only if it does not make the port
diverge more (model-input max|diff| not larger, prediction not turned from aligned to not).
Prints, per fix, the divergence before and after, e.g.
    PL101 resize-antialias at resnet_sail.py:27: input max|diff| 0.490196 -> 2.38419e-07,
    first divergence resize -> none, top-1 [751] vs [867] -> [751] vs [751]: kept
With --apply the kept fixes are written to the user's files; without it their diff is printed.
The loop, the writing and the reverting are portlint.fix's (OneAtATime); this module measures."""

from __future__ import annotations

from dataclasses import dataclass
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


class VerifyJudge:
    """Judges each fix of one pair by re-running `verify` on the temporary copy it was written to."""

    def __init__(self, session, image: str, mirror, verdicts: list[Verdict]):
        self.session, self.image, self.mirror, self.verdicts = session, image, mirror, verdicts
        self.best = Measure.of(session.verify(image))  # the port as it is, then after each kept fix

    def _verdict(self, f, after: Optional[Measure], kept: bool, reason: str = "") -> None:
        loc = self.mirror.location(f.ported)
        where = f"{loc.path}:{loc.line}" if loc else "?"
        self.verdicts.append(Verdict(f, where, self.best, after, kept, reason))

    def refused(self, f, reason: str) -> None:
        self._verdict(f, None, False, reason or "its edits conflict")

    def keep(self, f) -> bool:
        try:
            self.session.replan()
            after = Measure.of(self.session.verify(self.image))
        except PortlintError as exc:
            self._verdict(f, None, False, f"verify failed on the fixed program: {exc}")
            return False
        why = worse(after, self.best)
        if why:
            self._verdict(f, after, False, why)
            return False
        self._verdict(f, after, True)
        self.best = after
        return True

    def reverted(self) -> None:
        self.session.replan()


def check_image_argument(image: Optional[str]) -> None:
    """fix --verify needs an image it can read; raises PortlintError otherwise."""
    from portlint.verify.run import check_image

    if image is None:
        raise PortlintError("fix --verify needs --image IMAGE")
    check_image(image)


def verified_fixes(options, image: str, model: Optional[str], include_unsafe: bool, atol: float = 1e-3):
    """(FixOutcome, verdicts): the fix loop one fix at a time, each judged by `verify` on `image`."""
    from portlint.fix.loop import OneAtATime
    from portlint.fix.run import run_fixes
    from portlint.verify.compare import Tolerances
    from portlint.verify.run import Session, VerifyOptions

    verdicts: list[Verdict] = []

    def judged(pair, mirror) -> OneAtATime:
        session = Session(VerifyOptions(original=pair.original, ported=mirror.tmp_ported, image=image, model=model,
                                        bmodel=pair.bmodel, input_shape=pair.input_shape,
                                        tolerances=Tolerances(atol=atol)))
        return OneAtATime(VerifyJudge(session, image, mirror, verdicts))

    outcome = run_fixes(options, include_unsafe, mode_for=judged)
    return outcome, verdicts
