"""A safe post-processing fix makes its stage exact, in numbers (issue 15.3, the PL2xx half of
tests/test_fix_replay.py): each fixture whose check offers a safe fix on its post-processing is
fixed with `portlint fix --apply`, then the original, the port and the fixed port are run end to
end on the same synthetic model outputs (seeded numpy, tests/post_replay.py: no model, nothing
downloaded). The fixed port must give what the original gives (the same boxes, scores and
classes; the same masks; the same output tensors in the same order), and the port before the fix
must not, so the comparison can fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fixture_support import FIXTURES, case_id, copy_case, run_cli, spec
from post_replay import Model, run_program

pytestmark = pytest.mark.slow
pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

H, W = 427, 640  # a landscape photo letterboxed to 640x640 with a fractional padding (106.5)


def _image(folder: Path, size=(H, W), seed: int = 0, high: int = 100) -> Path:
    """A seeded image below 100 grey levels (a blended mask never saturates)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "000000000139.jpg"
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, high, (*size, 3), dtype=np.uint8))
    return path


# ----------------------------------------------------------------------------- synthetic models

def _yolo_head(n: int = 60, seed: int = 1, edge: bool = False) -> np.ndarray:
    """(1, n, 85) rows [cx, cy, w, h, obj, 80 class scores] in the 640x640 letterboxed frame; a
    third of them confident. `edge`: boxes reach past the image borders (clipping matters)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((1, n, 85), np.float32)
    lo, hi = (0, 640) if edge else (200, 440)
    x[0, :, 0] = rng.uniform(lo, hi, n)
    x[0, :, 1] = rng.uniform(106.5 + (0 if edge else 60), 533.5 - (0 if edge else 60), n)
    x[0, :, 2:4] = rng.uniform(20, 160 if edge else 80, (n, 2))
    x[0, :, 4] = np.where(rng.random(n) < 0.35, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.2, n))
    x[0, :, 5:] = rng.uniform(0.0, 0.05, (n, 80))
    x[0, np.arange(n), 5 + rng.integers(0, 80, n)] = rng.uniform(0.5, 1.0, n)
    return x


def _yolov5(edge=False) -> Model:
    return Model(["output0"], [_yolo_head(edge=edge)])


def _yolov5_three_outputs() -> Model:
    """Three outputs named by their ONNX tensors, '6', '16', '26': they sort as '16' < '26' < '6',
    and '6' is a substring of '16' (the `n in k` reorder picks '16' for '6')."""
    return Model(["6", "16", "26"], [_yolo_head(seed=1), _yolo_head(seed=2), _yolo_head(seed=3)])


PRIORS = 400


def _retinaface() -> Model:
    """loc, conf, landms over PRIORS anchors (the priors are written beside the program); the
    names sort as conf < landms < loc, not in model order."""
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 2, (1, PRIORS, 2)).astype(np.float32)
    conf = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return Model(["loc", "conf", "landms"], [rng.normal(0, 0.5, (1, PRIORS, 4)).astype(np.float32),
                                             conf.astype(np.float32),
                                             rng.normal(0, 0.5, (1, PRIORS, 10)).astype(np.float32)])


def _retinaface_priors(cwd: Path) -> None:
    rng = np.random.default_rng(5)
    priors = np.concatenate([rng.uniform(0.05, 0.95, (PRIORS, 2)), rng.uniform(0.02, 0.2, (PRIORS, 2))], 1)
    np.save(cwd / "priors_640.npy", priors.astype(np.float32))


def _yolov8_seg() -> Model:
    """preds (1, 116, 40): boxes, 80 classes, 32 mask coefficients; protos (1, 32, 160, 160)."""
    rng = np.random.default_rng(6)
    n = 40
    preds = np.zeros((1, 116, n), np.float32)
    preds[0, 0], preds[0, 1] = rng.uniform(100, 540, n), rng.uniform(100, 540, n)
    preds[0, 2:4] = rng.uniform(40, 200, (2, n))
    preds[0, 4:84] = rng.uniform(0, 0.1, (80, n))
    preds[0, 4 + rng.integers(0, 80, n), np.arange(n)] = np.where(rng.random(n) < 0.2, rng.uniform(0.6, 1.0, n), 0.1)  # no ties
    preds[0, 84:] = rng.normal(0, 1, (32, n))
    protos = rng.normal(0, 1, (1, 32, 160, 160)).astype(np.float32)
    return Model(["output0", "output1"], [preds, protos])


def _sam() -> Model:
    low_res = np.random.default_rng(7).normal(0, 3, (1, 1, 256, 256)).astype(np.float32)
    return Model(["low_res_masks"], [low_res], input_shape=(1, 3, 1024, 1024),
                 input_names=("image", "point_coords"), single=True)


# ----------------------------------------------------------------------------- what each program gives

def _printed(run) -> list:
    """`name [x1, y1, x2, y2] score cls` lines (or printed arrays) as they are."""
    return run.stdout.splitlines()


def _coco(run, cwd) -> list:
    """(category, bbox, score) of every detection, from either side's JSON file."""
    original = cwd / "predictions.json"
    if original.is_file():
        rows = [(d["category_id"], d["bbox"], d["score"]) for d in json.loads(original.read_text())]
    else:
        data = json.loads((cwd / "yolov5s_opencv_python_result.json").read_text())
        rows = [(b["category_id"], b["bbox"], b["score"]) for image in data for b in image["bboxes"]]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


