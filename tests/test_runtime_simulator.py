"""The FP32 bmodel on tpu-mlir's simulator vs onnxruntime, and BMRT_SAVE_IO_TENSORS files."""

from __future__ import annotations

import numpy as np
import pytest

from portlint.bmodel import read_bmodel, read_bmrt_dat
from portlint.errors import PortlintError, SourceError
from portlint.runtime.simulator import match_output_names, run_bmodel


def test_match_output_names():
    assert match_output_names(["logits_Gemm"], ["logits"]) == {"logits_Gemm": "logits"}
    assert match_output_names(["out_1_Sigmoid", "out_Conv"], ["out", "out_1"]) == {
        "out_1_Sigmoid": "out_1", "out_Conv": "out"}
    assert match_output_names(["boxes", "scores_Softmax"], ["scores", "boxes"]) == {
        "boxes": "boxes", "scores_Softmax": "scores"}
    assert match_output_names(["350_Conv", "xyz"], ["350", "other"]) == {"350_Conv": "350", "xyz": "other"}
    assert match_output_names(["a_Conv", "b_Conv"], ["c"]) == {}


def test_missing_venv_says_how_to_install(tmp_path):
    (tmp_path / "m.bmodel").write_bytes(b"x")
    with pytest.raises(PortlintError, match="portlint runtime install"):
        run_bmodel(tmp_path / "m.bmodel", {"input": np.zeros(1)}, venv=tmp_path / "no-venv")


@pytest.mark.slow
def test_simulator_matches_onnxruntime(tiny_cnn_artifacts):
    ort = pytest.importorskip("onnxruntime")
    from models.tiny_cnn import sample_input

    x = sample_input(0)
    out = run_bmodel(tiny_cnn_artifacts.bmodel, {"input": x})
    assert list(out) == ["logits_Gemm"]
    ref = ort.InferenceSession(str(tiny_cnn_artifacts.onnx)).run(None, {"input": x})
    mapping = match_output_names(out, ["logits"])
    assert mapping == {"logits_Gemm": "logits"}
    assert out["logits_Gemm"].shape == (1, 16) and out["logits_Gemm"].dtype == np.float32
    assert np.abs(out["logits_Gemm"] - ref[0]).max() < 1e-4


@pytest.mark.slow
def test_save_io_tensors_read_back(tiny_cnn_artifacts, tmp_path):
    from models.tiny_cnn import sample_input

    x = sample_input(1)
    out = run_bmodel(tiny_cnn_artifacts.bmodel, {"input": x}, save_io_tensors_dir=tmp_path / "io")
    net = read_bmodel(tiny_cnn_artifacts.bmodel).networks[0]
    [xin] = read_bmrt_dat(tmp_path / "io" / "input_ref_data.dat.bmrt", [t.shape for t in net.inputs])
    outs = read_bmrt_dat(tmp_path / "io" / "output_ref_data.dat.bmrt", [t.shape for t in net.outputs])
    assert np.array_equal(xin, x)
    assert [o.shape for o in outs] == [v.shape for v in out.values()]
    for got, want in zip(outs, out.values()):
        assert np.array_equal(got, want)
    with pytest.raises(SourceError, match=r"expected \d+ bytes .* file has 64 bytes"):
        read_bmrt_dat(tmp_path / "io" / "output_ref_data.dat.bmrt", [(1, 32)])


@pytest.mark.slow
def test_wrong_input_is_one_line_error(tiny_cnn_artifacts):
    with pytest.raises(PortlintError, match=r"shape \[1, 3, 100, 100\] does not match the bmodel's \[1, 3, 224, 224\]"):
        run_bmodel(tiny_cnn_artifacts.bmodel, {"input": np.zeros((1, 3, 100, 100), np.float32)})
    with pytest.raises(PortlintError, match="no array for input"):
        run_bmodel(tiny_cnn_artifacts.bmodel, {"a": np.zeros(1), "b": np.zeros(1)})


@pytest.mark.slow
def test_run_bmodel_picks_a_backend(tiny_cnn_artifacts):
    from models.tiny_cnn import sample_input
    from portlint.runtime import run_bmodel as run_any

    out, label = run_any(tiny_cnn_artifacts.bmodel, {"input": sample_input(0)}, backend="simulator")
    assert label == "bmodel:simulator" and list(out) == ["logits_Gemm"]
    with pytest.raises(PortlintError, match="unknown bmodel backend"):
        run_any(tiny_cnn_artifacts.bmodel, {}, backend="gpu")
