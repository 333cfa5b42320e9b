"""Comparing two symbolic resize sizes over a sweep of image sizes, not only at the samples.

Why: keep-ratio sizes that truncate on one side and round on the other agree at the sample
sizes often enough (1920x1080 -> 1280x720 with either) and differ by 1 px on about half of all
images (800x533 -> 1280x852 vs 1280x853). Both sizes are symbolic functions of the image's
height and width (H, W), so they are evaluated at every size of a grid in one vectorised pass
(analysis/sweep.py) and the differing sizes are counted.

What is reported: a difference of more than 1 px at any size of the grid, or 1-px differences at
more than REPORT_FRACTION of the sizes. Rarer 1-px differences are exact ties (`int(round(x))`
rounds x.5 to even where `int(x + 0.5)` rounds up: 16 of the 64,240 sizes for a 640 target) and
float representation (`int(640 / w * h)` vs `int(640 * (h / w))` landing on either side of an
integer: 5 sizes), which a porting engineer calls the same formula; truncation vs rounding differs
on about half of the grid (tests/test_size_sweep.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

from portlint.analysis.values import Sym, sym_vars

# numpy is imported on the first sweep only (analysis/sweep.py loads it): `portlint check` on
# programs without keep-ratio sizes never loads it (tests/test_startup.py lists what a check imports).


@functools.lru_cache(maxsize=1)
def grid():
    """(widths, heights) swept: every 7th width and height from 200 to 2200 px (an odd step, so the
    sizes are not all multiples of the targets' factors), aspect ratios up to 3:1 either way:
    64,240 sizes."""
    from portlint.analysis.sweep import np

    sides = np.arange(200, 2201, 7, dtype=np.float64)
    w, h = (a.ravel() for a in np.meshgrid(sides, sides, indexing="ij"))
    keep = np.maximum(w, h) <= 3 * np.minimum(w, h)
    return w[keep], h[keep]


REPORT_FRACTION = 0.10


@dataclass(frozen=True)
class SweepResult:
    """How two (h, w) size pairs compare over the grid."""

    size: tuple  # (h, w) of an image whose sizes differ
    original: tuple  # (h, w) the original resizes it to
    ported: tuple
    differing: int  # sizes of the grid that differ
    compared: int  # sizes of the grid both sides could be computed for
    max_diff: float  # largest difference of a side, in pixels

    @property
    def fraction(self) -> float:
        return self.differing / self.compared if self.compared else 0.0

    def reportable(self) -> bool:
        return self.max_diff > 1.0 or self.fraction > REPORT_FRACTION

    def describe(self) -> str:
        pct = 100.0 * self.fraction
        share = f"{pct:.0f}%" if pct >= 1 else f"{pct:.1f}%"
        return (f"{self.differing} of {self.compared} image sizes swept (sides 200-2195 px, up to 3:1; {share}) "
                f"differ{' by 1 px' if self.max_diff <= 1.0 else f' by up to {self.max_diff:g} px'}")


def image_sized(pair) -> bool:
    """An (h, w) pair of numbers and Syms that depends on the image's height or width."""
    return (isinstance(pair, tuple) and len(pair) == 2
            and all(isinstance(v, (Sym, int, float)) and not isinstance(v, bool) for v in pair)
            and bool({"H", "W"} & sym_vars(pair)))


_MEMO: dict = {}
_MEMO_LIMIT = 4096


def sweep(o_pair, p_pair, env: dict) -> Optional[SweepResult]:
    """Both (h, w) sizes over the grid, with the other variables of `env` (bmodel dimensions,
    assumed strides) as given; None when either cannot be evaluated vectorised, or no size of
    the grid differs."""
    if not (image_sized(o_pair) and image_sized(p_pair)):
        return None
    fixed = tuple(sorted((k, v) for k, v in env.items() if k not in ("H", "W")))
    # by value, not identity: the 52 sophon-demo folders checked against one original sweep the
    # same few pairs of formulas, each interpreted anew
    if len(_SHAPES) > 100_000:
        _SHAPES.clear()
        _MEMO.clear()  # its keys hold numbers of the table just dropped
    try:
        key = (_shape(o_pair), _shape(p_pair), fixed)
        if key in _MEMO:
            return _MEMO[key]
    except TypeError:  # an unhashable constant somewhere in a tree: no memo
        key = None
    w, h = grid()
    result = _sweep(o_pair, p_pair, {**env, "H": h, "W": w})
    if key is not None:
        if len(_MEMO) > _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[key] = result
    return result


_SHAPES: dict = {}


def _shape(value, seen: Optional[dict] = None):
    """A number per distinct formula (same operators, variables and constants, in the same tree):
    computed over the expression's DAG once per shared node, so a formula that reuses a
    sub-expression (`s = s + s`, repeated) costs its node count, not its unfolded size."""
    if seen is None:
        seen = {}
    if isinstance(value, tuple):
        return tuple(_shape(v, seen) for v in value)
    if not isinstance(value, Sym):
        return (type(value).__name__, value)
    hit = seen.get(id(value))
    if hit is not None:
        return hit
    struct = (value.op, tuple(_shape(a, seen) if isinstance(a, Sym) else (type(a).__name__, a) for a in value.args))
    found = _SHAPES.get(struct)
    if found is None:
        found = _SHAPES[struct] = len(_SHAPES)
    seen[id(value)] = found
    return found


def _sweep(o_pair, p_pair, env: dict) -> Optional[SweepResult]:
    from portlint.analysis.sweep import np, sym_eval_many

    grid_w, grid_h = env["W"], env["H"]
    sides = []
    for pair in (o_pair, p_pair):
        hw = [sym_eval_many(v, env) for v in pair]
        if any(v is None for v in hw):
            return None
        sides.append([np.broadcast_to(v, grid_h.shape) for v in hw])
    (oh, ow), (ph, pw) = sides
    ok = ~(np.isnan(oh) | np.isnan(ow) | np.isnan(ph) | np.isnan(pw))
    dh, dw = np.abs(oh - ph), np.abs(ow - pw)
    differ = ok & ((dh >= 0.5) | (dw >= 0.5))
    n = int(differ.sum())
    if not n:
        return None
    # the differing size to name: the one nearest an 800x600 photo
    i = int(np.argmin(np.where(differ, np.abs(grid_w - 800) + np.abs(grid_h - 600), np.inf)))
    return SweepResult(size=(int(grid_h[i]), int(grid_w[i])), original=(float(oh[i]), float(ow[i])),
                       ported=(float(ph[i]), float(pw[i])), differing=n, compared=int(ok.sum()),
                       max_diff=float(np.max(np.maximum(dh[differ], dw[differ]))))
