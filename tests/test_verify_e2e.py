"""portlint verify end to end on the example pair (examples/resnet) with the seeded tiny CNN
(TorchScript, ONNX and FP32 bmodel built by the session fixtures), the bmodel running in
tpu-mlir's chip simulator, and skimage's chelsea saved as a JPEG: the manual's section 5 run
again. Marked slow: torch, cv2 and the simulator."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "resnet"

# docs/contract.md, "JSON (verify --format json)": these fields are fixed; more may be added.
NUM = {"type": ["number", "null"]}
SPEC = {"type": "object", "required": ["shape", "dtype"],
        "properties": {"shape": {"type": "array", "items": {"type": "integer"}}, "dtype": {"type": ["string", "null"]}}}
CONTRACT_SCHEMA = {
    "type": "object",
    "required": ["version", "stages", "first_divergence", "model", "prediction"],
    "properties": {
        "version": {"const": 1},
        "stages": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "aligned", "max_abs_diff", "mean_abs_diff", "cosine", "original", "ported", "emulated"],
            "properties": {
                "name": {"enum": ["decode", "colour", "resize", "crop", "pad", "normalize", "layout", "input",
                                  "output", "postprocess"]},
                "aligned": {"type": "boolean"}, "max_abs_diff": NUM, "mean_abs_diff": NUM, "cosine": NUM,
                "original": SPEC, "ported": SPEC, "emulated": {"type": "boolean"}}}},
        "first_divergence": {"type": ["string", "null"]},
        "model": {"type": "object", "required": ["original", "ported"],
                  "properties": {"original": {"type": ["string", "null"]}, "ported": {"type": ["string", "null"]}}},
        "prediction": {"type": ["object", "null"], "required": ["aligned", "original", "ported"],
                       "properties": {"aligned": {"type": "boolean"}, "original": {"type": "array"},
                                      "ported": {"type": "array"}}},
    },
}
ORDER = ["decode", "colour", "resize", "crop", "pad", "normalize", "layout", "input", "output", "postprocess"]


def validate_contract(data: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, CONTRACT_SCHEMA)
    names = [s["name"] for s in data["stages"]]
    assert names == sorted(names, key=ORDER.index), "stages must be in pipeline order"
    unaligned = [s["name"] for s in data["stages"] if not s["aligned"]]
    assert data["first_divergence"] == (unaligned[0] if unaligned else None)


def cli(args, capsys):
    from portlint.cli import main

    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    d = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.chelsea()).save(d / "chelsea.jpg", quality=90)
    return d / "chelsea.jpg"


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    d = tmp_path_factory.mktemp("dataset")
    for name in ("chelsea", "astronaut", "coffee"):
        Image.fromarray(getattr(data, name)()).convert("RGB").save(d / f"{name}.jpg", quality=90)
    return d


@pytest.fixture()
def example_copy(tmp_path) -> Path:
    dst = tmp_path / "resnet"
    shutil.copytree(EXAMPLE, dst)
    return dst


def _base(art, photo, folder=EXAMPLE, model=None):
    return ["verify", folder / "resnet_torch.py", folder / "resnet_sail.py", "--image", photo,
            "--model", model or art.pt, "--bmodel", art.bmodel]


@pytest.fixture(scope="module")
def before_json(tiny_cnn_artifacts, photo):
    """verify --format json on the example as shipped (cv2.resize vs T.Resize)."""
    from portlint.cli import main

    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            main([str(a) for a in _base(tiny_cnn_artifacts, photo) + ["--format", "json"]])
        except SystemExit as exc:
            assert exc.code == 1
    return json.loads(buf.getvalue())


def test_before_fix_resize_is_the_first_divergence(before_json):
    d = before_json
    validate_contract(d)
    assert d["first_divergence"] == "resize"
    stages = {s["name"]: s for s in d["stages"]}
    assert stages["decode"]["aligned"] and stages["decode"]["max_abs_diff"] == 0
    assert stages["colour"]["aligned"]
    r = stages["resize"]
    assert not r["aligned"] and 20 <= r["max_abs_diff"] <= 40  # docs/facts.md b: chelsea 27 on the raw photo
    assert r["original"] == {"shape": [224, 224, 3], "dtype": "uint8"} and r["ported"] == r["original"]
    assert "torchvision.transforms.Resize" in r["original_op"] and "cv2.resize" in r["ported_op"]
    assert r["message"].startswith("resize unaligned! resize_diff_max: ")
    assert not stages["input"]["aligned"] and stages["input"]["max_abs_diff"] > 0.1
    assert stages["input"]["original"]["shape"] == [1, 3, 224, 224] == stages["input"]["ported"]["shape"]
    # step 5: the same input into both models agrees within the manual's 1e-3
    out = stages["output"]
    assert out["aligned"] and out["max_abs_diff"] < 1e-3
    assert out["outputs"]["output0"]["runtime_name"] == "logits_Gemm"
    assert stages["postprocess"]["aligned"]
    assert d["model"] == {"original": "torchscript", "ported": "bmodel:simulator"}
    assert d["prediction"]["task"] == "classify" and len(d["prediction"]["original"]) == 1
    assert not d["end_to_end"]["aligned"]
    assert not any(s["emulated"] for s in d["stages"])


def test_before_fix_text_reads_like_the_manual(tiny_cnn_artifacts, photo, capsys):
    code, out, err = cli(_base(tiny_cnn_artifacts, photo), capsys)
    assert code == 1, err
    assert "decode aligned." in out
    assert re.search(r"^resize unaligned! resize_diff_max: \d+ \(> tolerance 1\)$", out, re.M)
    assert re.search(r"^input unaligned! input_diff_max: 0\.\d+", out, re.M)
    assert "output aligned." in out and "first divergence: resize" in out


def test_after_fix_apply_every_stage_aligned(tiny_cnn_artifacts, photo, example_copy, capsys):
    code, out, err = cli(["fix", example_copy / "resnet_torch.py", example_copy / "resnet_sail.py", "--apply"], capsys)
    assert "Fixed 1 finding" in out, (out, err)
    assert "Image.fromarray" in (example_copy / "resnet_sail.py").read_text()
    code, out, err = cli(_base(tiny_cnn_artifacts, photo, example_copy, model=tiny_cnn_artifacts.onnx)
                         + ["--format", "json"], capsys)
    d = json.loads(out)
    validate_contract(d)
    assert code == 0, [(s["name"], s["max_abs_diff"]) for s in d["stages"]]
    assert d["first_divergence"] is None and all(s["aligned"] for s in d["stages"])
    stages = {s["name"]: s for s in d["stages"]}
    assert stages["resize"]["max_abs_diff"] == 0
    assert stages["input"]["max_abs_diff"] < 1e-5
    assert d["model"] == {"original": "onnx", "ported": "bmodel:simulator"}
    assert stages["output"]["outputs"]["logits"]["runtime_name"] == "logits_Gemm"
    assert d["prediction"]["aligned"] and d["end_to_end"]["aligned"]


def test_bmrt_dump_from_the_simulator(tiny_cnn_artifacts, photo, tmp_path, capsys):
    """The manual's steps 3-5 with the files BMRT_SAVE_IO_TENSORS=1 writes (here: the simulator)."""
    from portlint.runtime.simulator import run_bmodel
    from portlint.verify.models import as_sail_input
    from portlint.verify.run import Session, VerifyOptions
    from portlint.verify.values import to_numpy

    session = Session(VerifyOptions(str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                                    bmodel=str(tiny_cnn_artifacts.bmodel)))
    _, ported = session.replay(str(photo))
    x, _ = as_sail_input(to_numpy(ported[-1].value.data), "float32")
    dump = tmp_path / "dump"
    run_bmodel(tiny_cnn_artifacts.bmodel, {"input": x}, save_io_tensors_dir=dump)
    assert (dump / "input_ref_data.dat.bmrt").is_file() and (dump / "output_ref_data.dat.bmrt").is_file()

    code, out, err = cli(_base(tiny_cnn_artifacts, photo) + ["--bmrt-dir", dump, "--format", "json"], capsys)
    assert code == 1, err
    d = json.loads(out)
    validate_contract(d)
    stages = {s["name"]: s for s in d["stages"]}
    assert not stages["input"]["aligned"] and stages["input"]["max_abs_diff"] > 0.1  # step 4
    assert stages["output"]["aligned"] and stages["output"]["max_abs_diff"] < 1e-3  # step 5 on the dumped input
    assert d["model"]["ported"] == "bmodel:dump"
    assert d["bmrt"]["replayed_input_vs_dump"]["aligned"] and d["bmrt"]["replayed_input_vs_dump"]["max_abs_diff"] == 0

    raw = (dump / "output_ref_data.dat.bmrt").read_bytes()
    (dump / "output_ref_data.dat.bmrt").write_bytes(raw[:-4])
    code, out, err = cli(_base(tiny_cnn_artifacts, photo) + ["--bmrt-dir", dump], capsys)
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "output_ref_data.dat.bmrt: size mismatch" in lines[0]


