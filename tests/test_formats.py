"""`--format sarif` (validated against the official schema) and `--format github`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest

from portlint.findings import Finding, Fix, Location, Related, TextEdit
from portlint.fix.imports import with_import_edits
from portlint.report import CheckReport, FileError
from portlint.report import github_format, sarif_format
from portlint.report.render import render
from portlint.rules.docs import all_rules

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def sample(tmp_path: Path) -> CheckReport:
    port = tmp_path / "port dir" / "x.py"
    port.parent.mkdir()
    port.write_text("import cv2\nimg = cv2.resize(img, (224, 224))\n", encoding="utf-8")
    rel_port = "port dir/x.py"
    findings = [
        Finding("PL101", "resize-antialias", "error", "cv2.resize does not antialias; torchvision on PIL does",
                Location(rel_port, 2, 7, "img = cv2.resize(img, (224, 224))"),
                Location("orig/x.py", 16, 10, "transforms.Resize((224, 224))"),
                Fix("safe", "resize with antialiasing",
                    [TextEdit(rel_port, (2, 7), (2, 17), "antialiased_resize")], ["import numpy as np"]),
                program="orig/x.py"),
        Finding("PL107", "normalize", "warning", "mean differs: 0.485 vs 0.5, and std: 50%",
                Location("port dir/x.py", 2, 1), None,
                Fix("display-only", "use the original mean", [TextEdit(rel_port, (2, 1), (2, 1), "x")])),
        Finding("PL203", "coco-rounding", "info", "score rounded", None, Location("orig/x.py", 3, 1)),

        Finding("PL999", "other", "info", "not in the rulebook", Location("/abs/p.py", 1, 1)),
    ]
    return CheckReport(findings, [FileError("port dir/broken.py", "cannot parse: line 3")], files=2)


def test_sarif_validates_and_maps_fields(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = sample(tmp_path)
    doc = json.loads(render(with_import_edits(report), "sarif", rules=all_rules()))
    validator().validate(doc)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "portlint" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    assert rules["PL101"]["name"] == "resize-antialias"
    assert rules["PL101"]["defaultConfiguration"]["level"] == "error"
    assert rules["PL101"]["shortDescription"]["text"]
    assert "PL101" in rules["PL101"]["help"]["markdown"]
    res = {r["ruleId"]: r for r in run["results"]}
    first = res["PL101"]
    assert first["level"] == "error" and first["message"]["text"].startswith("cv2.resize")
    assert driver["rules"][first["ruleIndex"]]["id"] == "PL101"
    loc = first["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "port%20dir/x.py"}, "region": {"startLine": 2, "startColumn": 7}}
    rel = first["relatedLocations"][0]
    assert rel["message"]["text"] == "original"
    assert rel["physicalLocation"]["artifactLocation"]["uri"] == "orig/x.py"
    assert rel["physicalLocation"]["region"] == {"startLine": 16, "startColumn": 10}
    change = first["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "port%20dir/x.py"
    reps = change["replacements"]
    assert reps[0] == {"deletedRegion": {"startLine": 2, "startColumn": 7, "endLine": 2, "endColumn": 17},
                       "insertedContent": {"text": "antialiased_resize"}}
    assert reps[1]["insertedContent"]["text"] == "import numpy as np\n"  # the import the fix needs
    assert reps[1]["deletedRegion"]["startLine"] == 2
    assert res["PL107"]["level"] == "warning" and "fixes" not in res["PL107"]  # display-only
    assert "relatedLocations" not in res["PL107"]
    assert res["PL203"]["level"] == "note"

    assert res["PL203"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "orig/x.py"
    assert res["PL999"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///abs/p.py"
    assert "ruleIndex" not in res["PL999"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "cannot parse: line 3" and run["invocations"][0]["executionSuccessful"]


def test_sarif_fix_is_left_out_when_its_import_cannot_be_placed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = Finding("PL101", "resize-antialias", "error", "m", Location("gone.py", 1, 1), None,
                Fix("safe", "d", [TextEdit("gone.py", (1, 1), (1, 2), "y")], ["import numpy as np"]))
    doc = sarif_format.to_sarif(with_import_edits(CheckReport([f], files=1)))
    validator().validate(doc)
    assert "fixes" not in doc["runs"][0]["results"][0]
    assert "fixes" not in sarif_format.to_sarif(CheckReport([f], files=1))["runs"][0]["results"][0]  # imports not placed


def test_sarif_empty_report_validates():
    doc = json.loads(render(CheckReport(files=3), "sarif", rules=all_rules()))
    validator().validate(doc)
    assert doc["runs"][0]["results"] == []
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) >= 15


def test_sarif_nothing_analysed_is_unsuccessful():
    doc = sarif_format.to_sarif(CheckReport(errors=[FileError("a.py", "missing")]))
    validator().validate(doc)
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_github_commands(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = render(sample(tmp_path), "github").splitlines()
    assert sorted(lines[:4]) == sorted([
        "::error file=port dir/x.py,line=2,col=7,title=PL101 resize-antialias::"
        "cv2.resize does not antialias; torchvision on PIL does (original: orig/x.py:16)",
        "::notice file=/abs/p.py,line=1,col=1,title=PL999 other::not in the rulebook",
        "::warning file=port dir/x.py,line=2,col=1,title=PL107 normalize::mean differs: 0.485 vs 0.5, and std: 50%25",
        "::notice file=orig/x.py,line=3,col=1,title=PL203 coco-rounding::score rounded",
    ])
    assert lines[4:] == ["::error file=port dir/broken.py,title=portlint::cannot parse: line 3"]


@pytest.mark.parametrize("raw, prop, data", [
    ("a:b,c", "a%3Ab%2Cc", "a:b,c"),
    ("100%\r\nnext", "100%25%0D%0Anext", "100%25%0D%0Anext"),
    ("%3A", "%253A", "%253A"),
])
def test_github_escaping(raw, prop, data):
    assert github_format.escape_property(raw) == prop
    assert github_format.escape_data(raw) == data
    f = Finding("PL101", "resize-antialias", "error", raw, Location(raw + ".py", 1, 2))
    line = github_format.render(CheckReport([f]))
    assert line == f"::error file={prop}.py,line=1,col=2,title=PL101 resize-antialias::{data}"
    assert "\n" not in line


def test_github_empty():
    assert render(CheckReport(files=1), "github") == ""


def _with_related() -> CheckReport:
    f = Finding("PL202", "nms", "warning", "NMS IoU threshold differs: ported 0.7, original 0.45",
                Location("port/x.py", 40, 5), Location("orig/detect.py", 30, 5),
                related=[Related("port/post.py", 88, 13, "the threshold is used here")])
    return CheckReport([f], files=2)


def test_sarif_lists_related_places_after_the_original():
    doc = sarif_format.to_sarif(_with_related())
    validator().validate(doc)
    rel = doc["runs"][0]["results"][0]["relatedLocations"]
    assert [r["id"] for r in rel] == [1, 2] and rel[0]["message"]["text"] == "original"
    assert rel[1]["message"]["text"] == "the threshold is used here"
    assert rel[1]["physicalLocation"] == {"artifactLocation": {"uri": "port/post.py"},
                                          "region": {"startLine": 88, "startColumn": 13}}


def test_text_shows_related_places():
    text = render(_with_related(), "text")
    assert "    related port/post.py:88:13: the threshold is used here" in text
