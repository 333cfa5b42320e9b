"""`--select`/`--ignore` (issue 15.4): an unknown code exits 2, as in pyproject.toml; lower-case
codes and Ruff-style prefixes work; the code table equals the registry's without importing it."""

from __future__ import annotations

import pytest

from fixture_support import run_cli
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "resnet"
PAIR = [str(EXAMPLE / "resnet_torch.py"), str(EXAMPLE / "resnet_sail.py"), "--no-cache"]


def test_table_equals_the_registry():
    from portlint.codes import CODES, RULE_OPTIONS
    from portlint.rules.registry import RULES

    assert CODES == {code: meta.kind for code, meta in RULES.items()}
    assert set(RULE_OPTIONS) <= set(CODES)


@pytest.mark.parametrize("entry", ["PL999", "PL3", "PLX", "resize", "PL1011"])
def test_unknown_selection_exits_2_with_one_line(capsys, entry):
    for option in ("--select", "--ignore"):
        code, out, err = run_cli(["check", *PAIR, option, entry], capsys)
        assert code == 2, (option, entry, out, err)
        assert out == "" and err.count("\n") == 1 and f"{option} '{entry}'" in err and "Traceback" not in err


@pytest.mark.parametrize("entry", ["PL101", "pl101", "PL1", "PL10", "PL", "resize-antialias", "ALL", "all"])
def test_codes_prefixes_and_kinds_select_the_rule(capsys, entry):
    code, out, _ = run_cli(["check", *PAIR, "--select", entry], capsys)
    assert code == 1 and "PL101" in out


@pytest.mark.parametrize("entry", ["PL2", "PL201", "nms"])
def test_selection_of_other_rules_leaves_it_out(capsys, entry):
    code, out, _ = run_cli(["check", *PAIR, "--select", entry], capsys)
    assert code == 0 and "PL101" not in out


def test_more_specific_entry_wins():
    from portlint.codes import selected

    assert selected("PL101", "resize-antialias", ["PL101"], ["PL1"])
    assert not selected("PL101", "resize-antialias", ["PL1"], ["PL101"])
    assert not selected("PL101", "resize-antialias", ["PL101"], ["resize-antialias"])  # a tie: ignore wins
    assert not selected("PL101", "resize-antialias", [], ["ALL"])
    assert selected("PL102", "resize-interpolation", [], ["PL101"])


def test_fix_rejects_unknown_codes_too(capsys):
    code, _, err = run_cli(["fix", *PAIR, "--select", "PL999"], capsys)
    assert code == 2 and "--select 'PL999'" in err
