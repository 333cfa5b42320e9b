"""PL103 on a dense prediction (rules/pl103_dense_output.py): the number its messages and
rules/PL103.md give, measured with torch, and the display-only fix with its reason."""

from __future__ import annotations

import json

import pytest

from fixture_support import FIXTURES, run_cli, spec
from portlint.rules import pl103_dense_output


@pytest.mark.slow
def test_argmax_then_nearest_vs_bilinear_logits_then_argmax():
    """19-class seeded N(0, 1) logits at 512x1024, brought to 1024x2048: bilinear on the logits then
    argmax vs argmax then nearest on the labels disagree on 41% of the pixels (21% once the logits
    are smoothed by a 5x5 box, 4% for region-like logits upsampled 16x from 32x64, closer to a
    network's): the message gives that range."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    torch.manual_seed(0)
    logits = torch.randn(1, 19, 512, 1024)
    got = {}
    regions = F.interpolate(torch.randn(1, 19, 32, 64), size=(512, 1024), mode="bicubic", align_corners=False)
    for name, x in (("iid", logits), ("smooth", F.avg_pool2d(logits, 5, 1, 2)), ("regions", regions)):
        a = F.interpolate(x, size=(1024, 2048), mode="bilinear", align_corners=False).argmax(1)
        b = F.interpolate(x.argmax(1, keepdim=True).float(), size=(1024, 2048), mode="nearest").long()[:, 0]
        got[name] = (a != b).float().mean().item()
    assert round(got["iid"], 2) == 0.41 and round(got["smooth"], 2) == 0.21 and round(got["regions"], 2) == 0.04
    assert pl103_dense_output.DIFFER_RANGE == f"{round(got['regions'] * 100)}% to {round(got['iid'] * 100)}%"


@pytest.mark.parametrize("case", ["post_dense_prediction_kept_at_network_size", "post_dense_argmax_before_resize"])
def test_the_fix_is_display_only_and_says_why(case, capsys):
    folder = FIXTURES / "PL103" / case
    s = spec(folder)
    code, out, err = run_cli(["check", str(folder / s.get("original", "original.py")), str(folder / "ported.py"),
                              "--format", "json", *s["args"]], capsys)
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "PL103"]
    assert f["fix"]["applicability"] == "display-only" and "not an edit" in f["fix"]["description"]
    assert f["related"], f
