"""Small CLI defects a new user hits (issue 15.12): each is one line and the right exit code."""

from __future__ import annotations

from conftest import ROOT
from fixture_support import run_cli

EXAMPLE = ROOT / "examples" / "resnet"
PAIR = [str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py")]


def test_rule_accepts_a_kind_as_select_does(capsys):
    code, by_kind, _ = run_cli(["rule", "resize-antialias"], capsys)
    assert code == 0
    code, by_code, _ = run_cli(["rule", "pl101"], capsys)
    assert code == 0 and by_kind == by_code and by_kind.startswith("PL101 (resize-antialias")


def test_rule_unknown_is_one_line(capsys):
    code, out, err = run_cli(["rule", "resize"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1


def test_pl001_page_is_titled_by_its_kind():
    from portlint.rules.docs import all_rules

    for code, r in all_rules().items():
        heading = next(line for line in r.doc.splitlines() if line.startswith("# "))
        assert heading.startswith(f"# {code} {r.kind}"), (code, heading)


def test_hidden_option_is_never_suggested(capsys):
    code, _, err = run_cli(["check", *PAIR, "--fil", "x"], capsys)
    assert code == 2 and "--files" not in err and "--all" in err


def test_fix_image_without_verify_is_an_error(capsys):
    code, out, err = run_cli(["fix", *PAIR, "--image", "cat.jpg"], capsys)
    assert code == 2 and out == "" and "--image is only used with --verify" in err and err.count("\n") == 1


def test_pl101_says_the_size_is_a_sample(capsys):
    code, out, _ = run_cli(["check", *PAIR, "--no-cache"], capsys)
    assert code == 1 and "sample image" in out


def test_version(capsys):
    from portlint import __version__

    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.strip() == f"portlint {__version__}"


def test_show_fixes_prints_each_fixs_diff(capsys):
    code, out, _ = run_cli(["check", *PAIR, "--no-cache", "--show-fixes"], capsys)
    assert code == 1
    assert "-            img = cv2.resize(img, (self.net_w, self.net_h))" in out
    assert "+from PIL import Image" in out and "Image.BILINEAR" in out
    code, plain, _ = run_cli(["check", *PAIR, "--no-cache"], capsys)
    assert "+from PIL import Image" not in plain
