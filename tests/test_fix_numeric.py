"""The fixes are right in numbers, not only in text: each rewritten expression is evaluated
here with the real libraries and compared with what the original program computes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fixture_support import FIXTURES, run_cli

torch = pytest.importorskip("torch")
T = pytest.importorskip("torchvision.transforms")
Image = pytest.importorskip("PIL.Image")
cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _original_input(rgb: np.ndarray, size=(224, 224)) -> np.ndarray:
    tf = T.Compose([T.Resize(size), T.ToTensor(), T.Normalize(MEAN, STD)])
    return tf(Image.fromarray(rgb)).numpy()


def _fix_edits(case: str, capsys, code: str):
    spec = json.loads((FIXTURES / case / "expected.json").read_text())
    rc, out, err = run_cli(["check", str(FIXTURES / case / "original.py"), str(FIXTURES / case / "ported.py"),
                            "--format", "json", *spec.get("args", [])], capsys)
    assert rc == 1, err
    from portlint.checker import CheckOptions, run_check

    report = run_check(CheckOptions.from_cli(original=str(FIXTURES / case / "original.py"),
                                             ported=str(FIXTURES / case / "ported.py")))
    fixes = [f.fix for f in report.findings if f.code == code and f.fix]
    assert fixes, report.findings
    return fixes[0]


def test_antialias_fix_equals_torchvision_resize_on_pil():
    rgb = skdata.chelsea()
    reference = np.asarray(T.Resize((224, 224))(Image.fromarray(rgb)))
    fixed = np.asarray(Image.fromarray(rgb).resize((224, 224), Image.BILINEAR))  # the PL101 fix's expression
    before = cv2.resize(rgb, (224, 224))
    assert np.abs(fixed.astype(int) - reference).max() == 0
    assert np.abs(before.astype(int) - reference).max() >= 20  # the gap the finding reports (27 on chelsea)


def test_numpy_normalize_fix_matches_torchvision(capsys):
    fix = _fix_edits("PL107/normalize_mean_in_bgr_order", capsys, "PL107")
    expr = fix.edits[0].replacement
    rgb = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    value = eval(expr, {"np": np, "img": rgb.astype(np.float32)})  # noqa: S307 - our own generated expression
    reference = T.Normalize(MEAN, STD)(T.ToTensor()(rgb)).numpy().transpose(1, 2, 0)
    assert np.abs(value - reference).max() < 1e-5


def test_convert_to_fix_matches_torchvision(capsys):
    fix = _fix_edits("PL100/normalize_convert_to_wrong_mean", capsys, "PL107")
    pairs = eval(fix.edits[0].replacement.replace("self.input_scale", "1.0"))  # noqa: S307
    if isinstance(pairs[0], float):
        pairs = tuple(zip(pairs[::2], pairs[1::2]))
    planar = np.random.default_rng(1).integers(0, 256, (3, 32, 32), dtype=np.uint8)  # RGB_PLANAR
    # docs/sail.md §1: out[c] = a_c * in[c] + b_c per plane
    out = np.stack([a * planar[c].astype(np.float32) + b for c, (a, b) in enumerate(pairs)])
    reference = T.Normalize(MEAN, STD)(torch.from_numpy(planar).float() / 255).numpy()
    assert np.abs(out - reference).max() < 1e-5


def test_padding_scalar_fix_fills_all_channels():
    img = np.zeros((4, 4, 3), np.uint8)
    before = cv2.copyMakeBorder(img, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=114)
    after = cv2.copyMakeBorder(img, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=(114, 114, 114))
    assert tuple(before[0, 0]) == (114, 0, 0) and tuple(after[0, 0]) == (114, 114, 114)


def test_letterbox_rounding_claim():
    """PL105/PL103 message for int-truncated letterbox on chelsea: 426 vs 425 rows, pads 107/107 vs 107/108."""
    h, w = skdata.chelsea().shape[:2]
    r = min(640 / h, 640 / w)
    rounded, truncated = int(round(h * r)), int(h * r)
    assert (rounded, truncated) == (426, 425)
    dh = (640 - rounded) / 2
    assert (int(round(dh - 0.1)), int(round(dh + 0.1))) == (107, 107)
    top = int((640 - truncated) / 2)
    assert (top, 640 - truncated - top) == (107, 108)


def test_shorter_side_center_crop_helper_equals_torchvision():
    """The helper PL103's fix inserts equals T.Resize(256) + T.CenterCrop(224) on PIL, pixel for pixel."""
    from portlint.rules.pl103_resize_size import HELPER as _HELPER

    namespace = {"np": np, "Image": Image}
    exec(_HELPER.format(name="helper"), namespace)  # noqa: S102 - portlint's own generated code
    for rgb in (skdata.chelsea(), skdata.coffee(), skdata.astronaut()):
        reference = np.asarray(T.Compose([T.Resize(256), T.CenterCrop(224)])(Image.fromarray(rgb)))
        got = namespace["helper"](rgb, 256, (224, 224))
        assert got.shape == reference.shape
        assert np.abs(got.astype(int) - reference).max() == 0
