"""PL103's sweep of keep-ratio sizes (rules/size_sweep.py, analysis/sweep.py): the vectorised
evaluation agrees with the scalar one, and the counts its documentation and the fixtures state
are what plain Python gives for the same formulas at the same sizes."""

from __future__ import annotations

import time

import numpy as np

from portlint.analysis.sweep import sym_eval_many
from portlint.analysis.values import Sym, sym_eval, var
from portlint.rules.size_sweep import REPORT_FRACTION, grid, sweep

H, W = var("H"), var("W")


def s(op, *args):
    return Sym(op, args)


def _trunc(target):
    """(h, w) = int(h * r), int(w * r) with r = target / max(h, w)."""
    r = s("truediv", target, s("max", H, W))
    return (s("int", s("mul", H, r)), s("int", s("mul", W, r)))


def _rounded(target):
    """(h, w) = int(round(h * r)), ... with r = min(target / h, target / w)."""
    r = s("min", s("truediv", target, H), s("truediv", target, W))
    return (s("int", s("round", s("mul", H, r))), s("int", s("round", s("mul", W, r))))


def _half_up(target):
    """mmcv's _scale_size: int(x * scale + 0.5), scale = min(target / long, target / short)."""
    scale = s("min", s("truediv", target, s("max", H, W)), s("truediv", target, s("min", H, W)))
    return (s("int", s("add", s("mul", H, scale), 0.5)), s("int", s("add", s("mul", W, scale), 0.5)))


def _by_aspect(target):
    """The face demo's spelling of truncation: the free side from the aspect ratio h / w."""
    ratio = s("truediv", H, W)
    tall = s("gt", ratio, 1.0)
    return (s("ifelse", tall, target, s("int", s("mul", target, ratio))),
            s("ifelse", tall, s("int", s("truediv", target, ratio)), target))


def _by_scale(target):
    """The port's spelling: r_w = target / w, r_h = target / h, the free side int(r * side)."""
    r_w, r_h = s("truediv", target, W), s("truediv", target, H)
    wide = s("gt", r_h, r_w)
    return (s("ifelse", wide, s("int", s("mul", r_w, H)), target),
            s("ifelse", wide, target, s("int", s("mul", r_h, W))))


def _plain(pair, h, w):
    return tuple(sym_eval(v, {"H": h, "W": w}) for v in pair)


# the same formulas in plain Python, (h, w) for an image of h x w
def py_trunc(t, h, w):
    r = t / max(h, w)
    return int(h * r), int(w * r)


def py_rounded(t, h, w):
    r = min(t / h, t / w)
    return int(round(h * r)), int(round(w * r))


def py_half_up(t, h, w):
    scale = min(t / max(h, w), t / min(h, w))
    return int(h * scale + 0.5), int(w * scale + 0.5)


def py_by_aspect(t, h, w):
    ratio = h / w
    return (t, int(t / ratio)) if ratio > 1.0 else (int(t * ratio), t)


def py_by_scale(t, h, w):
    r_w, r_h = t / w, t / h
    return (int(r_w * h), t) if r_h > r_w else (t, int(r_h * w))


def _count(a, b, t):
    gw, gh = grid()
    return sum(a(t, h, w) != b(t, h, w) for w, h in zip(gw.astype(int).tolist(), gh.astype(int).tolist()))


def test_vectorised_matches_scalar_evaluation():
    exprs = [*_trunc(1280), *_rounded(640), *_half_up(640), *_by_aspect(640), *_by_scale(640),
             s("floordiv", s("sub", 640, H), 2), s("mod", W, 32), s("ceil", s("truediv", W, 3)),
             s("floor", s("neg", s("truediv", H, 7))), s("abs", s("sub", H, W)),
             s("ifelse", s("and", s("lt", H, W), s("not", s("eq", W, 640))), 1, 0)]
    gw, gh = grid()
    pick = slice(0, None, 97)
    for e in exprs:
        many = sym_eval_many(e, {"H": gh[pick], "W": gw[pick]})
        plain = [sym_eval(e, {"H": int(h), "W": int(w)}) for h, w in zip(gh[pick], gw[pick])]
        assert np.array_equal(many, np.array(plain, dtype=np.float64)), e


def test_division_by_zero_is_unknown_not_a_number():
    many = sym_eval_many(s("truediv", 640, s("sub", H, 300)), {"H": np.array([300.0, 320.0])})
    assert np.isnan(many[0]) and many[1] == 32.0
    assert sym_eval_many(s("round", H, 2), {"H": np.array([1.0])}) is None  # round(x, n): not swept


