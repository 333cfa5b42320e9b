"""What verify tells a user (issues 15.7, 15.9, 15.10), on the example pair with the seeded tiny
CNN and its FP32 bmodel in the simulator: a dump from another image is said first in every
format; the top-5; `--save-tensors` files that tpu-mlir's own `npz_tool compare` reads, with the
same similarities; the check finding beside a divergent stage; progress while it runs."""

from __future__ import annotations

import json
import os
import re
import subprocess

import numpy as np
import pytest

from conftest import ROOT, require_tpu_mlir

pytestmark = pytest.mark.slow
EXAMPLE = ROOT / "examples" / "resnet"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    d = tmp_path_factory.mktemp("photos")
    for name in ("chelsea", "coffee"):
        Image.fromarray(getattr(data, name)()).convert("RGB").save(d / f"{name}.jpg", quality=90)
    return d


def _args(art, image, *more):
    return ["verify", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"), "--image", str(image),
            "--model", str(art.pt), "--bmodel", str(art.bmodel), *map(str, more)]


def _cli(args, capsys):
    from fixture_support import run_cli

    return run_cli(args, capsys)


def test_a_dump_from_another_image_is_said_first(tiny_cnn_artifacts, photos, tmp_path, capsys):
    from portlint.runtime.simulator import run_bmodel
    from portlint.verify.models import as_sail_input
    from portlint.verify.run import Session, VerifyOptions
    from portlint.verify.values import to_numpy

    session = Session(VerifyOptions(str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                                    bmodel=str(tiny_cnn_artifacts.bmodel)))
    _, ported = session.replay(str(photos / "coffee.jpg"))  # the dump is coffee's
    x, _ = as_sail_input(to_numpy(ported[-1].value.data), "float32")
    dump = tmp_path / "dump"
    run_bmodel(tiny_cnn_artifacts.bmodel, {"input": x}, save_io_tensors_dir=dump)

    code, out, err = _cli(_args(tiny_cnn_artifacts, photos / "chelsea.jpg", "--bmrt-dir", dump,
                                "--report", tmp_path / "report"), capsys)
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("warning: --bmrt-dir") and "not from this input" in first, out[:500]
    assert "portlint: warning: --bmrt-dir" in err
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body"):]
    warning = body.find('<div class="warning">warning: --bmrt-dir')
    assert 0 <= warning < body.index("First divergence") and "not from this input" in body[warning:warning + 400]
    code, out, _ = _cli(_args(tiny_cnn_artifacts, photos / "chelsea.jpg", "--bmrt-dir", dump, "--format", "json"),
                        capsys)
    doc = json.loads(out)
    assert list(doc)[:2] == ["version", "warnings"] and "not from this input" in doc["warnings"][0]


def test_text_names_the_failed_test_the_finding_and_the_top5(tiny_cnn_artifacts, photos, capsys):
    code, out, _ = _cli(_args(tiny_cnn_artifacts, photos / "chelsea.jpg"), capsys)
    assert code == 1
    assert re.search(r"^resize unaligned! resize_diff_max: \d+ \(> tolerance 1\)$", out, re.M)
    assert "    check: PL101 [resize-antialias] at " in out and "    fix (safe): resize with PIL" in out
    assert re.search(r"^top-5 \(end to end; label score\)$", out, re.M)
    assert re.search(r"^    original  \d+ [\d.]+(, \d+ [\d.]+){4}$", out, re.M)
    assert re.search(r"^    ported    \d+ [\d.]+(, \d+ [\d.]+){4}$", out, re.M)
    header = next(line for line in out.splitlines() if line.startswith("stage "))
    assert "euclid" in header and "sqnr" in header


def test_save_tensors_are_read_by_npz_tool_compare(tiny_cnn_artifacts, photos, tmp_path, capsys):
    venv = require_tpu_mlir()
    folder = tmp_path / "tensors"
    code, out, _ = _cli(_args(tiny_cnn_artifacts, photos / "chelsea.jpg", "--save-tensors", folder,
                              "--format", "json"), capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["tensors"]["stages"][:3] == ["decode", "colour", "resize"] and "output" in doc["tensors"]["stages"]
    ours = {s["name"]: s for s in doc["stages"]}
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(venv))
    r = subprocess.run([str(venv / "bin" / "python"), str(venv / "bin" / "npz_tool.py"), "compare",
                        str(folder / "original.npz"), str(folder / "ported.npz"), "-v"],
                       capture_output=True, text=True, env=env, timeout=300)
    text = r.stdout + r.stderr
    assert "compared" in text, text[-2000:]
    blocks = dict(re.findall(r"\[(\w+)\s*\]\s+(.*?)(?=\n\[|\n\d+ compared)", text, re.S))
    assert set(doc["tensors"]["stages"]) <= set(blocks), blocks.keys()
    assert "NOT_SIMLIAR" in blocks["resize"] or "NOT_SIMILAR" in blocks["resize"]
    assert "EQUAL" in blocks["decode"]
    for name in ("resize", "normalize", "input"):
        euclid = float(re.search(r"euclidean_similarity\s+=\s+([-\d.]+)", blocks[name]).group(1))
        sqnr = float(re.search(r"sqnr_similarity\s+=\s+([-\d.]+)", blocks[name]).group(1))
        assert euclid == pytest.approx(ours[name]["euclidean"], abs=1e-4), name
        assert sqnr == pytest.approx(ours[name]["sqnr_db"], abs=1e-3), name


def test_progress_is_reported_while_it_runs(tiny_cnn_artifacts, photos):
    from portlint.verify.run import VerifyOptions, run_verify

    steps: list[str] = []
    opts = VerifyOptions(str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"),
                         image=str(photos / "chelsea.jpg"), model=str(tiny_cnn_artifacts.pt),
                         bmodel=str(tiny_cnn_artifacts.bmodel))
    run_verify(opts, steps.append)
    joined = " | ".join(steps)
    for step in ("analysing both programs", "loading the bmodel", "loading the original model",
                 "replaying both pipelines", "running the original model", "running the bmodel"):
        assert step in joined, joined


def test_progress_shows_on_a_terminal_only(monkeypatch, capsys):
    import io

    from portlint.cli.verify import _progress

    with _progress() as step:  # captured stderr is not a terminal: silent
        step("replaying")
    assert capsys.readouterr().err == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    with _progress() as step:
        step("running the bmodel")
    assert "portlint verify" in fake.getvalue()
