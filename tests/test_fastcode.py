"""The fast expression writer (analysis/fastcode.py) writes exactly what libcst's codegen writes, and
gives the ranges PositionProvider's codegen records, on every expression of the fixture corpus; it
turns itself off when libcst's codegen is not the one it was modelled on."""

from __future__ import annotations

import functools
import os
import random
from pathlib import Path

import libcst as cst
import pytest

from portlint.analysis import fastcode
from portlint.analysis.positions import _OffsetState

ROOT = Path(__file__).resolve().parents[1]
SOPHON_DEMO = Path(os.environ.get("SOPHON_DEMO", "/work/sophon-demo"))

EXTRA = [
    fastcode._SAMPLE,
    "x = (  # c\n    a,\n    b  ,)\n",
    "def f():\n    if a:\n        y = g(\n            1,  # one\n\n            # two\n            k=[\n                3,\n            ],\n        )\n",
    "z = a[1:2, ..., ::, None]\nw = a[(1, 2)]\nv = {**a, 'b': 2,}\nu = [*a, *b,]\nt = (*a,)\n",
    "s = f'{a!r:>{w}} {b=} {c = }' 'x'\nr = rb'y' b'z'\nq = not -+~a\np = await_ = 1\n",
    "async def g():\n    return [await x async for x in y] + await z\n",
    "x = lambda a: a\ny = f(lambda: 0)(1)\nz = (yield)\n",
    "a = (b := 3)\nc = [d for e in f for d in e if d if not d]\ng = {h: i for h, i in j}\n",
    "k = (\n    1\n    + 2\n)\nl = x if y else(z)\nm = a<b>c==d!=e<=f>=g\n",
    "n = a . b . c ( ) [ 0 ] ( * args , ** kw )\n",
    "if a:\n\tb = c(\n\t\td)\n",
]


def _texts() -> list[tuple[str, str]]:
    out = {t: f"extra{i}" for i, t in enumerate(EXTRA)}
    paths = sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
    if SOPHON_DEMO.is_dir():
        paths += sorted(SOPHON_DEMO.glob("sample/*/python/*.py"))[:40]
    for p in paths:
        out.setdefault(p.read_text(encoding="utf-8", errors="replace"), str(p))  # each text once
    return [(name, text) for text, name in out.items()]


@functools.lru_cache(maxsize=1)
def _parsed() -> tuple:
    out = []
    for name, text in _texts():
        try:
            out.append((name, cst.parse_module(text)))
        except Exception:
            continue
    return tuple(out)


def _modules():
    return _parsed()


def _written(module) -> list:
    """Every node the fast writer can be asked for: expressions, arguments, elements."""
    return fastcode._expressions(module)


def test_the_writer_is_on_with_this_libcst():
    assert fastcode._enabled(), "fastcode turned itself off with the installed libcst"
    assert cst.Call in fastcode._WRITERS and cst.Name in fastcode._WRITERS


def test_text_is_libcst_codegen_on_every_expression():
    rnd = random.Random(3)
    written = total = 0
    for name, module in _modules():
        nodes = _written(module)
        for node in rnd.sample(nodes, min(400, len(nodes))):
            total += 1
            ours = fastcode.code(module, node)
            if ours is None:
                continue
            written += 1
            assert ours == module.code_for_node(node), (name, type(node).__name__, module.code_for_node(node)[:200])
    assert total > 10000
    assert written / total > 0.95, (written, total)  # what falls back holds a lambda (or an unknown node)


def _subtree(node, limit: int) -> list:
    out, stack = [], [node]
    while stack and len(out) < limit:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def test_ranges_are_the_codegen_ranges():
    rnd = random.Random(7)
    compared = 0
    indents = [[], ["    "], ["\t", "  "]]
    for name, module in _modules():
        nodes = _written(module)
        for candidate in rnd.sample(nodes, min(40, len(nodes))):
            indent = rnd.choice(indents)
            state = _OffsetState(module.default_indent, module.default_newline)
            state.indent_tokens.extend(indent)
            candidate._codegen(state)
            expected = "".join(state.tokens)
            for target in _subtree(candidate, 25):
                ours = fastcode.generate(candidate, "".join(indent), module.default_newline, target)
                if ours is None:
                    continue
                text, span = ours
                assert text == expected, (name, type(candidate).__name__)
                if span is not None:  # None: a node (an operator) this writer does not place
                    compared += 1
                    assert span == state.ranges[target], (name, type(candidate).__name__, type(target).__name__, expected)
    assert compared > 10000


def test_a_writer_that_disagrees_turns_the_module_off(monkeypatch):
    monkeypatch.setitem(fastcode._MODEL, "Integer", ("Integer._codegen_impl", fastcode._parenthesized(fastcode._ellipsis)))
    monkeypatch.setattr(fastcode, "_WRITERS", {})
    monkeypatch.setattr(fastcode, "_STATE", {"checked": False})
    assert not fastcode._enabled()
    module = cst.parse_module("x = f(1)\n")
    assert fastcode.code(module, module.body[0].body[0].value) is None


def test_a_changed_libcst_codegen_turns_the_module_off(monkeypatch):
    def _codegen_impl(self, state, default_comma=False):  # another libcst's Arg
        raise AssertionError

    monkeypatch.setattr(cst.Arg, "_codegen_impl", _codegen_impl)
    monkeypatch.setattr(fastcode, "_WRITERS", {})
    monkeypatch.setattr(fastcode, "_STATE", {"checked": False})
    assert not fastcode._enabled()


def test_a_node_type_whose_codegen_differs_is_left_to_libcst(monkeypatch):
    class Codegen:  # a qualified name the writer was not made from
        def _codegen_impl(self, state):
            raise AssertionError

    monkeypatch.setattr(cst.Subscript, "_codegen_impl", Codegen._codegen_impl)
    writers = fastcode._writers()
    assert cst.Subscript not in writers and cst.Call in writers


def test_nodes_built_by_fixes_are_written_with_libcst_defaults():
    """Codemods build nodes with default commas, `=` and whitespace (MaybeSentinel.DEFAULT), which
    parsed code never holds."""
    name, one, two = cst.Name("a"), cst.Integer("1"), cst.Integer("2")
    built = [
        cst.Call(cst.Name("f"), [cst.Arg(one), cst.Arg(two, keyword=cst.Name("k")), cst.Arg(name, star="*")]),
        cst.Tuple([cst.Element(name)]),
        cst.Tuple([cst.Element(name), cst.StarredElement(cst.Name("b"))]),
        cst.Dict([cst.DictElement(name, one), cst.StarredDictElement(cst.Name("d"))]),
        cst.Subscript(name, [cst.SubscriptElement(cst.Index(one)), cst.SubscriptElement(cst.Slice(None, None, step=two))]),
        cst.BinaryOperation(name, cst.Add(), one, lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
        cst.List([cst.Element(one), cst.Element(two)]),
        cst.Set([cst.Element(one)]),
        cst.Slice(one, two, one),
        cst.Comparison(name, [cst.ComparisonTarget(cst.NotIn(), one)]),
        cst.IfExp(test=name, body=one, orelse=two),
    ]
    module = cst.Module([])
    for node in built:
        assert fastcode.code(module, node) == module.code_for_node(node), module.code_for_node(node)
