"""The faster tree helpers give exactly what libcst gives: `children` == `.children`, positions ==
PositionProvider, the module index's walks == a plain traversal (less layout nodes)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from portlint.analysis.positions import LazyPositions, _context_free, module_positions
from portlint.analysis.tree import LAYOUT, children, module_index

ROOT = Path(__file__).resolve().parents[1]
SOPHON_DEMO = Path(os.environ.get("SOPHON_DEMO", "/work/sophon-demo"))

EXTRA = [
    "x = (  # c\n    a,\n    b  ,)\n",
    "from . import (a,\n b as c)\nimport d.e as f\n",
    "@dec\nclass C(B, metaclass=M):\n    def f(self, /, a, *b, c=1, **d) -> int:\n        return lambda x: x[1:2, ...]\n",
    "async def g():\n    async with a as b, c:\n        await d\n    async for e in f: yield e\n",
    "match p:\n    case [1, *rest] | {'k': v} if v: pass\n    case Point(x=0) as q: pass\n",
    "try:\n    pass\nexcept* ValueError as e:\n    raise\nfinally:\n    del a[0], b.c\n",
    "f'{a!r:>{w}} {b}' 'x' b'y'\nglobal g; nonlocal_ = 1\nassert a, 'm'\nwhile 1: break\nelse: continue\n",
    "x: list[int] = [i for i in range(3) if i]\ny = {k: v for k, v in z}\nw = {*a, *b}\n",
    "no_trailing_newline = 1",
    "",
    "\n\n# only comments\n",
    "if a:\n\tb = 1\nelif c: d\nelse:\n\tpass\n",
    "x = 1; y = 2;\n",
    "print(*a, **k, sep='')\nz = not a or b and c if d else e\nv = a @ b // c ** -d\n",
]


def _texts() -> list[tuple[str, str]]:
    out = [(f"extra{i}", t) for i, t in enumerate(EXTRA)]
    for p in sorted((ROOT / "tests" / "fixtures").rglob("*.py"))[:60]:
        out.append((str(p), p.read_text(encoding="utf-8")))
    for p in sorted((ROOT / "src" / "portlint").rglob("*.py"))[:15]:
        out.append((str(p), p.read_text(encoding="utf-8")))
    if SOPHON_DEMO.is_dir():
        for p in sorted(SOPHON_DEMO.glob("sample/*/python/*.py"))[:15]:
            out.append((str(p), p.read_text(encoding="utf-8", errors="replace")))
    return out


def _modules():
    for name, text in _texts():
        try:
            yield name, text, cst.parse_module(text)
        except Exception:
            continue


def _all_nodes(module):
    stack, out = [module], []
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def test_children_equal_libcst_children():
    for name, _, module in _modules():
        for node in _all_nodes(module):
            mine, theirs = children(node), node.children
            assert len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs)), (name, type(node))


def test_positions_equal_position_provider():
    rnd = random.Random(0)
    for name, text, module in _modules():
        expected = dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
        mine = module_positions(module, text)
        assert len(mine) == len(expected), name
        for node, rng in expected.items():
            assert mine.get(node) == rng, (name, type(node).__name__)
        nodes = [n for n in expected if _context_free(type(n))]  # the ones with a fast path
        for node in rnd.sample(nodes, min(60, len(nodes))):
            assert LazyPositions(module, text).get(node) == expected[node], (name, type(node).__name__)
        lazy = LazyPositions(module, text)  # and mixed with the fallback
        for node in rnd.sample(list(expected), min(60, len(expected))):
            assert lazy.get(node) == expected[node], (name, type(node).__name__)


def _plain_walk(node, skip):
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        for c in reversed(n.children):
            if skip and isinstance(c, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            stack.append(c)
    return [n for n in out if type(n) not in LAYOUT]


def _plain_functions(module):
    out, stack = [], [module]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.FunctionDef):
            out.append(n)
        stack.extend(n.children)
    return out


def test_module_index_walks_functions_and_parents():
    for name, _, module in _modules():
        idx = module_index(module)
        assert [id(f) for f in idx.functions()] == [id(f) for f in _plain_functions(module)], name
        for scope in [module, *idx.functions()][:25]:
            i = idx.index_of(scope)
            for skip in (True, False):
                assert [id(n) for n in idx.walk(i, skip)] == [id(n) for n in _plain_walk(scope, skip)], name
        for node in _all_nodes(module):
            for child in node.children:
                if type(child) not in LAYOUT and type(node) not in LAYOUT:
                    assert idx.parent(child) is node, name
        assert idx.parent(module) is None


def test_post_walk_is_the_same_for_indexed_and_other_nodes():
    from portlint.analysis import syntax as common

    class Src:
        pass

    for name, text, module in list(_modules())[:30]:
        src = Src()
        src.module = module
        fns = list(common.functions(src))  # indexes the module
        for fn in fns[:10]:
            assert [id(n) for n in common.walk(fn)] == [id(n) for n in _plain_walk(fn, True)], name
        detached = cst.parse_module(text)  # never indexed: the plain path
        for fn in _plain_functions(detached)[:10]:
            assert [id(n) for n in common.walk(fn)] == [id(n) for n in _plain_walk(fn, True)], name


def test_recursive_and_stack_index_agree():
    from portlint.analysis.tree import _index_recursive, _index_with_stack

    for name, _, module in _modules():
        assert [list(map(id, part)) if part and not isinstance(part[0], int) else part
                for part in _index_recursive(module)] == \
               [list(map(id, part)) if part and not isinstance(part[0], int) else part
                for part in _index_with_stack(module)], name


def test_index_deeper_than_the_recursion_limit_falls_back_to_the_stack_walk():
    import sys

    from portlint.analysis.tree import ModuleIndex, _index_with_stack

    module = cst.parse_module("x = " + "[" * 150 + "]" * 150 + "\n")
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(120)  # below the tree's depth: the recursive visitors cannot finish
    try:
        idx = ModuleIndex(module)
    finally:
        sys.setrecursionlimit(old)
    order, par, end = _index_with_stack(module)
    assert [id(n) for n in idx.order] == [id(n) for n in order] and idx.par == par and idx.end == end
    assert len(order) > 300


def test_plain_code_is_libcsts_code():
    from portlint.analysis.syntax import _plain_code

    checked = 0
    for name, _, module in _modules():
        for node in _all_nodes(module):
            text = _plain_code(node)
            if text is not None:
                assert text == module.code_for_node(node), name
                checked += 1
    assert checked > 1000


def test_statement_walks_match_the_full_walk():
    from portlint.analysis.tree import compound_statements, small_statements

    nested = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
    for name, _, module in _modules():
        for fn in _plain_functions(module):
            body = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
            expected = [n for n in _plain_walk(fn, True)[1:] if isinstance(n, cst.BaseCompoundStatement)
                        and not isinstance(n, nested)]
            assert [id(n) for n in compound_statements(body)] == [id(n) for n in expected], name
        expected_small = [n for n in _all_nodes(module) if isinstance(n, cst.BaseSmallStatement)]
        assert sorted(map(id, small_statements(module.body))) == sorted(map(id, expected_small)), name


# Node types the engine tests with `type(n) is cst.X` instead of isinstance (which goes through
# ABCMeta and costs several times more): exact-type tests are only right while libcst defines no
# subclass of them.
def _exactly_tested_types() -> list:
    """Every libcst class the analyser tests with `type(n) is cst.X` (or `in (cst.X, ...)`, `is not`)
    instead of isinstance, read from its source: isinstance on libcst's ABCMeta classes was about a
    tenth of the interpreter's calls, and is only replaceable while libcst subclasses none of them."""
    import pathlib
    import re

    names = set()
    for f in pathlib.Path(__file__).resolve().parents[1].joinpath("src", "portlint").rglob("*.py"):
        for m in re.finditer(r"type\([^()]*(?:\([^()]*\))?[^()]*\) (?:is not|is|not in|in) (\((?:cst\.\w+,? ?)+\)|cst\.\w+)", f.read_text()):
            names.update(re.findall(r"cst\.(\w+)", m.group(1)))
    return sorted(names)


