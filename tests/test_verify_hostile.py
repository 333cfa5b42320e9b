"""`verify` on hostile input (issue 14, items 1, 7, 8 and 11): nothing is unpickled (the model
file the original program names is loaded only if it is TorchScript or ONNX), image bombs and
FIFOs are refused before any decoder sees them, and odd model outputs (a size that does not fit,
NaN, inf) are one-line results, never a traceback. Images and models are built here (PIL, zlib,
torch), never downloaded."""

from __future__ import annotations

import json
import os
import pickle
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

from fixture_support import finishes_in_time, run_cli

pytestmark = pytest.mark.slow  # verify needs its extras (torch, torchvision, cv2)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "resnet"
TINY = ROOT / "tests" / "models" / "tiny_cnn.py"


def cli(args, capsys):
    return run_cli([str(a) for a in args], capsys)


def one_line_error(code, out, err) -> str:
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("portlint: error:"), err
    return lines[0]


class _Payload:
    """A pickle that runs code when loaded: it creates `marker`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("img") / "photo.jpg"
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path, quality=90)
    return path


def _verify(photo, *extra):
    return ["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--image", photo, *extra]


# ----------------------------------------------------------------------------- item 1: nothing unpickled

@pytest.mark.parametrize("name", ["model.pt", "model.pth", "weights.npy", "model.bin"])
def test_a_pickle_given_as_model_never_runs(tmp_path, photo, capsys, name):
    marker = tmp_path / "ran"
    evil = tmp_path / name
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    line = one_line_error(*cli(_verify(photo, "--model", evil), capsys))
    assert not marker.exists(), "verify unpickled the file"
    assert name in line and "does not load" in line


def test_a_torch_save_file_is_not_unpickled(tmp_path, photo, capsys):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "ran"
    evil = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1), "x": _Payload(marker)}, evil)  # a zip with a data.pkl
    line = one_line_error(*cli(_verify(photo, "--model", evil), capsys))
    assert not marker.exists() and "torch.save file" in line
    line = one_line_error(*cli(_verify(photo, "--model", f"{TINY}:build_model", "--weights", evil), capsys))
    assert not marker.exists() and "weights_only=True" in line


def _original_loading(tmp_path, name: str) -> Path:
    """The example's original program, loading the model from the literal path `name` (as real
    programs do) instead of a command-line argument."""
    prog = tmp_path / "original.py"
    text = (EXAMPLE / "resnet_torch.py").read_text()
    assert "torch.jit.load(args.model)" in text
    prog.write_text(text.replace("torch.jit.load(args.model)", f"torch.jit.load({name!r})"))
    return prog


def test_the_original_programs_model_path_is_never_unpickled(tmp_path, photo, capsys):
    """A pickle lying where the original program loads its model from is not loaded when no
    --model is given: a note says why and what to give instead."""
    marker = tmp_path / "ran"
    prog = _original_loading(tmp_path, "model.pt")
    (tmp_path / "model.pt").write_bytes(pickle.dumps(_Payload(marker)))
    code, out, err = cli(["verify", prog, EXAMPLE / "resnet_sail.py", "--image", photo, "--input-shape", "1,3,224,224",
                          "--format", "json"], capsys)
    assert "Traceback" not in err and code != 2, err
    assert not marker.exists(), "verify unpickled the file"
    doc = json.loads(out)
    assert doc["model"]["original"] is None
    assert any("model.pt, a pickle file, which verify never unpickles" in n for n in doc["notes"]), doc["notes"]


def test_the_original_programs_torchscript_model_is_still_loaded(tmp_path, photo, capsys, tiny_cnn_exports):
    """A TorchScript export at that path is loaded as before (torch.jit.load unpickles nothing
    arbitrary): only pickles are refused."""
    import shutil

    prog = _original_loading(tmp_path, "model.pt")
    shutil.copy(tiny_cnn_exports.pt, tmp_path / "model.pt")
    code, out, err = cli(["verify", prog, EXAMPLE / "resnet_sail.py", "--image", photo, "--input-shape", "1,3,224,224",
                          "--format", "json"], capsys)
    assert "Traceback" not in err and code != 2, err
    doc = json.loads(out)
    assert doc["model"]["original"] == "torchscript"
    assert any("the path the original program loads" in n for n in doc["notes"]), doc["notes"]


def test_weights_need_a_factory(tmp_path, photo, capsys):
    state = tmp_path / "state.pt"
    state.write_bytes(b"not read")
    line = one_line_error(*cli(_verify(photo, "--weights", state), capsys))
    assert "--weights needs --model module:factory" in line


def test_a_state_dict_with_a_factory_is_loaded_safely(tmp_path, photo, capsys):
    torch = pytest.importorskip("torch")
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_cnn_for_weights", TINY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    state = tmp_path / "state.pt"
    torch.save(mod.build_model().state_dict(), state)
    from portlint.verify.models import load_original

    model = load_original(f"{TINY}:build_model", str(state))
    assert model.kind == "module"
    x = np.zeros((1, 3, 224, 224), np.float32)
    assert list(model.run(x).values())[0].shape[0] == 1


# ----------------------------------------------------------------------------- item 7: image bombs

def _png(path: Path, width: int, height: int, bit_depth: int = 8, colour: int = 2, rows: bool = True) -> Path:
    """A PNG built chunk by chunk: with `rows`, a valid (all zero) image, compressed as it is
    generated (a 20000x20000 1-bit image is ~50 KB); without, the header alone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    channels = {0: 1, 2: 3, 6: 4}[colour]
    row = b"\0" + b"\0" * ((width * channels * bit_depth + 7) // 8)
    body = b""
    if rows:
        z = zlib.compressobj(9)
        parts = [z.compress(row) for _ in range(height)]
        body = b"".join(parts) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def _huge_jpeg(path: Path, side: int = 65000) -> Path:
    """A small JPEG whose frame header (SOF0) claims side x side pixels."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 60, 30)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, side, side)
    path.write_bytes(bytes(data))
    return path




@pytest.mark.parametrize("bomb", ["png_header", "png_1bit_valid", "jpeg_65000"])
def test_image_bombs_are_refused_before_decoding(tmp_path, capsys, bomb):
    path = {"png_header": lambda: _png(tmp_path / "a.png", 20000, 20000, rows=False),
            "png_1bit_valid": lambda: _png(tmp_path / "b.png", 20000, 20000, bit_depth=1, colour=0),
            "jpeg_65000": lambda: _huge_jpeg(tmp_path / "c.jpg")}[bomb]()
    assert path.stat().st_size < 200_000
    line = one_line_error(*finishes_in_time(lambda: cli(["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py",
                                                  "--image", path], capsys)))
    assert "image too large" in line and path.name in line


def test_a_fifo_named_jpg_is_refused(tmp_path, capsys):
    fifo = tmp_path / "cam.jpg"
    os.mkfifo(fifo)
    line = one_line_error(*finishes_in_time(lambda: cli(["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py",
                                                  "--image", fifo], capsys)))
    assert "not a regular file" in line


def test_decoder_warnings_do_not_reach_stderr(tmp_path, photo, capfd):
    """A truncated JPEG decodes with a libjpeg warning printed straight to descriptor 2."""
    from portlint.verify.images import decode_cv2

    cut = tmp_path / "cut.jpg"
    data = photo.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    notes: list = []
    import cv2

    arr = decode_cv2(str(cut), cv2.IMREAD_COLOR, notes=notes)
    captured = capfd.readouterr()
    assert arr is not None
    assert "Corrupt" not in captured.err and "Premature" not in captured.err and "WARN" not in captured.err
    assert notes and "decoder warning" in notes[0]


# ----------------------------------------------------------------------------- item 8: odd outputs

class _Dump:
    def __init__(self, tmp_path, photo, outputs: np.ndarray, bmodel_shape, model):
        torch = pytest.importorskip("torch")
        from models.synthetic_bmodel import write_bmodel
        from portlint.verify.models import as_sail_input
        from portlint.verify.run import Session, VerifyOptions
        from portlint.verify.values import to_numpy

        self.pt = tmp_path / "m.pt"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.trace(model, torch.zeros(1, 3, 224, 224)).save(str(self.pt))
        self.bmodel = write_bmodel(tmp_path / "m.bmodel", [{"name": "m", "stages": [{
            "inputs": [{"name": "input", "shapes": [(1, 3, 224, 224)], "dtype": "float32"}],
            "outputs": [{"name": "out_Add", "shapes": [bmodel_shape], "dtype": "float32"}]}]}])
        session = Session(VerifyOptions(str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                                        bmodel=str(self.bmodel)))
        _, ported = session.replay(str(photo))
        x, _ = as_sail_input(to_numpy(ported[-1].value.data), "float32")
        self.dir = tmp_path / "dump"
        self.dir.mkdir()
        x.tofile(self.dir / "input_ref_data.dat.bmrt")
        outputs.astype(np.float32).tofile(self.dir / "output_ref_data.dat.bmrt")

    def args(self, photo):
        return ["verify", EXAMPLE / "resnet_torch.py", EXAMPLE / "resnet_sail.py", "--image", photo, "--model", self.pt,
                "--bmodel", self.bmodel, "--bmrt-dir", self.dir, "--format", "json"]


def _boxes_model():
    import torch

    class Det(torch.nn.Module):
        def forward(self, x):
            base = torch.tensor([[10., 10, 60, 60, 0.9, 1], [100, 100, 150, 170, 0.8, 2]])
            return base[None] + x.mean() * 0

    return Det()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_outputs_are_a_result_not_a_traceback(tmp_path, photo, capsys, bad):
    dets = np.array([[[10., 10, 60, 60, 0.9, 1], [100, 100, 150, 170, 0.8, bad]]])
    dump = _Dump(tmp_path, photo, dets, (1, 2, 6), _boxes_model())
    code, out, err = cli(dump.args(photo), capsys)
    assert code == 1 and "Traceback" not in err, err
    doc = json.loads(out)  # strict JSON: no NaN or Infinity tokens
    json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    stages = {s["name"]: s for s in doc["stages"]}
    assert not stages["output"]["aligned"]


def test_an_output_of_another_size_is_a_result_not_a_traceback(tmp_path, photo, capsys):
    """The bmodel's output holds 3 boxes where the original model gives 2: `cannot reshape`."""
    dets = np.zeros((1, 3, 6))
    dump = _Dump(tmp_path, photo, dets, (1, 3, 6), _boxes_model())
    code, out, err = cli(dump.args(photo), capsys)
    assert code == 1 and "Traceback" not in err, err
    stages = {s["name"]: s for s in json.loads(out)["stages"]}
    assert not stages["output"]["aligned"]
