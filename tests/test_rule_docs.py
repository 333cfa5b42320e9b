"""The rule table (rules/registry.py) is the one source of rule metadata: every doc page's front
matter repeats it exactly, every rule has a page, and every fix a rule emits on the fixtures has
an applicability its metadata declares."""

from __future__ import annotations

import json

import pytest

from fixture_support import cases, run_cli, spec
from portlint.findings import KINDS
from portlint.rules import registry
from portlint.rules.docs import front_matter, rules_dir

CODES = sorted(registry.RULES)


@pytest.mark.parametrize("code", CODES)
def test_front_matter_equals_the_table(code):
    meta, page = registry.RULES[code], front_matter(code)
    assert (page.code, page.kind, page.severity, page.fix, page.title) == (
        meta.code, meta.kind, meta.severity, meta.fix, meta.title)


def test_every_page_is_a_rule_and_every_rule_has_a_page():
    pages = sorted(p.stem for p in rules_dir().glob("PL*.md"))
    assert pages == CODES


def test_kinds_map_to_rules_once():
    """A kind names one rule, except `other`, which several rules may use."""
    kinds = [m.kind for m in registry.RULES.values() if m.kind != "other"]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) <= set(KINDS)


def test_rule_lists_hold_every_module_with_a_check():
    for module in registry.MODULES:
        if module in registry.PIPELINE_RULES:
            assert callable(module.compare), module.__name__
        if module in registry.PROGRAM_RULES:
            assert callable(module.check), module.__name__
    listed = set(registry.PIPELINE_RULES) | set(registry.PROGRAM_RULES)
    assert {m for m in registry.MODULES if m is not registry.pl001_unused_suppression} == listed


def test_every_emitted_fix_has_a_declared_applicability(capsys):
    seen = {}
    for case in cases():
        s = spec(case)
        code, out, err = run_cli(["check", str(case / s.get("original", "original.py")),
                                  str(case / s.get("ported", "ported.py")), "--format", "json", *s.get("args", [])], capsys)
        for f in json.loads(out)["findings"]:
            if f["fix"]:
                seen.setdefault(f["code"], set()).add(f["fix"]["applicability"])
    assert seen, "no fixture emits a fix"
    for code, applicabilities in seen.items():
        assert applicabilities <= set(registry.RULES[code].fixes), (code, applicabilities)