EXACT_TYPES = _exactly_tested_types()


def test_exact_type_scan_finds_the_tests():
    assert {"Name", "Call", "Attribute", "Assign", "StarredElement", "DictElement", "Index"} <= set(EXACT_TYPES)


@pytest.mark.parametrize("name", EXACT_TYPES)
def test_libcst_has_no_subclass_of_exactly_tested_types(name):
    cls = getattr(cst, name)
    subclasses = [c for c in cls.__subclasses__() if not c.__module__.startswith("portlint.")]
    assert subclasses == [], f"libcst now subclasses {name}: `type(n) is cst.{name}` misses nodes"


def test_no_exact_type_test_of_module():
    """astfront's trees are a Module subclass: `type(m) is cst.Module` would miss them."""
    assert "Module" not in EXACT_TYPES


def _order_from_source(cls):
    """The reference for tree._order: the field names read from the method's source text."""
    import inspect
    import re

    try:
        src = inspect.getsource(cls._visit_and_replace_children)
    except (OSError, TypeError, AttributeError):
        return None
    names = re.findall(r"visit_(?:required|optional|sentinel|sequence|body_sequence|iterable)\(\s*self,\s*\"(\w+)\"", src)
    calls = sum(src.count(f"visit_{k}(") for k in ("required", "optional", "sequence", "body_sequence", "iterable",
                                                    "sentinel"))
    if len(names) != calls or "visitor.on_" in src or ".visit(" in src:
        return None
    return tuple(dict.fromkeys(names))


def test_field_order_from_bytecode_is_the_sources():
    from portlint.analysis.tree import _INDEXED, LAYOUT, _order

    classes = sorted(_INDEXED | LAYOUT, key=lambda c: c.__name__)
    plain = 0
    for cls in classes:
        assert _order(cls) == _order_from_source(cls), cls.__name__
        plain += _order(cls) is not None
    assert plain > 150  # nearly every node type follows the plain pattern
