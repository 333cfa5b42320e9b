"""portlint verify: the numpy SAIL emulation, the comparison and the stage selection (fast),
replay of every analyser fixture on a real photo (slow: cv2, PIL, torchvision), CLI errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from portlint.verify import sail_emu
from portlint.verify.compare import Tolerances, judge, metrics, pick
from portlint.verify.values import V, Snapshot, canonical, identity

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLE = ROOT / "examples" / "resnet"


# ----------------------------------------------------------------------------- SAIL emulation
def test_nearest_is_floor_of_dst_times_in_over_out():
    idx = sail_emu.nearest_indices(451, 224)
    assert idx.tolist() == [(d * 451) // 224 for d in range(224)]
    assert sail_emu.nearest_indices(3, 6).tolist() == [0, 0, 1, 1, 2, 2]


def test_resize_nearest_planar_and_packed_agree():
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (30, 45, 3), dtype=np.uint8)
    packed = sail_emu.resize(hwc, "HWC", 20, 16, "nearest")
    planar = sail_emu.resize(hwc.transpose(2, 0, 1), "CHW", 20, 16, "nearest")
    assert packed.shape == (20, 16, 3) and planar.shape == (3, 20, 16)
    assert np.array_equal(packed, planar.transpose(1, 2, 0))
    assert packed[5, 7, 1] == hwc[(5 * 30) // 20, (7 * 45) // 16, 1]


def test_convert_to_per_plane_saturates_uint8_not_float():
    x = np.full((3, 2, 2), 200, np.uint8)
    ab = ((2.0, 0.0), (1.0, -250.0), (0.5, 0.4))
    u8 = sail_emu.convert_to(x, "CHW", ab, "uint8")
    assert u8.dtype == np.uint8 and u8[:, 0, 0].tolist() == [255, 0, 100]
    f32 = sail_emu.convert_to(x, "CHW", ab, "float32")
    assert f32.dtype == np.float32 and np.allclose(f32[:, 0, 0], [400, -50, 100.4])


def test_convert_format_reorders_planes_and_packs():
    bgr = np.stack([np.full((2, 3), v, np.uint8) for v in (1, 2, 3)])  # B=1 G=2 R=3 planar
    rgb, layout, ch = sail_emu.convert_format(bgr, "CHW", ("B", "G", "R"), "FORMAT_RGB_PLANAR")
    assert layout == "CHW" and ch == ("R", "G", "B") and rgb[:, 0, 0].tolist() == [3, 2, 1]
    packed, layout, ch = sail_emu.convert_format(bgr, "CHW", ("B", "G", "R"), "FORMAT_BGR_PACKED")
    assert layout == "HWC" and packed.shape == (2, 3, 3) and packed[0, 0].tolist() == [1, 2, 3]


def test_pad_places_image_and_fills_per_channel():
    img = np.ones((2, 3, 3), np.uint8)
    out = sail_emu.pad(img, "HWC", 1, 2, 5, 6, (114, 0, 7))
    assert out.shape == (5, 6, 3)
    assert out[0, 0].tolist() == [114, 0, 7] and out[1, 2].tolist() == [1, 1, 1] and out[2, 4].tolist() == [1, 1, 1]
    assert out[4, 5].tolist() == [114, 0, 7]


# ----------------------------------------------------------------------------- comparison
def test_metrics_and_judge():
    a = np.zeros((4, 4, 3))
    b = a.copy()
    b[0, 0, 0] = 27
    m = metrics(a + 1, b + 1)
    assert m["max"] == 27 and m["mean"] == pytest.approx(27 / 48) and m["cos"] < 1
    row = judge("resize", a, b, 1.0, Tolerances())
    assert not row.aligned and row.message.startswith("resize unaligned! resize_diff_max: 27 (> tolerance 1; ")
    assert row.failed == ["max_abs_diff", "cosine"]  # a is all zeros: cosine 0
    assert judge("resize", a, a, 1.0, Tolerances()).message == "resize aligned."
    bad = judge("resize", a, np.zeros((4, 5, 3)), 1.0, Tolerances())
    assert not bad.aligned and bad.max_abs_diff is None and "shapes differ" in bad.message
    assert metrics(np.zeros(3), np.zeros(3))["cos"] == 1.0


def test_canonical_reorders_by_labels_and_undoes_the_affine():
    rgb = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    bgr_chw = rgb[:, :, ::-1].transpose(2, 0, 1)
    aff = ((1 / 255, -0.5), (1 / 255, -0.25), (1 / 255, 0.0))  # per memory channel B, G, R
    v = V(bgr_chw * np.array([1 / 255] * 3)[:, None, None] + np.array([-0.5, -0.25, 0.0])[:, None, None],
          "CHW", ("B", "G", "R"), aff)
    arr, form = canonical(v, rgb=True, raw=True)
    assert np.allclose(arr, rgb) and form.startswith("HWC, RGB")
    mem, _ = canonical(V(bgr_chw, "CHW", ("B", "G", "R"), identity(3)), rgb=False, raw=True)
    assert np.allclose(mem, rgb[:, :, ::-1])


def _snap(i, stage):
    return Snapshot(i, stage, f"op{i}", None, V(np.zeros(1), None, None, None))


def test_pick_keeps_later_padding_out_of_the_resize_row():
    # letterbox: decode, resize, pad, transpose, [::-1] (colour), /255
    snaps = [_snap(0, "decode"), _snap(1, "resize"), _snap(2, "pad"), _snap(3, "layout"), _snap(4, "colour"),
             _snap(5, "normalize")]
    assert pick(snaps, "decode").index == 0
    assert pick(snaps, "resize").index == 1
    assert pick(snaps, "pad").index == 4
    assert pick(snaps, "normalize").index == 5
    assert pick(snaps, "layout").index == 5


# ----------------------------------------------------------------------------- no heavy imports
def test_check_does_not_import_verify_libraries():
    code = ("import sys; import portlint.cli; from portlint.cli import main\n"
            "heavy = [m for m in ('torch', 'cv2', 'PIL', 'onnxruntime', 'torchvision') if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# ----------------------------------------------------------------------------- CLI errors
def _cli(args, capsys):
    from portlint.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line_error(code, out, err):
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("portlint: error:"), err
    assert "Traceback" not in err
    return lines[0]


def test_missing_image_is_one_line_exit_2(tmp_path, capsys):
    line = _one_line_error(*_cli(["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                                  "--image", str(tmp_path / "nope.jpg")], capsys))
    assert "nope.jpg: no such image file" in line


def test_no_image_option_is_one_line_exit_2(capsys):
    line = _one_line_error(*_cli(["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py")], capsys))
    assert "--image" in line


@pytest.fixture(scope="module")
def chelsea_jpg(tmp_path_factory) -> Path:
    """skimage's chelsea (300x451) saved as a JPEG, the photo docs/facts.md measures on."""
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    path = tmp_path_factory.mktemp("photo") / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(path, quality=90)
    return path


