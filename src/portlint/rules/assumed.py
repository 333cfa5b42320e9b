"""Findings that hold only under a stated value of a number the analysis cannot know.

A size computed from the model's stride (analysis/unknowns.py: `check_img_size(640, s=stride)`,
letterbox's `np.mod(dw, stride)`) cannot be evaluated: the stride is in the weights. A porting
engineer still compares the two programs at the strides real detectors have (32 for P5 models,
64 for P6). A rule whose numeric comparison found nothing for lack of that number reruns it at
each candidate stride; only when the mismatch appears at every one is it reported, as a
warning whose message names the stride its numbers are for. The stride itself stays unknown.
An unknown boolean parameter (`letterbox(..., auto=pt)`) is treated alike: a rule may compare each
setting and must say which one its finding is about.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Optional

from portlint.analysis.context import PairContext
from portlint.analysis.unknowns import STRIDE, flag_name
from portlint.analysis.values import sym_vars

# strides of real detection backbones: P5 (YOLOv5/v7/v9 ...) and P6 (-P6, 1280 models) heads
CANDIDATE_STRIDES = (32, 64)


@dataclass
class AssumingContext(PairContext):
    """A PairContext whose sample environments also give the named unknowns stated values."""

    assumed: dict = field(default_factory=dict)

    def env(self, h: int, w: int) -> dict:
        env = super().env(h, w)
        env.update(self.assumed)
        return env


def assuming(ctx) -> bool:
    return isinstance(ctx, AssumingContext)


def needs_stride(values: Iterable) -> bool:
    return any(STRIDE in sym_vars(v) for v in values)


def with_flags(ctx: PairContext, flags: dict) -> AssumingContext:
    """`ctx`, with the named unknowns in `flags` given the stated values."""
    assumed = {**getattr(ctx, "assumed", {}), **flags}
    return AssumingContext(input_shape=ctx.input_shape, bmodel=ctx.bmodel, options=ctx.options,
                           strict=ctx.strict, assumed=assumed)


def with_stride(ctx: PairContext, stride: int, flags: Optional[dict] = None) -> AssumingContext:
    return with_flags(ctx, {**(flags or {}), STRIDE: stride})


MAX_FLAGS = 3


def flag_settings(values: Iterable) -> list[dict]:
    """Each setting of the unknown boolean parameters the values depend on (analysis/unknowns.py
    `flag_condition`), the flags set first; [{}] when there are none, [] when too many."""
    names = sorted({v for x in values for v in sym_vars(x) if flag_name(v) is not None})
    if len(names) > MAX_FLAGS:
        return []
    return [dict(zip(names, bits)) for bits in itertools.product((True, False), repeat=len(names))]


def describe_flags(flags: dict) -> str:
    """`auto` true: how a finding says which setting of an unknown flag it is about."""
    if not flags:
        return ""
    parts = ", ".join(f"`{flag_name(k)}` {'true' if v else 'false'}" for k, v in flags.items())
    return f"with {parts} (a parameter whose argument is not known statically)"


def at_candidate_strides(ctx, values: Iterable, run: Callable[[PairContext], list]) -> list:
    """`run`'s findings at the first candidate stride, if it finds a mismatch at every candidate
    (and the values compared depend on the stride); their message says what was assumed."""
    if assuming(ctx) or not needs_stride(list(values)):
        return []
    per_stride = [run(with_stride(ctx, s)) for s in CANDIDATE_STRIDES]
    if not all(per_stride):
        return []
    first, others = CANDIDATE_STRIDES[0], ", ".join(str(s) for s in CANDIDATE_STRIDES[1:])
    note = (f" [numbers for a model stride of {first}; the stride is read from the weights and not known "
            f"statically: at stride {others} the programs differ too]")
    return [replace(f, message=f.message + note, severity="warning", fix=None) for f in per_stride[0]]
