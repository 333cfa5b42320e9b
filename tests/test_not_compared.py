"""Never "All checks passed" when nothing was compared (issue 15.6): sides given the wrong way
round, a side without a .py file, a side whose pipeline was not found."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from fixture_support import run_cli

EXAMPLE = ROOT / "examples" / "resnet"
TORCH, SAIL = str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py")
NO_MODEL = 'import cv2\n\nimg = cv2.imread("x.jpg")\nprint(img.shape)\n'


def test_swapped_sides_are_refused(capsys):
    for fmt in ("text", "json", "sarif", "github"):
        code, out, err = run_cli(["check", SAIL, TORCH, "--no-cache", "--format", fmt], capsys)
        assert code == 2, (fmt, out, err)
        assert "swapped" in err and err.count("\n") == 1 and "All checks passed" not in out


def test_the_right_order_is_not_called_swapped(capsys):
    code, _, err = run_cli(["check", TORCH, SAIL, "--no-cache"], capsys)
    assert code == 1 and "swapped" not in err


def test_a_side_without_python_files_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("nothing")
    for args in ([TORCH, str(tmp_path / "empty")], [str(tmp_path / "empty"), SAIL]):
        code, out, err = run_cli(["check", *args, "--no-cache"], capsys)
        assert code == 2 and "no .py file" in err and "All checks passed" not in out


@pytest.fixture()
def no_model(tmp_path):
    p = tmp_path / "nomodel.py"
    p.write_text(NO_MODEL)
    return str(p)


def test_text_summary_says_what_was_not_compared(no_model, capsys):
    code, out, _ = run_cli(["check", TORCH, no_model, "--no-cache"], capsys)
    assert code == 3
    assert "All checks passed" not in out
    assert "Not compared: no image pipeline reaching a model call was found in" in out and "(ported)" in out


def test_json_lists_each_sides_pipelines(no_model, capsys):
    code, out, _ = run_cli(["check", TORCH, no_model, "--no-cache", "--format", "json"], capsys)
    assert code == 3
    doc = json.loads(out)
    assert doc["not_compared"] == [f"{no_model} (ported)"] and len(doc["pairs"]) == 1
    [pair] = doc["pairs"]
    assert pair["compared"] is False and pair["not_found"] == ["ported"] and pair["pipelines"]["ported"] == []
    [pipe] = pair["pipelines"]["original"]
    assert pipe["runtime"] == "torch" and pipe["decode"]["line"] == 25 and pipe["model"]["line"] == 28
    assert doc["notes"]


def test_json_of_a_compared_pair(capsys):
    code, out, _ = run_cli(["check", TORCH, SAIL, "--no-cache", "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["not_compared"] == []
    [pair] = doc["pairs"]
    assert pair["compared"] is True
    assert [p["runtime"] for p in pair["pipelines"]["ported"]] == ["sail"]
    assert pair["pipelines"]["ported"][0]["decode"]["api"] == "cv2.imread"


def test_sarif_and_github_say_it(no_model, capsys):
    code, out, _ = run_cli(["check", TORCH, no_model, "--no-cache", "--format", "sarif"], capsys)
    run = json.loads(out)["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert code == 3 and any("pre-processing was not compared" in n["message"]["text"] for n in notes)
    assert run["properties"]["notCompared"] == [f"{no_model} (ported)"]
    code, out, _ = run_cli(["check", TORCH, no_model, "--no-cache", "--format", "github"], capsys)
    assert code == 3 and out.startswith("::warning") and "pre-processing was not compared" in out


def test_cached_report_keeps_the_pairs(no_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = run_cli(["check", TORCH, no_model, "--format", "json"], capsys)
    second = run_cli(["check", TORCH, no_model, "--format", "json"], capsys)
    assert first[0] == second[0] == 3 and first[1] == second[1]


def test_fix_refuses_swapped_sides(capsys):
    code, out, err = run_cli(["fix", SAIL, TORCH, "--no-cache"], capsys)
    assert code == 2 and out == "" and "swapped" in err


def test_a_feed_dict_literal_with_several_unknown_input_names_keeps_the_image(tmp_path, capsys):
    """`{names[0]: image, names[1]: ids}`: the names come from the bmodel (unknown); the entries must
    not collapse into one unknown key, or the image is lost and the pipeline is not found."""
    text = (EXAMPLE / "resnet_sail.py").read_text()
    text = text.replace("self.input_name = self.net.get_input_names(self.graph_name)[0]",
                        "self.input_names = self.net.get_input_names(self.graph_name)\n"
                        "        self.input_name = self.input_names[0]")
    assert "input_data = {self.input_name: input_img}" in text
    text = text.replace("input_data = {self.input_name: input_img}",
                        "input_data = {self.input_names[0]: input_img, self.input_names[1]: np.zeros((1, 8), np.int32)}")
    port = tmp_path / "resnet_two_inputs.py"
    port.write_text(text)
    code, out, err = run_cli(["check", TORCH, str(port), "--no-cache", "--format", "json"], capsys)
    doc = json.loads(out)
    assert "no image pipeline" not in err, err
    assert code in (0, 1) and not any("no image pipeline" in n for n in json.dumps(doc).split('"')), doc
