"""fastparse.parse_module skips libcst's validation of parser-built nodes: the trees must be the
same as libcst.parse_module's, node for node, and validation must be back right after."""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from fixture_support import FIXTURES
from portlint.engine import fastparse

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(FIXTURES.rglob("*.py")) + sorted((ROOT / "src" / "portlint").rglob("*.py")) \
    + sorted((ROOT / "examples").rglob("*.py"))


def test_validation_is_skipped_on_this_libcst():
    assert fastparse._ENABLED, "libcst's CSTNode.__post_init__ changed: parsing falls back to full validation"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tree_as_libcst(path):
    text = path.read_text(encoding="utf-8")
    fast, slow = fastparse.parse_module(text), cst.parse_module(text)
    assert fast.deep_equals(slow)
    assert fast.code == text


def test_hand_built_nodes_are_validated_after_a_parse():
    fastparse.parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("not whitespace")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("x", lpar=[cst.LeftParen()])  # unbalanced parentheses


def test_validation_is_restored_when_the_parse_fails():
    with pytest.raises(cst.ParserSyntaxError):
        fastparse.parse_module("def (:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("x")


hypothesmith = pytest.importorskip("hypothesmith")


@settings(max_examples=int(os.environ.get("PORTLINT_FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=hypothesmith.from_grammar())
def test_same_tree_on_generated_programs(source):
    try:
        slow = cst.parse_module(source)
    except Exception:
        with pytest.raises(Exception):
            fastparse.parse_module(source)
        return
    assert fastparse.parse_module(source).deep_equals(slow)