def _same_value(x: float, y: float, step: float = 0.0) -> bool:
    """Equal as float32: the ports' `float(np.round(v, k))` on a float32 writes the float32 nearest
    the same decimal, which PL203 accepts as aligned. With `step`, a box value may also be one unit
    of its last digit away: the original goes to centre/size and back in float32 before rounding,
    so its corner can sit one float32 step away from the port's, across a rounding boundary."""
    return bool(np.float32(x) == np.float32(y)) or (step > 0 and abs(abs(x - y) - step) < 4e-5)


def _same_coco(a: list, b: list, digits: int = 3) -> bool:
    """The same detections, classes, boxes and scores."""
    if len(a) != len(b) or not a:
        return False
    step = 10.0 ** -digits
    return all(ca == cb and _same_value(sa, sb) and all(_same_value(x, y, step) for x, y in zip(ba, bb))
               for (ca, ba, sa), (cb, bb, sb) in zip(a, b))


def _mask_saved(run) -> np.ndarray:
    """The binary mask(s) a program saved: np.save'd masks, a mask image, or a mask blended onto
    the image (any channel that changed)."""
    for name, arr in sorted(run.saved.items()):
        if name.endswith(".npy"):
            return np.asarray(arr).astype(bool)
        if name == "mask.png":
            return arr > 0
        if name == "result.jpg":
            image = cv2.imread(str(run.image))
            return (arr != image).any(axis=2)
    raise AssertionError(f"nothing saved: {run.error or run.stdout}")


# ----------------------------------------------------------------------------- the cases

RETINA_ORIGINAL = ["--image", "{image}"]
RETINA_PORTED = ["--input_path", "{image}"]
YOLO_ORIGINAL = ["--source", "{folder}"]
YOLO_PORTED = ["--input", "{folder}"]

