"""Post-processing rules (PL201-PL205) where a bmodel decides: output names and their order, the
static input shape and batch. The programs are the post_* fixture cases; the bmodels are
synthetic (tests/models/synthetic_bmodel.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fixture_support import FIXTURES, run_cli

synthetic = pytest.importorskip("models.synthetic_bmodel", reason="needs the flatbuffers package")

SOPHON_DEMO = Path(os.environ.get("PORTLINT_SOPHON_DEMO", "/work/sophon-demo")) / "sample"  # a checkout, never copied here


def _bmodel(tmp_path: Path, outputs, in_shape=(1, 3, 640, 640), dynamic=False) -> str:
    net = {"name": "net", "stages": [{
        "inputs": [{"name": "images", "shapes": [in_shape], "dtype": "float32"}],
        "outputs": [{"name": n, "shapes": [(1, 100, 4)], "dtype": "float32"} for n in outputs],
        "dynamic": dynamic}]}
    return str(synthetic.write_bmodel(tmp_path / "net.bmodel", [net]))


def _check(case: str, capsys, *args, original="original.py", ported="ported.py"):
    code, out, err = run_cli(["check", str(FIXTURES / case / original), str(FIXTURES / case / ported),
                              "--format", "json", *args], capsys)
    assert code in (0, 1), err
    doc = json.loads(out)
    assert not doc["errors"], doc["errors"]
    return doc["findings"]


def _codes(findings, code):
    return [f for f in findings if f["code"] == code]


# ------------------------------------------------------------------ PL201 output-order
def test_output_order_names_from_bmodel(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["loc", "conf", "landms"])
    found = _codes(_check("PL201/post_output_order_list_values_index", capsys, "--bmodel", bm), "PL201")
    assert len(found) == 1
    msg = found[0]["message"]
    assert "['loc', 'conf', 'landms']" in msg and "['conf', 'landms', 'loc']" in msg
    assert "position 0 is 'conf' instead of 'loc'" in msg


def test_output_order_names_already_sorted_are_aligned(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["output0", "output1", "output2"])
    assert not _codes(_check("PL201/post_output_order_list_values_index", capsys, "--bmodel", bm), "PL201")


def test_output_order_fix_uses_bmodel_names_outside_the_engine_method(tmp_path, capsys):
    """The dict loop sits in the method that calls process: the fix names get_output_names there."""
    bm = _bmodel(tmp_path, ["loc", "conf", "landms"])
    found = _codes(_check("PL201/post_output_order_dict_loop", capsys, "--bmodel", bm), "PL201")
    assert len(found) == 1 and found[0]["fix"]["applicability"] == "safe"


def test_substring_reorder_names_the_collision(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["pred", "mask_pred", "proto"])
    found = _codes(_check("PL201/post_output_order_substring_reorder", capsys, "--bmodel", bm), "PL201")
    assert len(found) == 1
    assert "'pred' matches 'mask_pred'" in found[0]["message"]
    assert found[0]["severity"] == "warning"


def test_substring_reorder_without_collision_is_aligned(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["loc", "conf", "landms"])
    assert not _codes(_check("PL201/post_output_order_substring_reorder", capsys, "--bmodel", bm), "PL201")


def test_single_output_bmodel_is_aligned(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["logits"], in_shape=(1, 3, 224, 224))
    assert not _codes(_check("PL201/post_aligned_output_single", capsys, "--bmodel", bm), "PL201")


# ------------------------------------------------------------------ PL204 / PL205 with a bmodel
def test_dynamic_bmodel_accepts_variable_sizes(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["output0"], dynamic=True)
    assert not _codes(_check("PL204/post_dynamic_port_auto", capsys, "--bmodel", bm), "PL204")


def test_trace_batch_from_bmodel(tmp_path, capsys):
    bm = _bmodel(tmp_path, ["output0"], in_shape=(4, 3, 640, 640))
    found = _codes(_check("PL205/post_trace_aligned", capsys, "--bmodel", bm, original="original"), "PL205")
    assert len(found) == 1
    assert "batch 1 but the bmodel's input has batch 4 (--bmodel 4,3,640,640)" in found[0]["message"]


# ------------------------------------------------------------------ real sophon-demo ports
needs_sophon_demo = pytest.mark.skipif(not SOPHON_DEMO.is_dir(), reason=f"no sophon-demo checkout at {SOPHON_DEMO}")


def _demo(name: str) -> Path:
    return SOPHON_DEMO / name / "python"


@needs_sophon_demo
def test_sophon_demo_yolov5_against_ultralytics_style_val(capsys):
    """The known issues of the YOLOv5 demo: ascending top-k cut, max_det 1000, substring reorder."""
    demo = _demo("YOLOv5")
    code, out, err = run_cli(["check", str(FIXTURES / "PL202" / "post_aligned_yolov5_opencv" / "original.py"), str(demo),
                              "--format", "json"], capsys)
    assert code == 1, err
    doc = json.loads(out)
    assert not doc["errors"]
    post = sorted((f["code"], Path(f["ported"]["path"]).name, f["ported"]["line"]) for f in doc["findings"]
                  if f["code"].startswith("PL2"))
    assert ("PL202", "postprocess_numpy.py", 230) in post  # np.argsort(x[:, 4])[:max_nms]
    # max_det 1000 vs 300: reported where the port defines it (`self.max_det = 1000`), the cut at
    # postprocess_numpy.py:243 in `related`
    assert ("PL202", "yolov5_opencv.py", 47) in post and ("PL202", "yolov5_bmcv.py", 79) in post
    assert ("PL201", "yolov5_bmcv.py", 176) in post  # if n in k
    assert not any(c == "PL201" and name == "yolov5_opencv.py" for c, name, _ in post)  # n == k is aligned


@needs_sophon_demo
def test_sophon_demo_retinaface_outputs_by_shape_are_aligned(capsys):
    demo = _demo("RetinaFace")
    code, out, err = run_cli(["check", str(FIXTURES / "PL201" / "post_aligned_retinaface_by_shape" / "original.py"),
                              str(demo / "retinaface_opencv.py"), "--format", "json"], capsys)
    assert code in (0, 1), err
    doc = json.loads(out)
    assert not _codes(doc["findings"], "PL201")
    nms = _codes(doc["findings"], "PL202")
    assert any("ported 0.3" in f["message"] and "original 0.4" in f["message"] for f in nms)


# ------------------------------------------------------------------ PL206 numbers

@pytest.mark.slow  # torch
def test_box_clip_minus_one_moves_border_boxes_by_one_pixel():
    """rules/PL206.md: clipping to w - 1 (numpy, the port) vs clamping to w (torch, the original)
    differs by exactly 1 px for every coordinate at or past the border, and not at all inside."""
    import numpy as np
    import torch

    w = 640
    x = np.array([-3.0, 0.0, 320.5, 639.0, 639.5, 640.0, 700.0])
    ported = x.clip(0, w - 1)
    original = torch.tensor(x).clamp(0, w).numpy()
    diff = original - ported
    assert np.allclose(diff[x >= w], 1.0)
    assert np.allclose(diff[x <= w - 1], 0.0)
    assert diff[4] == 0.5  # between w - 1 and w: the part past w - 1


def test_unpad_with_the_unrounded_padding_is_half_a_pixel_off():
    """rules/PL105.md: a 427-row image letterboxed to 640 rows is placed at int(round(106.5 - 0.1))
    = 106, and ultralytics' scale_boxes subtracts that integer; the port subtracts 106.5."""
    h0, h1 = 427, 640
    dh = (h1 - h0) / 2
    placed = int(round(dh - 0.1))
    scale_boxes_pad = round((h1 - h0 * 1.0) / 2 - 0.1)
    assert (dh, placed, scale_boxes_pad) == (106.5, 106, 106)
    assert dh - placed == 0.5


