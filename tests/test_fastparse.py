"""fastparse.parse_module skips libcst's validation of parser-built nodes: the trees must be the
same as libcst.parse_module's, node for node, and validation must be back right after."""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from fixture_support import FIXTURES
from portlint.analysis import fastparse

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


def test_direct_constructors_take_the_dataclass_parameters():
    """Same parameter names, order and defaults as each class's own dataclass __init__."""
    import inspect

    assert len(fastparse._DIRECT_INITS) > 150
    own_inits = dict(fastparse._OWN_INITS)
    for cls, direct in fastparse._DIRECT_INITS:
        own = inspect.signature(own_inits[cls]).parameters
        ours = inspect.signature(direct).parameters
        assert list(own) == list(ours), cls
        assert own_inits[cls].__annotations__ == direct.__annotations__, cls
        for name, param in own.items():
            default = ours[name].default
            if repr(param.default) == "<factory>":
                assert default is fastparse._FACTORY, (cls, name)
            else:
                assert default is param.default, (cls, name)


def test_direct_constructors_build_equal_nodes_with_fresh_factory_defaults():
    """A node built directly equals the one libcst's constructor builds; factory defaults are new
    objects per node (portlint tells nodes apart by identity)."""
    import dataclasses

    direct_inits, own_inits, fresh = dict(fastparse._DIRECT_INITS), dict(fastparse._OWN_INITS), 0
    for cls, args in ((cst.Name, {"value": "x"}), (cst.LeftParen, {}), (cst.Comma, {})):
        built, other, by_libcst = cls.__new__(cls), cls.__new__(cls), cls.__new__(cls)
        direct_inits[cls](built, **args)
        direct_inits[cls](other, **args)
        own_inits[cls](by_libcst, **args)
        assert built.deep_equals(by_libcst)
        for field in dataclasses.fields(cls):
            if field.default_factory is not dataclasses.MISSING:
                assert getattr(built, field.name) is not getattr(other, field.name), (cls, field.name)
                fresh += 1
    assert fresh >= 2  # LeftParen's and Comma's whitespace


def test_every_parsed_node_type_is_built_directly():
    """The classes the parser instantiated all use the generated constructor (no silent fallback)."""
    module = fastparse.parse_module((ROOT / "examples" / "resnet" / "resnet_sail.py").read_text())
    direct = {cls for cls, _ in fastparse._DIRECT_INITS}
    seen, stack = set(), [module]
    while stack:
        node = stack.pop()
        seen.add(type(node))
        stack.extend(node.children)
    assert seen <= direct, seen - direct


def test_equal_layout_nodes_are_shared_and_nothing_else():
    """Layout nodes (spaces, newlines, commas, dots, brackets) are one object per distinct value;
    every other node is at one place in the tree only (the analysis tells places apart by them),
    and parentheses are not shared (libcst ends an import's range at its right parenthesis)."""
    from portlint.analysis.tree import LAYOUT

    text = (ROOT / "examples" / "resnet" / "resnet_sail.py").read_text()
    module = fastparse.parse_module(text)
    places: dict = {}
    stack = [module]
    while stack:
        node = stack.pop()
        places[id(node)] = places.get(id(node), 0) + 1
        if places[id(node)] == 1:
            stack.extend(node.children)
        else:
            assert type(node) in LAYOUT and type(node) not in (cst.LeftParen, cst.RightParen), type(node)
    shared = {i for i, n in places.items() if n > 1}
    assert len(shared) >= 5
    assert module.deep_equals(cst.parse_module(text)) and module.code == text
    again = fastparse.parse_module("x = [1, 2]\n")
    assert again.body[0].body[0].value.elements[0].comma is module_comma(module)


def module_comma(module):
    """The first `, ` comma of the module (shared with every other `, ` a parse builds)."""
    stack = [module]
    while stack:
        node = stack.pop(0)
        if type(node) is cst.Comma and node.whitespace_before.value == "" and node.whitespace_after.value == " ":
            return node
        stack.extend(node.children)
    raise AssertionError("no comma")


def test_the_classes_are_back_after_a_parse():
    """While parsing, libcst's module holds the sharing factories; after it, its classes, also
    when the parse fails."""
    fastparse.parse_module("x = (1, 2)\n")
    with pytest.raises(cst.ParserSyntaxError):
        fastparse.parse_module("x = (1,\n")
    for name, _factory, cls in fastparse._FACTORIES:
        assert getattr(cst, name) is cls and isinstance(cls, type)
    assert len(fastparse._FACTORIES) == len(fastparse._BY_VALUE) + len(fastparse._BY_PARTS)
    node = cst.Comma()  # hand-built: fresh, validated as before
    assert node is not cst.Comma() and node.whitespace_before is not cst.Comma().whitespace_before
