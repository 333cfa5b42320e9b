"""The model's stride as a named unknown (analysis/unknowns.py) and rules that compare sizes at
the candidate strides (rules/assumed.py): the structure of a stride-derived size is kept, its
value never guessed."""

from __future__ import annotations

import math


from portlint.analysis.context import PairContext
from portlint.analysis.unknowns import STRIDE, named_attribute
from portlint.analysis.values import UNKNOWN, Sym, sym_eval, sym_vars, var
from portlint.rules.assumed import CANDIDATE_STRIDES, at_candidate_strides, needs_stride
from portlint.rules.base import RuleMeta

RULE = RuleMeta("PL999", "resize-size", "error", (), "test rule")


def test_unknown_stride_attribute_is_a_named_symbol_other_unknowns_stay_unknown():
    assert named_attribute("stride", UNKNOWN) == var(STRIDE)
    assert named_attribute("names", UNKNOWN) is UNKNOWN
    assert named_attribute("stride", 32) == 32  # a known stride is kept as it is


def test_stride_symbol_is_never_given_a_value_by_the_plain_context():
    size = Sym("mul", (Sym("ceil", (Sym("truediv", (640, var(STRIDE))),)), var(STRIDE)))
    assert sym_eval(size, PairContext(input_shape=(1, 3, 640, 640)).env(480, 640)) is None
    assert STRIDE in sym_vars(size) and needs_stride([size])


def test_make_divisible_640_is_640_at_each_candidate_stride():
    # check_img_size(640, s) = ceil(640 / s) * s
    assert all(math.ceil(640 / s) * s == 640 for s in CANDIDATE_STRIDES)


def test_truncation_and_rounding_differ_for_chelsea_at_640():
    r = 640 / 451
    assert (int(451 * r), int(300 * r)) == (640, 425)
    assert (int(round(451 * r)), int(round(300 * r))) == (640, 426)


def _finding(ctx):
    return [RULE.finding(f"stride {ctx.env(1, 1)[STRIDE]}", None, None)]


def test_reported_only_when_every_candidate_stride_differs_and_says_so():
    values = (var(STRIDE),)
    found = at_candidate_strides(PairContext(), values, _finding)
    assert len(found) == 1 and found[0].severity == "warning"
    assert found[0].message.startswith(f"stride {CANDIDATE_STRIDES[0]}") and "not known statically" in found[0].message
    only_first = at_candidate_strides(PairContext(), values,
                                      lambda c: _finding(c) if c.env(1, 1)[STRIDE] == CANDIDATE_STRIDES[0] else [])
    assert only_first == []


def test_nothing_assumed_when_the_values_do_not_depend_on_the_stride():
    assert at_candidate_strides(PairContext(), (Sym("mul", (var("W"), 2)),), _finding) == []