@pytest.mark.slow  # torch
def test_mask_threshold_in_logit_space():
    """rules/PL207.md: thresholding probabilities at 0.5 keeps the logits > 0; thresholding the raw
    logits at 0.5 keeps probabilities > 0.6225, and drops the pixels with a logit in (0, 0.5]."""
    import numpy as np
    import torch

    x = torch.linspace(-3, 3, 6001, dtype=torch.float64)
    assert torch.equal(x.sigmoid() > 0.5, x > 0)
    assert torch.equal(x > 0.5, x.sigmoid() > 1 / (1 + np.exp(-0.5)))
    assert round(1 / (1 + np.exp(-0.5)), 4) == 0.6225
    lost = (x.sigmoid() > 0.5) & ~(x > 0.5)
    assert float(x[lost].min()) > 0 and float(x[lost].max()) <= 0.5


def test_symmetric_crop_of_an_asymmetric_letterbox_is_off_by_two_rows():
    """rules/PL104.md: 640x427 letterboxed to 640x640 and upscaled x4: the image spans output rows
    424 .. 2560 - 428, the port's symmetric crop int(106.5 * 4) = 426 keeps 2 border rows."""
    h0, net, scale = 427, 640, 4
    dh = (net - h0) / 2
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    assert (top, bottom) == (106, 107)
    cut = int(dh * scale)
    assert (top * scale, bottom * scale, cut) == (424, 428, 426)
    assert cut - top * scale == 2 and bottom * scale - cut == 2


