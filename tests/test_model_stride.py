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


def _resize_out(tmp_path, program: str):
    import textwrap

    from portlint.analysis import source
    from portlint.analysis.analyze import interpret

    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(program))
    facts = interpret(source.load_side(str(path)), PairContext(strict=True))
    resizes = [op for s in facts.sinks for op in s.img.state.ops if op.stage == "resize"]
    assert resizes, "no resize reached the model"
    return resizes[0].out


def test_list_repetition_of_an_image_size(tmp_path):
    out = _resize_out(tmp_path, """
        import cv2
        import torch

        imgsz = [640]
        imgsz *= 2 if len(imgsz) == 1 else 1
        model = torch.jit.load("m.torchscript")
        im = cv2.resize(cv2.imread("a.jpg"), tuple(imgsz))
        model(torch.from_numpy(im))
    """)
    assert out == (640, 640)


def test_stride_of_a_loaded_checkpoint_flows_into_the_size(tmp_path):
    out = _resize_out(tmp_path, """
        import math
        import cv2
        import torch

        model = torch.load("best.pt")["model"].float()
        s = int(model.stride.max())
        size = math.ceil(640 / s) * s
        im = cv2.imread("a.jpg")
        im = cv2.resize(im, (size, size))
        model(torch.from_numpy(im))
    """)
    assert all(STRIDE in sym_vars(v) for v in out)
    assert [sym_eval(v, {STRIDE: 32}) for v in out] == [640, 640]
    assert [sym_eval(v, {STRIDE: 48}) for v in out] == [672, 672]


def test_if_on_a_boolean_parameter_with_an_unknown_argument_keeps_both_branches(tmp_path):
    from portlint.analysis.unknowns import FLAG_PREFIX

    out = _resize_out(tmp_path, """
        import cv2
        import torch

        def prepare(im, small=False):
            size = 640
            if small:
                size = 320
            return cv2.resize(im, (size, size))

        model = torch.load("best.pt")["model"]
        model(torch.from_numpy(prepare(cv2.imread("a.jpg"), small=model.half_size)))
    """)
    flag = FLAG_PREFIX + "small"
    assert [sym_eval(v, {flag: True}) for v in out] == [320, 320]
    assert [sym_eval(v, {flag: False}) for v in out] == [640, 640]


def test_if_on_an_unknown_non_flag_stays_unknown(tmp_path):
    out = _resize_out(tmp_path, """
        import cv2
        import torch

        model = torch.load("best.pt")["model"]
        size = 640
        if model.half_size:
            size = 320
        model(torch.from_numpy(cv2.resize(cv2.imread("a.jpg"), (size, size))))
    """)
    assert out == (UNKNOWN, UNKNOWN)


def test_letterbox_auto_shapes_at_both_candidate_strides():
    """The numbers the PL204 fixtures expect, from the yolov5 letterbox formula."""
    def auto_shape(h, w, size, stride):
        r = min(size / h, size / w)
        uw, uh = int(round(w * r)), int(round(h * r))
        return uh + (size - uh) % stride, uw + (size - uw) % stride

    assert auto_shape(1080, 1920, 640, 32) == auto_shape(1080, 1920, 640, 64) == (384, 640)
    assert auto_shape(480, 640, 640, 32) == (480, 640) and auto_shape(480, 640, 640, 64) == (512, 640)
    assert auto_shape(300, 451, 640, 32) == (448, 640)
    assert auto_shape(1080, 1920, 1280, 32) == (736, 1280) and auto_shape(1080, 1920, 1280, 64) == (768, 1280)


def test_if_on_a_self_attribute_set_from_a_boolean_constructor_parameter(tmp_path):
    from portlint.analysis.unknowns import FLAG_PREFIX

    out = _resize_out(tmp_path, """
        import cv2
        import torch

        class Shrink:
            def __init__(self, size=640, small=False):
                self.size = size
                self.small = small

            def __call__(self, im):
                size = self.size
                if self.small:
                    size = size // 2
                return cv2.resize(im, (size, size))

        model = torch.load("best.pt")["model"]
        shrink = Shrink(640, small=model.half_size)
        model(torch.from_numpy(shrink(cv2.imread("a.jpg"))))
    """)
    flag = FLAG_PREFIX + "small"
    assert [sym_eval(v, {flag: True}) for v in out] == [320, 320]
    assert [sym_eval(v, {flag: False}) for v in out] == [640, 640]
