"""--image-size WxH: sizes are compared at the sizes the user's images have (Cityscapes' 2048x1024)
instead of sample sizes, so a letterbox that pads nothing for their data is not reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portlint.config import parse_image_size
from portlint.errors import PortlintError

CASE = Path(__file__).resolve().parent / "fixtures" / "PL103" / "aligned_letterbox_for_the_users_image_size"


def _check(capsys, *extra):
    from portlint.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["check", str(CASE / "original.py"), str(CASE / "ported.py"), "--no-cache", "--format", "json", *extra])
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_without_the_users_sizes_the_sample_sizes_show_the_letterbox(capsys):
    code, doc = _check(capsys)
    assert code == 1 and {f["code"] for f in doc["findings"]} >= {"PL103", "PL105"}
    code, doc = _check(capsys, "--image-size", "2048x1024")
    assert code == 0 and not doc["findings"]
    code, doc = _check(capsys, "--image-size", "2048x1024", "--image-size", "640x480")  # one size where it differs
    assert code == 1 and any(f["code"] == "PL103" and "640x480" in f["message"] for f in doc["findings"])


@pytest.mark.parametrize("text, hw", [("2048x1024", (1024, 2048)), ("640X480", (480, 640)), ("451,300", (300, 451))])
def test_width_by_height(text, hw):
    assert parse_image_size(text) == hw


@pytest.mark.parametrize("text", ["2048", "0x10", "axb", "1x2x3", "70000x10"])
def test_bad_sizes_are_one_line_errors(text):
    with pytest.raises(PortlintError) as exc:
        parse_image_size(text)
    assert "\n" not in str(exc.value) and "--image-size" in str(exc.value)


def test_pyproject_pairs_take_image_size(tmp_path, capsys, monkeypatch):
    from portlint.cli import main

    (tmp_path / "pyproject.toml").write_text(
        f'[tool.portlint]\npairs = [{{original = "{CASE / "original.py"}", ported = "{CASE / "ported.py"}", '
        'image-size = ["2048x1024"]}]\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["check", "--no-cache"])
    assert exc.value.code == 0, capsys.readouterr().out
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.portlint]\npairs = [{{original = "{CASE / "original.py"}", ported = "{CASE / "ported.py"}", '
        'image-size = "wide"}]\n')
    with pytest.raises(SystemExit) as exc:
        main(["check", "--no-cache"])
    assert exc.value.code == 2 and "image-size" in capsys.readouterr().err