SQUARE = (640, 640)  # the COCO fixtures' originals write boxes in the model's frame (no scale_boxes):
# a 640x640 image makes that frame the image's, so only the JSON formatting differs
CASES = {
    # case: (model, original argv, ported argv, what is compared[, image size])
    "PL105/post_unpad_fractional": (lambda: _yolov5(edge=False), YOLO_ORIGINAL, YOLO_PORTED, "printed"),
    "PL201/post_output_order_dict_loop": (_retinaface, RETINA_ORIGINAL, RETINA_PORTED, "printed"),
    "PL201/post_output_order_items_loop": (_retinaface, RETINA_ORIGINAL, RETINA_PORTED, "printed"),
    "PL201/post_output_order_list_index_inline": (_retinaface, RETINA_ORIGINAL, RETINA_PORTED, "printed"),
    "PL201/post_output_order_list_values_index": (_retinaface, RETINA_ORIGINAL, RETINA_PORTED, "printed"),
    "PL201/post_output_order_unpack_values": (_retinaface, RETINA_ORIGINAL, RETINA_PORTED, "printed"),
    "PL201/post_output_order_top_level_loop": (_retinaface, RETINA_ORIGINAL, [], "outputs"),
    "PL201/post_output_order_substring_reorder": (_yolov5_three_outputs, YOLO_ORIGINAL, YOLO_PORTED, "coco", SQUARE),
    "PL203/post_coco_decimals": (_yolov5, YOLO_ORIGINAL, YOLO_PORTED, "coco", SQUARE),
    "PL203/post_coco_int_boxes": (_yolov5, YOLO_ORIGINAL, YOLO_PORTED, "coco", SQUARE),
    "PL203/post_coco_unrounded": (_yolov5, YOLO_ORIGINAL, YOLO_PORTED, "coco", SQUARE),
    "PL206/post_box_clip_minus_one": (lambda: _yolov5(edge=True), YOLO_ORIGINAL, YOLO_PORTED, "printed"),
    "PL207/post_mask_threshold_sam": (_sam, RETINA_ORIGINAL, ["--input", "{image}"], "mask"),
}


def _safe_post_fixes(case: Path, capsys) -> set:
    s = spec(case)
    code, out, err = run_cli(["check", str(case / s.get("original", "original.py")),
                              str(case / s.get("ported", "ported.py")), "--format", "json", "--no-cache",
                              *s.get("args", [])], capsys)
    assert code in (0, 1, 3), err
    return {f["code"] for f in json.loads(out)["findings"]
            if f["fix"] and f["fix"]["applicability"] == "safe" and (f["code"] >= "PL2" or case.name.startswith("post_"))}


def test_the_cases_are_every_fixture_with_a_safe_post_processing_fix(capsys):
    """A new safe post fix (or a fix made safe) needs its numeric case here, or, for an evaluation
    script (which this harness does not run), in tests/test_coco_eval_fix_replay.py."""
    from test_coco_eval_fix_replay import CASES as EVAL_SCRIPT_CASES

    found = {case_id(c) for c in sorted(FIXTURES.glob("*/post_*")) if _safe_post_fixes(c, capsys)}
    assert found == set(CASES) | set(EVAL_SCRIPT_CASES)


def _outcome(kind: str, run, cwd: Path):
    if run.error:
        return ("raised", run.error)
    if kind == "printed":
        return _printed(run)
    if kind == "coco":
        return _coco(run, cwd)
    if kind == "outputs":
        g = run.globals
        return [np.asarray(g[name]) for name in ("loc", "conf", "landms")]
    return _mask_saved(run)


def _same(kind: str, a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):  # a program raised
        return False
    if kind == "coco":
        return _same_coco(a, b)
    if kind == "outputs":
        return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))
    if kind == "mask":
        return a.shape == b.shape and not (a != b).any()
    return bool(a) and a == b


def _sam_logits(model) -> np.ndarray:
    """The original's SAM logits at the image's size (F.interpolate, as it does)."""
    import torch
    import torch.nn.functional as F

    return F.interpolate(torch.from_numpy(model.outputs[0]), (H, W), mode="bilinear", align_corners=False)[0, 0].numpy()


