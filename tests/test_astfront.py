"""astfront builds libcst trees from CPython's parser: node for node the same types and values as
libcst's parser (names, literals as written, operators, parentheses), the same positions as
libcst's PositionProvider, and the same text as libcst's `code_for_node` for every expression."""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from fixture_support import FIXTURES
from portlint.analysis import astfront, source
from portlint.analysis.positions import module_positions
from portlint.analysis.syntax import _plain_code
from portlint.analysis.tree import LAYOUT

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(FIXTURES.rglob("*.py")) + sorted((ROOT / "src" / "portlint").rglob("*.py")) \
    + sorted((ROOT / "examples").rglob("*.py")) + sorted((ROOT / "scripts").rglob("*.py"))

# Operators have no recorded range (nothing asks where a `+` is); a Parameters list neither.
_UNPLACED = {"Parameters", "Asynchronous"} | {
    c.__name__ for c in vars(cst).values()
    if isinstance(c, type) and issubclass(c, (cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp,
                                              cst.BaseAugOp))}
# Fields only code generation reads (astfront's trees never generate code).
_CODEGEN_ONLY = {"indent", "default_indent", "default_newline", "has_trailing_newline", "encoding", "header", "footer"}


def differences(text: str, limit: int = 20) -> list[tuple]:
    """Where astfront's tree of `text` differs from libcst's (empty: the same)."""
    real = cst.parse_module(text)
    fast = astfront.parse(text)
    pos = module_positions(real, text)
    if not hasattr(pos, "_ranges"):  # libcst's code generation does not give back the text
        pos = {}
    out: list[tuple] = []

    def same(a, b, path: str) -> None:
        if len(out) >= limit:
            return
        if not isinstance(b, cst.CSTNode):
            if a != b:
                out.append(("value", path, a, b))
            return
        if type(a) is not type(b) and not (type(a) is astfront.FastModule and type(b) is cst.Module):
            out.append(("type", path, type(a).__name__, type(b).__name__))
            return
        name = type(b).__name__
        if name not in _UNPLACED and b in pos:
            want = pos._ranges[b]  # noqa: SLF001 - (start, end) offsets
            got = fast.span(a)
            if name == "Module":  # where a file without a final newline ends is left out
                want, got = want[:1], got and got[:1]
            if got is None or got[:len(want)] != want:
                out.append(("position", path, name, got and text[got[0]:got[1]], text[want[0]:want[1]]))
        if isinstance(b, cst.BaseExpression):
            if fast.code_for_node(a) != real.code_for_node(b):
                out.append(("code", path, name, fast.code_for_node(a), real.code_for_node(b)))
            if _plain_code(a) != _plain_code(b):  # syntax.code's shortcut, read off the nodes
                out.append(("plain code", path, name, _plain_code(a), _plain_code(b)))
        for field in b.__dataclass_fields__:
            if field in _CODEGEN_ONLY or field == "__slots__":
                continue
            va, vb = getattr(a, field), getattr(b, field)
            if field in ("lpar", "rpar") and isinstance(vb, (list, tuple)):
                if len(va) != len(vb):
                    out.append(("parentheses", path, name, len(va), len(vb)))
                continue
            if field == "comma":  # read by the analysis on subscripts and one-element tuples only
                if name == "SubscriptElement" and (va is cst.MaybeSentinel.DEFAULT) != (vb is cst.MaybeSentinel.DEFAULT):
                    out.append(("comma", path, name))
                continue
            if isinstance(vb, cst.CSTNode) and type(vb) in LAYOUT or isinstance(va, cst.CSTNode) and type(va) in LAYOUT:
                continue
            if isinstance(vb, (list, tuple)):
                la = [x for x in va if not (isinstance(x, cst.CSTNode) and type(x) in LAYOUT)]
                lb = [x for x in vb if not (isinstance(x, cst.CSTNode) and type(x) in LAYOUT)]
                if len(la) != len(lb):
                    out.append(("length", f"{path}.{field}", len(la), len(lb)))
                    continue
                for i, (x, y) in enumerate(zip(la, lb)):
                    same(x, y, f"{path}.{field}[{i}]")
            elif isinstance(vb, cst.CSTNode) or isinstance(va, cst.CSTNode):
                if type(va) is not type(vb) and not (isinstance(va, cst.CSTNode) and isinstance(vb, cst.CSTNode)):
                    out.append(("field", f"{path}.{field}", type(va).__name__, type(vb).__name__))
                else:
                    same(va, vb, f"{path}.{field}")
            elif va != vb:
                out.append(("value", f"{path}.{field}", va, vb))

    same(fast, real, "module")
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tree_as_libcst(path):
    text = path.read_text(encoding="utf-8")
    assert differences(text) == []  # and none of them is left to libcst (astfront.Unsupported)