def test_an_nms_with_its_iou_computed_inline_is_read(tmp_path, capsys):
    """`order = order[np.where(inter / (a + b - inter) <= thr)[0] + 1]`: the IoU test is the inline
    quotient (not `order.size > 0`, whose name is assigned a quotient inside an index), and the `+ 1`
    steps past the kept box (not a +1 on box sizes); a real threshold or size difference is still found."""
    from fixture_support import FIXTURES, run_cli

    case = FIXTURES / "PL207" / "post_mask_unpad_on_proto_grid"
    original, ported = (case / "original.py").read_text(), (case / "ported.py").read_text()
    assert "np.where(inter / (areas[i] + areas[order[1:]] - inter) <= iou_thres)[0] + 1" in ported

    def nms_findings(text):
        (tmp_path / "original.py").write_text(original)
        (tmp_path / "ported.py").write_text(text)
        code, out, err = run_cli(["check", str(tmp_path / "original.py"), str(tmp_path / "ported.py"), "--format",
                                  "json", "--no-cache", "--input-shape", "1,3,640,640"], capsys)
        return [f["message"] for f in json.loads(out)["findings"] if f["code"] == "PL202"]

    assert nms_findings(ported) == []
    looser = ported.replace("'--nms_thresh', type=float, default=0.7", "'--nms_thresh', type=float, default=0.5")
    assert any("ported 0.5" in m and "original 0.7" in m for m in nms_findings(looser))
    widened = ported.replace("- np.maximum(x1[i], x1[order[1:]]))", "- np.maximum(x1[i], x1[order[1:]]) + 1)")
    assert widened != ported and any("+1" in m for m in nms_findings(widened))


@pytest.mark.parametrize("call, kind", [
    ("cv2.resize(gt, (1024, 512))", "interpolating"),  # cv2's default INTER_LINEAR
    ("cv2.resize(gt, (1024, 512), None, 0, 0, cv2.INTER_NEAREST)", "nearest"),  # positional, 6th
    ("cv2.resize(gt, (1024, 512), interpolation=0)", "nearest"),
    ("mmcv.imresize(gt, (1024, 512))", "interpolating"),  # mmcv's default 'bilinear'
    ("mmcv.imresize(gt, (1024, 512), False, 'nearest')", "nearest"),  # positional, 4th
    ("F.interpolate(gt, (512, 1024))", "nearest"),  # torch's default mode
    ("F.interpolate(gt, (512, 1024), None, 'bilinear')", "interpolating"),
    ("cv2.resize(gt, (1024, 512), interpolation=flag)", None),  # computed: unknown
])
def test_label_map_filter_kinds(call, kind):
    import libcst as cst

    from portlint.rules.pl102_label_maps import filter_kind

    assert filter_kind(cst.parse_expression(call)) == kind