def test_report_folder_has_heatmaps_and_a_self_contained_page(tiny_cnn_artifacts, photo, tmp_path, capsys):
    rep = tmp_path / "report"
    code, out, err = cli(_base(tiny_cnn_artifacts, photo) + ["--report", rep], capsys)
    assert code == 1
    assert "report written to" in err
    from PIL import Image

    heat = Image.open(rep / "heatmap_resize.png")
    assert heat.size == (224, 224) and heat.mode == "RGB"
    assert np.asarray(heat).max() > 0
    assert (rep / "heatmap_decode.png").is_file() and (rep / "heatmap_input.png").is_file()
    page = (rep / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 4
    assert not re.search(r"""src=["'](?!data:)""", page), "the page must not reference external files"
    assert "resize unaligned! resize_diff_max:" in page
    assert json.loads((rep / "report.json").read_text())["first_divergence"] == "resize"


def test_fix_verify_reports_before_and_after(tiny_cnn_artifacts, photo, example_copy, capsys):
    code, out, err = cli(["fix", example_copy / "resnet_torch.py", example_copy / "resnet_sail.py", "--verify",
                          "--image", photo, "--model", tiny_cnn_artifacts.pt, "--bmodel", tiny_cnn_artifacts.bmodel,
                          "--apply"], capsys)
    assert code == 0, err
    m = re.search(r"^PL101 resize-antialias at .*resnet_sail\.py:27: input max\|diff\| ([0-9.e-]+) -> ([0-9.e-]+), "
                  r"first divergence resize -> none, top-1 \[\d+\] vs \[\d+\] -> \[\d+\] vs \[\d+\]: kept$", out, re.M)
    assert m, out
    assert float(m.group(1)) > 0.1 and float(m.group(2)) < 1e-5
    assert "Fixed 1 finding verified on" in out
    assert "Image.fromarray" in (example_copy / "resnet_sail.py").read_text()


def test_module_factory_model(tiny_cnn_artifacts, photo, capsys):
    code, out, err = cli(_base(tiny_cnn_artifacts, photo, model=f"{ROOT / 'tests' / 'models' / 'tiny_cnn.py'}:build_model")
                         + ["--format", "json"], capsys)
    d = json.loads(out)
    assert d["model"]["original"] == "module"
    assert {s["name"]: s for s in d["stages"]}["output"]["aligned"]


def test_dataset_mode_agreement_with_a_process_pool(tiny_cnn_artifacts, photos, tmp_path, capsys):
    code, out, err = cli(["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--images", photos,
                          "--model", tiny_cnn_artifacts.pt, "--bmodel", tiny_cnn_artifacts.bmodel, "--jobs", "2",
                          "--format", "json"], capsys)
    assert code == 1, err
    d = json.loads(out)
    assert d["images"] == 3 and d["errors"] == 0
    assert d["agreement"]["total"] == 3 and 0 <= d["agreement"]["agree"] <= 3
    assert d["first_divergence"] == {"resize": 3}
    assert sorted(Path(r["image"]).name for r in d["per_image"]) == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg"]
    assert "3/3" in err  # the progress bar
    code, out, err = cli(["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--images", photos,
                          "--model", tiny_cnn_artifacts.pt, "--bmodel", tiny_cnn_artifacts.bmodel,
                          "--report", tmp_path / "rep"], capsys)
    assert "prediction agreement:" in out and "first divergence: resize 3" in out
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["images"] == 3


def test_detector_boxes_through_a_bmrt_dump(photo, tmp_path, capsys):
    """A toy detector (boxes that move with the image mean) and a dump as the device would write
    it; in --bmrt-dir mode the bmodel is only read for its shapes, so a synthetic one serves."""
    torch = pytest.importorskip("torch")
    from models.synthetic_bmodel import write_bmodel
    from portlint.verify.models import as_sail_input
    from portlint.verify.run import Session, VerifyOptions
    from portlint.verify.values import to_numpy

    class Det(torch.nn.Module):
        def forward(self, x):
            base = torch.tensor([[10., 10, 60, 60, 0.9, 1], [100, 100, 150, 170, 0.8, 2], [30, 120, 80, 200, 0.7, 0],
                                 [0, 0, 0, 0, 0, 0]])
            shift = x.mean(dim=(1, 2, 3)).view(-1, 1, 1) * torch.tensor([1., 1, 1, 1, 0, 0]) * 5
            return base[None] + shift

    pt = tmp_path / "det.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constants in the trace are intended; trace deprecation notice
        torch.jit.trace(Det(), torch.zeros(1, 3, 224, 224)).save(str(pt))
    bmodel = write_bmodel(tmp_path / "det.bmodel", [{"name": "det", "stages": [{
        "inputs": [{"name": "input", "shapes": [(1, 3, 224, 224)], "dtype": "float32"}],
        "outputs": [{"name": "dets_Add", "shapes": [(1, 4, 6)], "dtype": "float32"}]}]}])
    session = Session(VerifyOptions(str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"), bmodel=str(bmodel)))
    _, ported = session.replay(str(photo))
    x, _ = as_sail_input(to_numpy(ported[-1].value.data), "float32")
    dets = Det()(torch.from_numpy(x)).numpy()
    dump = tmp_path / "dump"
    dump.mkdir()
    x.tofile(dump / "input_ref_data.dat.bmrt")
    dets.tofile(dump / "output_ref_data.dat.bmrt")
    args = ["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--image", photo, "--model", pt,
            "--bmodel", bmodel, "--bmrt-dir", dump, "--format", "json"]
    code, out, err = cli(args, capsys)
    d = json.loads(out)
    validate_contract(d)
    stages = {s["name"]: s for s in d["stages"]}
    assert stages["output"]["aligned"] and stages["output"]["outputs"]["output0"]["runtime_name"] == "dets_Add"
    post = stages["postprocess"]
    assert post["aligned"] and post["task"] == "detect" and post["details"]["matching"][0]["matched"] == 3
    assert d["prediction"]["aligned"] and len(d["prediction"]["original"][0]) == 3  # padding row dropped

    moved = dets.copy()
    moved[0, 1, :4] += 80  # one box lands elsewhere on the "device"
    moved.tofile(dump / "output_ref_data.dat.bmrt")
    code, out, err = cli(args, capsys)
    d = json.loads(out)
    stages = {s["name"]: s for s in d["stages"]}
    assert code == 1 and not stages["output"]["aligned"] and not stages["postprocess"]["aligned"]
    m = stages["postprocess"]["details"]["matching"][0]
    assert m["matched"] == 2 and m["unmatched_original"] == 1 and m["unmatched_ported"] == 1
    assert not d["prediction"]["aligned"]


def test_fix_verify_drops_a_fix_that_makes_things_worse(tiny_cnn_artifacts, photo, example_copy, capsys, monkeypatch):
    """The revert path: a fix judged worse is undone and not written."""
    import portlint.verify.fixverify as fv

    monkeypatch.setattr(fv, "worse", lambda after, before: "judged worse for this test")
    before = (example_copy / "resnet_sail.py").read_text()
    code, out, err = cli(["fix", example_copy / "resnet_torch.py", example_copy / "resnet_sail.py", "--verify",
                          "--image", photo, "--input-shape", "1,3,224,224", "--apply"], capsys)
    assert code == 0, err
    assert re.search(r"^PL101 resize-antialias at .*: input max\|diff\| [0-9.e-]+ -> [0-9.e-]+, .*: "
                     r"dropped \(judged worse for this test\)$", out, re.M), out
    assert "Fixed 0 findings verified on" in out
    assert (example_copy / "resnet_sail.py").read_text() == before