SAMPLES = {
    "parentheses": "x = ((a)) + (b, (c))\ny = (a), b\nf((x), (y, z), *(w), **(k))\nz = ((i for i in a))\nsum(i for i in a)\n",
    "tuples": "a, b = c\nx = ()\ny = (1,)\nz = 1,\nw = [(a) for a in b]\nv = x[1, 2]\nu = x[(1, 2)]\nt = x[(1), 2]\ns = x[1,]\n",
    "strings": "x = 'a' \"b\"\ny = (\n    'a'\n    'b'\n)\nz = b'x'\nw = f'{a!r:>{n}}' 'tail'\nv = '''\n  many\n'''\n",
    "numbers": "x = 0x1F + 1_000 + 1.5e-3 + 2j - -1\n",
    "blocks": "if a: b = 1\nelif c:\n    pass\nelse:\n    d = 2; e = 3;\nfor i in x:\n    continue\nelse:\n    pass\n"
              "while x:\n    break\ntry:\n    pass\nexcept (A, B) as e:\n    raise C from e\nfinally:\n    pass\n"
              "with a as b, c:\n    pass\n",
    "definitions": "@d(\n    1)\nclass A(B, metaclass=M):\n    x: int = 1\n    @property\n    async def f(self, a, /, b=1, *c, d, e=2, **f) -> 'T':\n"
                   "        return [y async for y in a if y]\n\n    def g(self, *, k): yield from k\n"
                   "lam = lambda a, *b, c=1, **d: a\nglobal q\ndel a, b\nassert x, 'msg'\nimport a.b.c as d, e\nfrom .. import (f as g, h)\nfrom m import *\n",
    "continuations": "def f():\n    if x:\n        y = g(\n            a,\n          b,  # c\n        c) \\\n            + 1\n        s = '''a\n        b'''\n",
    "comments": "x = (  # a comment after a parenthesis\n    a)\ny = f(a,  # '#' in a string, then a comment\n      (b))\nz = ('#', # c\n     (c))\n",
    "calls": "f(a, k=(i == 0),\n  )\nf((x for x in y))\nf(x for x in y)\nclass A((B), metaclass=(M)): pass\n"
             "f(*(a), **(b))\nf((a))\nf((a),)\nf(((a)), (b))\ng()\n",
    "slices": "x = a[1:\n   ]\ny = a[1: ]\nz = a[:]\nw = a[::2]\nv = a[1:2:]\nu = a[1:2, ::3, 4]\n",
    "imports": "from ... import (a)\nfrom .x import *\nfrom importlib import (b,)\nfrom . y import z\nimport a . b as c\n",
    "attributes": "y = a . b\nz = a.\\\n  b\nw = (a).b\nv = a.b.c\n",
    "unicode": "x = 'é' + f(ü)  # ç\ny = ü.attr\n",
    "crlf": "x = f(\r\n    a)\r\nif x:\r\n    y = 1\r\n",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_same_tree_on_each_construct(name):
    assert differences(SAMPLES[name]) == []


@pytest.mark.parametrize("text", [
    "match x:\n    case 1:\n        pass\n",
])
def test_unsupported_source_is_parsed_by_libcst(text):
    with pytest.raises(astfront.Unsupported):
        astfront.parse(text)
    src = source.SourceFile(path=Path("x.py"), display="x.py", text=text, digest=f"test-unsupported-{hash(text)}")
    module = source.parse(src)
    assert type(module) is cst.Module and module.code == text


def test_a_converter_error_falls_back_to_libcst(monkeypatch):
    def broken(text):
        raise IndexError("a converter bug")

    monkeypatch.setattr(astfront, "parse", broken)
    text = "x = f(a)\n"
    src = source.SourceFile(path=Path("y.py"), display="y.py", text=text, digest="test-astfront-bug")
    module = source.parse(src)
    assert type(module) is cst.Module and module.code == text


def test_parsing_prints_no_warning():
    """CPython warns of invalid escapes while parsing (a SyntaxWarning on 3.12): not the user's
    business in a check."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        astfront.parse('x = "\\d"\n')


def test_a_syntax_error_keeps_libcst_s_message():
    src = source.SourceFile(path=Path("bad.py"), display="bad.py", text="def (:\n", digest="test-astfront-syntax")
    with pytest.raises(Exception, match="syntax error at line 1"):
        source.parse(src)


def test_the_tree_is_an_astfront_tree_by_default():
    src = source.SourceFile(path=Path("ok.py"), display="ok.py", text="x = f(a)\n", digest="test-astfront-default")
    module = source.parse(src)
    assert type(module) is astfront.FastModule
    call = module.body[0].body[0].value
    assert module.code_for_node(call) == "f(a)" and module.code == "x = f(a)\n"


hypothesmith = pytest.importorskip("hypothesmith")


@settings(max_examples=int(os.environ.get("PORTLINT_FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source_text=hypothesmith.from_grammar())
def test_same_tree_on_generated_programs(source_text):
    try:
        cst.parse_module(source_text)
        compile(source_text, "<generated>", "exec", dont_inherit=True)
    except Exception:
        return  # not a program both parsers take
    try:
        found = differences(source_text)
    except astfront.Unsupported:
        return
    assert found == []