@pytest.mark.slow
def test_missing_model_and_bmodel_are_one_line_exit_2(chelsea_jpg, tmp_path, capsys):
    base = ["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"), "--image", str(chelsea_jpg)]
    line = _one_line_error(*_cli(base + ["--model", str(tmp_path / "m.pt")], capsys))
    assert "m.pt: no such model file" in line
    line = _one_line_error(*_cli(base + ["--bmodel", str(tmp_path / "m.bmodel")], capsys))
    assert "m.bmodel: no such bmodel file" in line
    (tmp_path / "bad.bmodel").write_bytes(b"\0" * 80)
    line = _one_line_error(*_cli(base + ["--bmodel", str(tmp_path / "bad.bmodel")], capsys))
    assert "not a bmodel" in line
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    line = _one_line_error(*_cli(["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                                  "--image", str(tmp_path / "bad.jpg")], capsys))
    assert "bad.jpg" in line
    line = _one_line_error(*_cli(base + ["--bmrt-dir", str(tmp_path)], capsys))
    assert "--bmrt-dir needs --bmodel" in line
    line = _one_line_error(*_cli(base + ["--model", "no_such_module_xyz:build"], capsys))
    assert "cannot import no_such_module_xyz" in line


# ----------------------------------------------------------------------------- fixtures replayed
# first divergence expected on chelsea for each analyser fixture, keyed <CODE>/<case> (None: every
# stage aligned); the static findings say which stage is wrong, the replay must agree on a real photo.
EXPECTED_DIVERGENCE = {
    "PL107/aligned_bmcv_convert_to": None,
    "PL105/aligned_bmcv_letterbox_rounded_linear": None,
    "PL104/aligned_centre_crop_by_hand": None,
    "PL102/aligned_cv2_area": None,
    "PL106/aligned_numpy_comprehension_reverse_transpose": None,
    "PL108/aligned_plain_numpy": None,
    "PL103/aligned_wh_order": None,
    "PL105/padding_aligned_letterbox": None,
    "PL101/blob_from_image_no_swap": "colour",
    "PL100/channel_order_bmcv_bgr_planar": "colour",
    "PL106/channel_order_missing_cvtcolor": "colour",
    "PL104/crop_top_left_instead_of_centre": "crop",
    "PL107/dtype_uint8_fed": "normalize",
    "PL108/layout_hwc_fed": "layout",
    "PL107/normalize_mean_in_bgr_order": "normalize",
    "PL107/normalize_missing_div255": "normalize",
    "PL105/padding_top_left_canvas": "pad",
    "PL105/padding_value_zero": "pad",
    "PL105/padding_scalar_value_fills_one_channel": "pad",
    "PL103/padding_int_truncated_scale": "resize",
    "PL102/padding_bmcv_int_truncated_nearest": "resize",
    "PL101/resize_antialias_cv2_self_attrs": "resize",
    "PL100/resize_antialias_bmcv_default_nearest": "resize",
    "PL102/resize_interpolation_cv2_area_vs_linear": "resize",
    "PL101/resize_functional_bicubic": "resize",
    "PL103/resize_size_wh_swapped": "resize",
    "PL101/resize_size_shorter_side_crop": "resize",
}


def _shape_args(case: Path) -> list[str]:
    spec = json.loads((case / "expected.json").read_text())
    args = spec.get("args", [])
    if "--input-shape" in args:
        return ["--input-shape", args[args.index("--input-shape") + 1]]
    return ["--input-shape", "1,3,224,224"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED_DIVERGENCE))
def test_fixture_pairs_replay_and_diverge_where_the_analyser_says(name, chelsea_jpg, capsys):
    case = FIXTURES / name
    assert case.is_dir(), f"fixture {name} listed in EXPECTED_DIVERGENCE is missing"
    code, out, err = _cli(["verify", str(case / "original.py"), str(case / "ported.py"), "--image", str(chelsea_jpg),
                           "--format", "json", *_shape_args(case)], capsys)
    assert code in (0, 1), err
    data = json.loads(out)
    assert data["first_divergence"] == EXPECTED_DIVERGENCE[name], [
        (s["name"], s["aligned"], s["max_abs_diff"]) for s in data["stages"]]
    assert (code == 0) == (EXPECTED_DIVERGENCE[name] is None)
    names = [s["name"] for s in data["stages"]]
    assert names[0] == "decode" and names[-1] == "input"
    if "bmcv" in name:
        assert any(s["emulated"] for s in data["stages"])


# ----------------------------------------------------------------------------- post-processing
def test_classify_topk_and_agreement():
    from portlint.verify.post import compare_classify, detect_task

    o = np.array([[0.1, 3.0, 2.0, -1.0]], np.float32)
    p = o + np.array([[0, 0, 1.5, 0]], np.float32)
    assert detect_task({"logits": o}) == "classify"
    r = compare_classify(o, o.copy(), k=3)
    assert r["aligned"] and r["original"] == [1] and r["top_k"]["original"][0][0] == [1, 3.0]
    r = compare_classify(o, p, k=3)
    assert not r["aligned"] and r["ported"] == [2] and r["max_score_diff"] == pytest.approx(1.5)


def test_detect_boxes_matched_by_iou():
    from portlint.verify.post import compare_detect, detect_task, iou, match_boxes

    assert np.allclose(iou(np.array([[0, 0, 2, 2.]]), np.array([[1, 0, 3, 2.]])), 1 / 3)  # no +1 (docs/facts.md i)
    o = np.array([[[10, 10, 50, 50, 0.9, 1], [60, 60, 90, 100, 0.8, 2], [0, 0, 0, 0, 0, 0]]], np.float32)
    assert detect_task({"det": o}) == "detect"
    same = compare_detect(o, o + np.array([0.5, 0, 0, 0, 0, 0], np.float32))
    assert same["aligned"] and same["matching"][0]["matched"] == 2 and same["matching"][0]["min_iou"] > 0.9
    moved = o.copy()
    moved[0, 1, :4] = [200, 200, 230, 240]
    r = compare_detect(o, moved)
    assert not r["aligned"] and r["matching"][0]["unmatched_original"] == 1 == r["matching"][0]["unmatched_ported"]
    other_class = o.copy()
    other_class[0, 0, 5] = 3
    assert match_boxes(o[0, :2], other_class[0, :2])["matched"] == 1


@pytest.mark.slow
def test_detect_decodes_a_yolo_head_with_nms():
    from portlint.verify.post import compare_detect, decode_boxes

    head = np.zeros((1, 4, 7), np.float32)  # cx cy w h obj cls0 cls1
    head[0, 0] = [50, 50, 20, 20, 0.9, 0.1, 0.9]
    head[0, 1] = [51, 50, 20, 20, 0.8, 0.1, 0.9]  # suppressed by NMS (same class, IoU > 0.45)
    head[0, 2] = [150, 50, 20, 20, 0.9, 0.9, 0.1]
    head[0, 3] = [10, 10, 5, 5, 0.1, 0.5, 0.5]  # below the confidence threshold
    [boxes] = decode_boxes(head)
    assert boxes.shape == (2, 6) and boxes[0, :4].tolist() == [40, 40, 60, 60] and boxes[0, 5] == 1
    assert compare_detect(head, head)["aligned"]


# ----------------------------------------------------------------------------- fix --verify policy
def test_fix_is_kept_unless_it_makes_the_port_diverge_more():
    from portlint.verify.fixverify import Measure, worse

    agree = {"task": "classify", "aligned": True, "original": [1], "ported": [1]}
    disagree = {"task": "classify", "aligned": False, "original": [1], "ported": [2]}
    before = Measure(0.49, "resize", disagree)
    assert worse(Measure(0.0, None, agree), before) is None
    assert worse(Measure(0.49, "resize", disagree), before) is None  # no change (e.g. EXIF on a plain JPEG)
    assert worse(Measure(0.7, "resize", agree), before) == "the model inputs differ more"
    assert worse(Measure(0.1, "resize", disagree), Measure(0.2, "resize", agree)) == "the predictions no longer agree"
    assert worse(Measure(None, "layout", agree), before) == "the model inputs differ more"
    assert worse(Measure(0.3, "resize", agree), Measure(None, "layout", disagree)) is None


@pytest.mark.slow
def test_exif_rotated_photo_diverges_at_decode(chelsea_jpg, tmp_path, capsys):
    """PIL's Image.open ignores the EXIF orientation, cv2.imread applies it (docs/facts.md f)."""
    from PIL import Image

    img = Image.open(chelsea_jpg)
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(tmp_path / "rotated.jpg", quality=90, exif=exif)
    code, out, err = _cli(["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                           "--image", str(tmp_path / "rotated.jpg"), "--input-shape", "1,3,224,224", "--format", "json"],
                          capsys)
    data = json.loads(out)
    assert code == 1 and data["first_divergence"] == "decode"
    decode = data["stages"][0]
    assert decode["original"]["shape"] == [300, 451, 3] and decode["ported"]["shape"] == [451, 300, 3]
    assert "shapes differ" in decode["message"]


def test_fix_verify_needs_an_image(capsys):
    line = _one_line_error(*_cli(["fix", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                                  "--verify"], capsys))
    assert "--image" in line


def test_images_folder_errors(tmp_path, capsys):
    base = ["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py")]
    line = _one_line_error(*_cli(base + ["--images", str(tmp_path / "none")], capsys))
    assert "no such directory" in line
    line = _one_line_error(*_cli(base + ["--images", str(tmp_path)], capsys))
    assert "no images" in line
    line = _one_line_error(*_cli(base + ["--image", "a.jpg", "--images", str(tmp_path)], capsys))
    assert "not both" in line


def test_unaligned_says_which_test_failed():
    """issue 15.9: a cosine failure with max|diff| inside tolerance said only 'unaligned'."""
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1e-4, (8, 8, 3))
    b = -a  # tiny values, opposite signs: max|diff| 8e-4 < 1e-3, cosine -1
    row = judge("normalize", a, b, 1e-3, Tolerances())
    assert not row.aligned and row.failed == ["cosine"]
    assert "within tolerance 0.001" in row.message and "failed the cosine test" in row.message
    assert row.to_json()["failed"] == ["cosine"]


def test_euclidean_and_sqnr_as_tpu_mlir_computes_them():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = a + np.array([0.5, -0.5] * 6).reshape(3, 4)
    m = metrics(a, b)
    ed, sr = np.sqrt(np.sum((a - b) ** 2)), np.sqrt(np.sum(((a + b) / 2) ** 2)) + 1e-7
    assert m["euclid"] == pytest.approx(1 - ed / sr)
    noise = a - b
    assert m["sqnr"] == pytest.approx(10 * np.log10(np.sum((a - a.mean()) ** 2) / np.sum((noise - noise.mean()) ** 2)))
    same = judge("input", a, a, 1e-3, Tolerances())
    assert same.euclidean == 1.0 and same.to_json()["sqnr_db"] == "inf"
