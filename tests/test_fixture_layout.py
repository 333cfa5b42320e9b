"""The fixture layout: tests/fixtures/<CODE>/<case>/, CODE a rule of rules/registry.py. A case
lives under the lowest code among its expected findings, an aligned case (no findings) under the
rule it is a negative for; a case that shows several rules lists them in expected.json's "rules"
(the folder's code first) with a one-line "note". Every rule but PL001 has at least one positive
and one aligned case, except the ones the named allow-lists below admit to lacking."""

from __future__ import annotations

import pytest

from fixture_support import FIXTURES, case_id, cases, spec
from portlint.rules.registry import RULES

CASES = cases()

# PL001 (a suppression that suppresses nothing) needs no pair of programs; tests/test_suppressions.py covers it.
NOT_FIXTURE_RULES = {"PL001"}
# rules no fixture case shows yet; a rule leaves its list as soon as a case shows it (the test says so).
RULES_WITHOUT_POSITIVE_CASE: set[str] = set()
RULES_WITHOUT_ALIGNED_CASE: set = set()  # every rule has an aligned case


def _codes(case) -> list[str]:
    return sorted({f["code"] for f in spec(case)["findings"]})


def _shown(case) -> list[str]:
    """The rules a case exercises: its "rules", else its folder's code."""
    return spec(case).get("rules") or [case.parent.name]


def test_the_tree_is_rule_folders_of_case_folders():
    assert len(CASES) == len(set(c.name for c in CASES)), "a case name is used under two rules"
    for entry in FIXTURES.iterdir():
        assert entry.is_dir() and entry.name in RULES, f"{entry.name}: tests/fixtures holds only rule-code folders"
        for case in entry.iterdir():
            assert (case / "expected.json").is_file(), f"{case.relative_to(FIXTURES)}: not a case (no expected.json)"
    assert sorted(p.parent for p in FIXTURES.rglob("expected.json")) == CASES, "an expected.json outside <CODE>/<case>/"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_case_sits_under_its_rule(case):
    folder, codes, s = case.parent.name, _codes(case), spec(case)
    assert folder in RULES
    if codes:
        assert folder in codes, f"expected findings {codes} do not include the folder's {folder}"
        assert folder == codes[0], f"a case lives under its lowest code, {codes[0]}"
        if len(codes) > 1:
            assert s.get("rules") == codes, f"shows {codes}: list them as \"rules\" with a \"note\""
    if "rules" in s:
        rules = s["rules"]
        assert rules and rules[0] == folder, f"\"rules\" {rules} must start with the folder's {folder}"
        assert len(set(rules)) == len(rules) and set(rules) <= set(RULES), rules
        assert len(rules) > 1, "\"rules\" is for a case that shows several rules"
        note = s.get("note")
        assert isinstance(note, str) and note and "\n" not in note and folder in note, note


def test_every_rule_has_a_positive_and_an_aligned_case():
    positive = {code: [] for code in RULES}
    aligned = {code: [] for code in RULES}
    for case in CASES:
        for code in _codes(case):
            positive[code].append(case_id(case))
        if not _codes(case):
            for code in _shown(case):
                aligned[code].append(case_id(case))
    wanted = set(RULES) - NOT_FIXTURE_RULES
    no_positive = {c for c in wanted if not positive[c]}
    no_aligned = {c for c in wanted if not aligned[c]}
    assert no_positive == RULES_WITHOUT_POSITIVE_CASE, (
        f"rules without a positive case: {sorted(no_positive)} (allow-listed: {sorted(RULES_WITHOUT_POSITIVE_CASE)})")
    assert no_aligned == RULES_WITHOUT_ALIGNED_CASE, (
        f"rules without an aligned case: {sorted(no_aligned)} (allow-listed: {sorted(RULES_WITHOUT_ALIGNED_CASE)})")
