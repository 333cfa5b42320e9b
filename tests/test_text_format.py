"""`--format text` as a user reads it in a narrow terminal, a CI log or a pipe."""

from __future__ import annotations

import pytest

from conftest import ROOT
from fixture_support import run_cli
from portlint.findings import Finding, Location
from portlint.report.text_format import render_finding

EXAMPLE = ROOT / "examples" / "resnet"


def _finding(original=True) -> Finding:
    return Finding("PL101", "resize-antialias", "error", "cv2.resize does not antialias",
                   Location("port/resnet_sail.py", 27, 19, "img = cv2.resize(img, (self.net_w, self.net_h))"),
                   Location("orig/resnet_torch.py", 15, 9, "transforms.Resize((size, size)),") if original else None)


@pytest.mark.parametrize("width", [40, 80, 100, 200])
def test_both_locations_print_at_every_width(width):
    text = render_finding(_finding(), color=False, width=width)
    assert "orig/resnet_torch.py:15:9" in text and "port/resnet_sail.py:27:19" in text
    assert "transforms.Resize((size, size))," in text and "img = cv2.resize(" in text


def test_no_counterpart_is_said():
    text = render_finding(_finding(original=False), color=False, width=60)
    assert "original (none)" in text and "(no counterpart)" in text


def test_cli_at_80_columns_prints_the_original_location(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli(["check", str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"), "--no-cache"],
                           capsys)
    assert code == 1
    assert "resnet_torch.py:15:9" in out and "resnet_sail.py:27:19" in out