def test_truncation_vs_rounding_differs_on_half_the_sizes():
    got = sweep(_trunc(1280), _rounded(1280), {})
    assert got.compared == 64240 and got.differing == _count(py_trunc, py_rounded, 1280) == 32199
    assert got.max_diff == 1 and got.reportable()
    h, w = got.size
    assert (h, w) == (592, 802) and got.original == (944, 1280) and got.ported == (945, 1280)
    assert int(592 * (1280 / 802)) == 944 and int(round(592 * (1280 / 802))) == 945


def test_the_sample_sizes_agree_for_trunc_vs_round():
    for h, w in ((480, 640), (640, 480), (1080, 1920), (300, 451)):
        assert _plain(_trunc(1280), h, w) == _plain(_rounded(1280), h, w)
    # the label's example: 800x533 -> 852 vs 853 rows
    assert _plain(_trunc(1280), 533, 800) == (852, 1280) and _plain(_rounded(1280), 533, 800) == (853, 1280)


def test_ties_only_is_not_reported():
    got = sweep(_half_up(640), _rounded(640), {})
    assert got.differing == _count(py_half_up, py_rounded, 640) == 16
    assert got.fraction < REPORT_FRACTION and not got.reportable()
    # every difference is an exact .5 tie rounded to even by round()
    oh, ow = got.original
    assert min(oh, ow) % 2 == 1


def test_same_truncation_spelled_differently_is_not_reported():
    got = sweep(_by_aspect(640), _by_scale(640), {})
    assert got.differing == _count(py_by_aspect, py_by_scale, 640) == 5
    assert not got.reportable()
    # demo truncation vs rounding, the SCRFD opencv port against tools/scrfd.py: half differ
    assert sweep(_by_aspect(640), _rounded(640), {}).differing == _count(py_by_aspect, py_rounded, 640) == 31772


def test_sweep_needs_both_sizes_symbolic():
    assert sweep((640, 640), _rounded(640), {}) is None
    assert sweep(_trunc(640), _trunc(640), {}) is None  # nothing differs


def test_sweep_is_fast():
    a, b = _trunc(1333), _rounded(1333)
    start = time.perf_counter()
    sweep(a, b, {})
    assert time.perf_counter() - start < 0.5


# ----------------------------------------------------------------------------- PL103 on the sizes
def _resize(out):
    from portlint.analysis.ops import Resize

    return Resize(api="cv2.resize", site=None, library="cv2", out=out, in_=(H, W), mode="fixed", order="wh")


def test_pl103_quiet_on_a_tie_at_a_sample_size():
    """Target 638: a 640x480 image scales to 478.5 rows, a tie (round() 478, int(x + 0.5) 479) at
    a sample size; the other sizes agree but for 0.02% of ties, so PL103 says nothing."""
    from portlint.analysis.context import PairContext
    from portlint.rules.pl103_resize_size import compare_pair

    assert _plain(_half_up(638), 480, 640) == (479, 638) and _plain(_rounded(638), 480, 640) == (478, 638)
    assert not sweep(_half_up(638), _rounded(638), {}).reportable()
    assert compare_pair(_resize(_half_up(638)), _resize(_rounded(638)), PairContext()) == []
    found = compare_pair(_resize(_trunc(638)), _resize(_rounded(638)), PairContext())
    assert len(found) == 1 and found[0].severity == "warning"
    assert int(1080 * 638 / 1920) == 358 and round(1080 * 638 / 1920) == 359
    assert "for a 1920x1080 image the original resizes to 638x358, the ported program to 638x359" in found[0].message
    assert "the original truncates (int(x)), the ported program rounds (int(round(x)))" in found[0].message


def test_equal_formulas_built_apart_share_one_sweep_and_others_do_not(monkeypatch):
    """The memo is by value: each pair's interpretation builds its own Sym trees, and the same
    formula swept again must give the same result without evaluating the grid again; a formula
    with another constant, or a constant of another type, is a different formula."""
    import portlint.rules.size_sweep as ss

    calls = []
    real = ss._sweep
    monkeypatch.setattr(ss, "_sweep", lambda *a: calls.append(1) or real(*a))
    ss._MEMO.clear()
    first = sweep(_trunc(1280), _rounded(1280), {})
    again = sweep(_trunc(1280), _rounded(1280), {})  # new trees, equal to the first
    assert again == first and len(calls) == 1
    other = sweep(_trunc(1281), _rounded(1280), {})
    assert len(calls) == 2 and other != first
    sweep(_trunc(1280), _rounded(1280), {"S": 32})  # other variables bound: swept anew
    assert len(calls) == 3


def test_a_formula_sharing_sub_expressions_is_keyed_in_linear_time():
    from portlint.rules.size_sweep import _shape

    e = H
    for _ in range(200):  # 2**200 leaves unfolded
        e = s("add", e, e)
    assert isinstance(_shape(e), int)