def _run_side(program: Path, argv: list, model, cwd: Path, image: Path, kind: str):
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir(parents=True)
    (cwd / "results").mkdir()
    _retinaface_priors(cwd)
    shutil.copy(image, cwd / "face01.jpg")  # the flat script reads its image by a relative name
    run = run_program(program, [a.format(image=image, folder=image.parent) for a in argv], model, cwd)
    run.image = image
    return _outcome(kind, run, cwd)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_safe_post_processing_fix_gives_the_originals_results(name, tmp_path, capsys):
    make_model, o_argv, p_argv, kind, *size = CASES[name]
    case = FIXTURES / name
    s = spec(case)
    original, ported = copy_case(case, tmp_path / "case")
    before_fix = tmp_path / "before"
    shutil.copytree(case, before_fix)
    code, _, err = run_cli(["fix", str(original), str(ported), "--apply", "--no-cache", *s.get("args", [])], capsys)
    assert code in (0, 1), err
    assert ported.read_text() != (case / "ported.py").read_text(), "the safe fix changed nothing"

    image = _image(tmp_path / "images", *size)
    model = make_model()
    want = _run_side(original, o_argv, model, tmp_path / "run-original", image, kind)
    assert not isinstance(want, tuple), f"the original itself fails on the synthetic outputs: {want}"
    if kind in ("printed", "coco"):
        assert len(want) >= 3, want  # enough detections to mean something
    if kind == "mask":
        assert 0.005 < want.mean() < 0.95, want.mean()
    before = _run_side(before_fix / s.get("ported", "ported.py"), p_argv, model, tmp_path / "run-before", image, kind)
    after = _run_side(ported, p_argv, model, tmp_path / "run-fixed", image, kind)
    assert not _same(kind, want, before), "the port already gives the original's results: the case shows nothing"
    if name == "PL207/post_mask_threshold_sam" and not isinstance(after, tuple) and after.shape == want.shape:
        # both sides resize the logits before the cut, torch and cv2 in their own float32 arithmetic:
        # a pixel may differ only where the logit is float noise away from the threshold (0)
        noise = np.abs(_sam_logits(model)) < 1e-4
        assert (want != after).sum() <= noise.sum() and not ((want != after) & ~noise).any(), _diff(kind, want, after)
        return
    assert _same(kind, want, after), f"{name}: the fixed port still differs:\n{_diff(kind, want, after)}"


def test_the_yolov8_seg_logit_threshold_fix_is_unsafe_because_it_is_not_exact(tmp_path, capsys):
    """The original resizes after its sigmoid, the port resizes logits: moving the threshold to logit
    space leaves pixels near the masks' edges different, so the fix is unsafe (rules/PL207.md)."""
    case = FIXTURES / "PL207" / "post_mask_logits_no_sigmoid"
    work = tmp_path / "case"
    shutil.copytree(case, work)
    code, out, err = run_cli(["check", str(work / "original.py"), str(work / "ported.py"), "--format", "json",
                              "--no-cache"], capsys)
    [f] = [f for f in json.loads(out)["findings"] if f["code"] == "PL207"]
    assert f["fix"]["applicability"] == "unsafe" and "not exact" in f["fix"]["description"]
    code, _, err = run_cli(["fix", str(work / "original.py"), str(work / "ported.py"), "--apply", "--no-cache"], capsys)
    assert (work / "ported.py").read_text() == (case / "ported.py").read_text()  # plain fix leaves it
    code, _, err = run_cli(["fix", str(work / "original.py"), str(work / "ported.py"), "--apply", "--unsafe-fixes",
                            "--no-cache"], capsys)
    assert (work / "ported.py").read_text() == (case / "fixed.py").read_text(), err
    image, model = _image(tmp_path / "images"), _yolov8_seg()
    want = _run_side(work / "original.py", YOLO_ORIGINAL, model, tmp_path / "o", image, "mask")
    before = _run_side(case / "ported.py", YOLO_PORTED, model, tmp_path / "b", image, "mask")
    after = _run_side(work / "ported.py", YOLO_PORTED, model, tmp_path / "a", image, "mask")
    assert want.shape == before.shape == after.shape and want.mean() > 0.005
    worse_before, left = int((want != before).sum()), int((want != after).sum())
    assert 0 < left < worse_before, (left, worse_before)  # closer, yet not exact


def _diff(kind, want, got) -> str:
    if isinstance(got, tuple):
        return got[1]
    if kind == "mask":
        return f"{int((want != got).sum()) if want.shape == got.shape else 'shape'} pixels differ of {want.size}"
    if kind == "outputs":
        return str([x.shape for x in got])
    pairs = [(a, b) for a, b in zip(want, got) if a != b][:3]
    return f"{len(want)} vs {len(got)}; first differences: {pairs}"
