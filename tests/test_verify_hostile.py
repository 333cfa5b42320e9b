"""`verify` on hostile input (issue 14, item 1): nothing is unpickled (the model file the
original program names is loaded only if it is TorchScript or ONNX). Images and models are
built here (PIL, torch), never downloaded."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from fixture_support import run_cli

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
