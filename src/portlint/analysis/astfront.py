"""`parse(text)`: a libcst tree for the analysis, built from CPython's own parser (`ast`), about
2.5x cheaper than libcst's parser (the benchmark's 819 files: 3.0 s against 7.8 s).

Why: parsing was over half of a cold check, and libcst's native parser alone was its floor
(0.65x of `libcst.parse_module` with every node constructor a no-op); `ast.parse` costs about an
eighth of libcst's parse here (1.1 s against 9.1 s). Most of what libcst builds is layout
(whitespace, commas, brackets: 60% of its nodes) that no rule reads. So the `ast` tree is
converted into the libcst node classes the analysis reads, with the same structure and the same
values (names, number and string literals as written, operators, parentheses), and shared empty
layout. A converted tree is not for code generation: its nodes' text and positions come from the
source itself, through `FastModule.code_for_node` and `spans`, which give what libcst's
`code_for_node` and PositionProvider give on a libcst tree (tests/test_astfront.py compares both,
node for node, on the fixture corpus, the package's own sources, a sample per construct and
generated programs). A fix's edits are text edits at those ranges, as with a libcst tree.

Facts it relies on, checked here with CPython 3.10 and 3.11 (each also pinned by a test sample):
- `ast` columns are UTF-8 byte offsets (`x='é'+y`: `y` at column 7, character 6; the `ast`
  module's documentation says so of col_offset); libcst's are characters.
- CPython NFKC-normalises identifiers while parsing (`ª = 1` binds `a`; the language reference,
  "Identifiers and keywords"); libcst keeps them as written, so a name is read off the text.
- A parenthesised tuple's or generator's `ast` range includes its parentheses (`((1, 2))`: columns
  1-7), a sole generator argument's those of the call, and other parentheses are outside the range
  (CPython's Grammar/python.gram: `group` passes the inner node on).
- Python ends lines at `\\n`, `\\r\\n` and `\\r` only (not at the form feeds `str.splitlines` splits at).

What it does not convert (a `match` statement, template strings, `except*`, a parenthesised
`with`, type parameters, a non-ASCII name it cannot place) raises `Unsupported`, and the caller
parses that file with libcst as before.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import re
import warnings
from typing import Optional

import libcst as cst

from portlint.analysis import fastparse


class Unsupported(Exception):
    """The source uses something this converter does not build: parse it with libcst."""


class FastModule(cst.Module):
    """A Module built from `ast`: its code and node positions are read off the source text."""

    __slots__ = ("source", "spans", "blocks", "strings")

    @property
    def code(self) -> str:
        return self.source

    def span(self, node) -> Optional[tuple[int, int, int, int]]:
        """(start, end, code start, code end) offsets of a node of this tree, None if unknown."""
        packed = self.spans.get(node)
        return None if packed is None else unpack(packed)

    def code_for_node(self, node) -> str:
        """The node's source text as libcst writes a node alone: continuation lines lose the
        indentation of the block the node is in (libcst's ParenthesizedWhitespace(indent=True)
        leaves it to the enclosing blocks), lines inside strings and after a backslash do not."""
        span = self.span(node)
        if span is None or span[2] < 0:  # a node inside an f-string, which libcst parsed: libcst writes it
            return _EMPTY_MODULE.code_for_node(node)
        text = self.source
        code = text[span[2]:span[3]]
        if "\n" not in code:
            return code
        starts, indents = self.blocks
        i = bisect.bisect_right(starts, span[2]) - 1
        indent = indents[i] if i >= 0 else ""
        return self._dedent(code, span[2], indent) if indent else code

    def _dedent(self, code: str, start: int, indent: str) -> str:
        text, out, at = self.source, [], start
        for k, line in enumerate(code.split("\n")):
            if k and line.startswith(indent) and not text.endswith("\\", 0, at - 1) \
                    and not any(a < at < z for a, z in self.strings):
                out.append(line[len(indent):])
            else:
                out.append(line)
            at += len(line) + 1
        return "\n".join(out)


_BITS = 22  # offsets are below 4 MB: MAX_FILE_BYTES is 2 MB (larger text: Unsupported)
_MASK = (1 << _BITS) - 1


def unpack(packed) -> tuple[int, int, int, int]:
    """(start, end, code start, code end) from `_Converter.record`'s int; a node inside an
    f-string, whose text libcst writes, has a tuple (start, end, -1, -1)."""
    if type(packed) is tuple:
        return packed
    s, e = packed & _MASK, packed >> _BITS & _MASK
    return s, e, s - (packed >> 2 * _BITS & _MASK), e + (packed >> 3 * _BITS)


# ------------------------------------------------------------------ building nodes cheaply

_BUILDERS: dict = {}
_NS: dict = {}


def _builder(cls: type):
    """A constructor for `cls` taking its fields as keywords, every omitted one its default
    (default factories called once: the defaults are immutable layout, shared), no validation.
    Not fastparse.direct_init: that one is a class's `__init__` and calls the default factories
    for every node (fresh whitespace nodes), which is most of what this module saves."""
    params, body, tag = [], [], f"_{cls.__name__}"
    for i, f in enumerate(dataclasses.fields(cls)):
        slot = fastparse._slot(cls, f.name)
        if slot is None:
            raise Unsupported(f"this libcst's {cls.__name__}.{f.name} has no slot")
        _NS[f"{tag}_set{i}"] = slot.__set__
        if f.default is not dataclasses.MISSING:
            _NS[f"{tag}_d{i}"] = f.default
            params.append(f"{f.name}={tag}_d{i}")
        elif f.default_factory is not dataclasses.MISSING:
            _NS[f"{tag}_d{i}"] = f.default_factory()
            params.append(f"{f.name}={tag}_d{i}")
        else:
            params.append(f.name)
        body.append(f"    {tag}_set{i}(self, {f.name})")
    _NS[f"{tag}_cls"] = cls
    src = (f"def {tag}_build({', '.join(params)}):\n    self = _new({tag}_cls)\n" + "\n".join(body)
           + "\n    return self\n")
    exec(compile(src, f"<portlint.astfront {cls.__name__}>", "exec"), _NS)  # noqa: S102 - our own text
    return _NS.pop(f"{tag}_build")


_NS["_new"] = object.__new__


def _b(cls: type):
    found = _BUILDERS.get(cls)
    if found is None:
        found = _BUILDERS[cls] = _builder(cls)
    return found


_OPERATORS = {
    ast.Add: "Add", ast.Sub: "Subtract", ast.Mult: "Multiply", ast.Div: "Divide", ast.FloorDiv: "FloorDivide",
    ast.Mod: "Modulo", ast.Pow: "Power", ast.MatMult: "MatrixMultiply", ast.LShift: "LeftShift",
    ast.RShift: "RightShift", ast.BitOr: "BitOr", ast.BitXor: "BitXor", ast.BitAnd: "BitAnd",
}
_COMPARE = {
    ast.Eq: "Equal", ast.NotEq: "NotEqual", ast.Lt: "LessThan", ast.LtE: "LessThanEqual", ast.Gt: "GreaterThan",
    ast.GtE: "GreaterThanEqual", ast.Is: "Is", ast.IsNot: "IsNot", ast.In: "In", ast.NotIn: "NotIn",
}
_UNARY = {ast.USub: "Minus", ast.UAdd: "Plus", ast.Not: "Not", ast.Invert: "BitInvert"}
_BOOL = {ast.And: "And", ast.Or: "Or"}

_SPACE = " \t\f\r\n\\"
_STRING_START = re.compile(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")")
_NEWLINE = re.compile(r"\r\n?|\n")


class _Converter:
    def __init__(self, text: str) -> None:
        self.text = text
        # Python's line ends only (str.splitlines also splits at form feeds and others)
        starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        if starts[-1] != len(text):
            starts.append(len(text))
        self.lines = [text[a:z] for a, z in zip(starts, starts[1:])]
        self.starts = starts
        self.spans: dict = {}
        self.blocks: list[tuple[int, str]] = []  # (where a statement starts, decorators included; its line's indentation)
        self.strings: list[tuple[int, int]] = []  # multi-line string literals
        self.n = len(text)
        b = _b
        self.Name = b(cst.Name)

    # ---- offsets
    def off(self, line: int, col: int) -> int:
        """A character offset from ast's (1-based line, UTF-8 byte column)."""
        if line > len(self.lines):
            return self.n
        s = self.lines[line - 1]
        if not s.isascii():
            col = len(s.encode("utf-8")[:col].decode("utf-8", "replace"))
        return self.starts[line - 1] + col

    def line_start(self, offset: int) -> int:
        return self.starts[bisect.bisect_right(self.starts, offset) - 1]

    def start(self, node) -> int:
        return self.off(node.lineno, node.col_offset)

    def end(self, node) -> int:
        return self.off(node.end_lineno, node.end_col_offset)

    def skip_back(self, i: int) -> int:
        """The offset just after the last character before offset i that is not space, a line
        continuation or a comment."""
        t = self.text
        while i > 0 and t[i - 1] in _SPACE:
            i -= 1
            if t[i] == "\n":  # onto the previous line: leave out its comment
                start = self.line_start(i)
                if "#" in t[start:i]:
                    i = self.comment_start(start, i)
        return i

    def comment_start(self, start: int, end: int) -> int:
        """Where the comment of the line [start, end) starts (end if it has none): the first
        `#` outside a string literal."""
        t, quote, k = self.text, None, start
        while k < end:
            ch = t[k]
            if quote is None:
                if ch == "#":
                    return k
                if ch in "'\"":
                    quote = t[k:k + 3] if t[k:k + 3] in ("'''", '"""') else ch
                    k += len(quote)
                    continue
            elif ch == "\\":
                k += 2
                continue
            elif t.startswith(quote, k):
                k += len(quote)
                quote = None
                continue
            k += 1
        return end

    def skip_fwd(self, i: int) -> int:
        """The first offset at or after i that is not space, a line continuation or a comment."""
        t, n = self.text, self.n
        while i < n:
            c = t[i]
            if c in _SPACE:
                i += 1
            elif c == "#":
                j = t.find("\n", i)
                i = n if j < 0 else j
            else:
                break
        return i

    def parens(self, s: int, e: int, lo: int = -1, hi: int = -1) -> tuple[int, int, int]:
        """(pairs of parentheses around [s, e) that belong to the node, code start, code end).
        `lo`, `hi`: where the parent's own parentheses are (a call's), which are not the node's."""
        t = self.text
        before, i = [], s
        while True:
            j = self.skip_back(i)
            if j > 0 and t[j - 1] == "(" and j - 1 != lo:
                before.append(j - 1)
                i = j - 1
            else:
                break
        if not before:
            return 0, s, e
        after, i = [], e
        while len(after) < len(before):
            j = self.skip_fwd(i)
            if j < self.n and t[j] == ")" and j != hi:
                after.append(j + 1)
                i = j + 1
            else:
                break
        k = len(after)  # as many as close: `(a), b` opens one before `a` that closes after it
        if not k:
            return 0, s, e
        return k, before[k - 1], after[k - 1]

    def string_end(self, i: int) -> int:
        """The offset just after the string literal that starts at i (its prefix included)."""
        t = self.text
        m = _STRING_START.match(t, i)
        if m is None:
            raise Unsupported("string literal")
        q = m.group(1)
        j = m.end()
        while True:
            k = t.find(q, j)
            if k < 0:
                raise Unsupported("string literal")
            bs = 0
            while t[k - 1 - bs] == "\\":
                bs += 1
            if bs % 2 == 0:  # an escaped quote (also in a raw string) does not end it
                return k + len(q)
            j = k + 1

    def closing(self, lo: int) -> int:
        """The offset of the `)` matching the `(` at `lo` (strings and comments skipped)."""
        t, depth, k, n = self.text, 0, lo, self.n
        while k < n:
            ch = t[k]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if not depth:
                    return k
            elif ch == "#":
                k = self.skip_fwd(k)
                continue
            elif ch in "'\"":
                k = self.string_end(k)
                continue
            k += 1
        raise Unsupported("unbalanced parentheses")

    # ---- nodes
    def record(self, node, s: int, e: int, cs: int = -1, ce: int = -1):
        """Remember the node's range [s, e) and its code's [cs, ce) (its parentheses included),
        packed into one int (see `unpack`): a tuple per node was 139 MB on the benchmark corpus."""
        self.spans[node] = s | e << _BITS | (0 if cs < 0 else s - cs) << 2 * _BITS | (0 if ce < 0 else ce - e) << 3 * _BITS
        return node

    def span(self, node) -> tuple[int, int, int, int]:
        return unpack(self.spans[node])

    def name_at(self, s: int, value: str):
        if not value.isascii():  # NFKC-normalised by CPython: where it is written is not known
            raise Unsupported("a non-ASCII identifier")
        node = self.Name(value=value)
        return self.record(node, s, s + len(value))

    def name_after(self, i: int, value: str):
        """The Name `value` at its first occurrence at or after offset i."""
        j = self.text.find(value, i)
        if j < 0:
            raise Unsupported(f"name {value!r} not found")
        return self.name_at(j, value)


_LP, _RP = cst.LeftParen(), cst.RightParen()


def parse(text: str) -> FastModule:
    """The libcst tree of `text`, built from `ast` (raises SyntaxError like `ast.parse`,
    Unsupported for what is not converted)."""
    if len(text) > _MASK:
        raise Unsupported("a text too long for the packed ranges")
    with warnings.catch_warnings():  # CPython warns of e.g. invalid escapes while parsing (3.12: SyntaxWarning)
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    conv = _Converter(text)
    w = _Walker(conv)
    body = w.block_body(tree.body)
    module = _b(FastModule)(body=body, has_trailing_newline=text.endswith(("\n", "\r")) or not text,
                            default_newline="\r\n" if "\r\n" in text[:4096] else "\n")
    object.__setattr__(module, "source", text)
    object.__setattr__(module, "spans", conv.spans)
    conv.blocks.sort()
    object.__setattr__(module, "blocks", ([b[0] for b in conv.blocks], [b[1] for b in conv.blocks]))
    object.__setattr__(module, "strings", conv.strings)
    # libcst writes a newline a file's last line lacks, and its range counts it
    conv.record(module, 0, len(text) + (1 if text and not text.endswith(("\n", "\r")) else 0))
    return module


class _Walker:
    """ast -> libcst, node type by node type."""

    def __init__(self, conv: _Converter) -> None:
        self.c = conv
        self.t = conv.text

    # ------------------------------------------------------------------ expressions
    def expr(self, node, lo: int = -1, hi: int = -1):
        """Convert an expression; its parentheses become lpar/rpar, as in libcst."""
        c = self.c
        s, e = c.start(node), c.end(node)
        method = getattr(self, "e_" + node.__class__.__name__, None)
        if method is None:
            raise Unsupported(node.__class__.__name__)
        out = method(node, s, e)
        own = 0
        if node.__class__ in _OWN_PARENS and self.t[s] == "(":
            # a parenthesised tuple's or generator's parentheses are in its ast range; an
            # unparenthesised tuple can start with its first element's `(`
            first = out.elements[0] if node.__class__ is ast.Tuple and out.elements else (
                out.elt if node.__class__ is ast.GeneratorExp else None)
            own = 1 if first is None or c.span(first)[2] > s else 0
        k, cs, ce = c.parens(s, e, lo, hi)
        if own or k:
            object.__setattr__(out, "lpar", [_LP] * (k + own))
            object.__setattr__(out, "rpar", [_RP] * (k + own))
        if own:  # libcst's range of a parenthesised tuple is inside its parentheses
            inner = c.skip_fwd(s + 1)
            c.record(out, inner, max(inner, c.skip_back(e - 1)), cs, ce)
        else:
            c.record(out, s, e, cs, ce)
        return out

    def opt(self, node):
        return None if node is None else self.expr(node)

    def e_Name(self, node, s, e):
        # as written: CPython NFKC-normalises identifiers (`ª` -> `a`), libcst does not
        return self.c.Name(value=node.id if node.id.isascii() else self.t[s:e])

    def e_Constant(self, node, s, e):
        v = node.value
        if v is None or v is True or v is False:
            return self.c.Name(value=str(v))
        if v is Ellipsis:
            return _b(cst.Ellipsis)()
        if isinstance(v, (str, bytes)):
            return self.strings(s, e)
        raw = self.t[s:e]
        if isinstance(v, complex):
            return _b(cst.Imaginary)(value=raw)
        if isinstance(v, float):
            return _b(cst.Float)(value=raw)
        if isinstance(v, int):
            return _b(cst.Integer)(value=raw)
        raise Unsupported(type(v).__name__)

    def e_JoinedStr(self, node, s, e):
        return self.strings(s, e)

    def strings(self, s: int, e: int):
        """One string literal, or libcst's ConcatenatedString chain for adjacent literals."""
        t, c = self.t, self.c
        parts, i = [], s
        while i < e:
            end = c.string_end(i)
            parts.append((i, end))
            i = c.skip_fwd(end)
        nodes = []
        for a, z in parts:
            piece = t[a:z]
            prefix = piece[: _STRING_START.match(piece).start(1)].lower()
            if "f" in prefix:
                node = self.fstring(a, z)
            else:
                node = _b(cst.SimpleString)(value=piece)
                c.record(node, a, z)
                if "\n" in piece:
                    c.strings.append((a, z))
            nodes.append(node)
        out = nodes[-1]
        for k in range(len(nodes) - 2, -1, -1):
            out = _b(cst.ConcatenatedString)(left=nodes[k], right=out)
            c.record(out, parts[k][0], e)
        return out

    def fstring(self, a: int, z: int):
        """An f-string: parsed by libcst alone (its parts' structure is libcst's own)."""
        piece = self.t[a:z]
        if "\n" in piece:
            self.c.strings.append((a, z))
        try:
            node = cst.parse_expression(piece)
        except Exception:
            raise Unsupported("f-string") from None
        from portlint.analysis.positions import module_positions

        line = cst.SimpleStatementLine([cst.Expr(node)])
        wrapper = cst.Module(body=[line])
        pos = module_positions(wrapper, piece + "\n")
        ranges = pos._ranges if hasattr(pos, "_ranges") else {}  # noqa: SLF001 - a dict: no ranges
        for n, r in ranges.items():  # text: libcst's own code generation (FastModule.code_for_node)
            if n is not wrapper and n is not line and n is not line.body[0]:
                self.c.spans[n] = (a + r[0], a + r[1], -1, -1)  # a tuple: see unpack
        self.c.record(node, a, z)
        return node

    def e_Attribute(self, node, s, e):
        value = self.expr(node.value)
        at = e - len(node.attr)
        attr = self.c.name_at(at, node.attr)
        if self.t[self.c.span(value)[3]:at] != ".":  # `a . b`, `a.\\\n b`: not a plain `a.b` (syntax._plain_code)
            return _b(cst.Attribute)(value=value, attr=attr, dot=_SPACED_DOT)
        return _b(cst.Attribute)(value=value, attr=attr)

    def e_Call(self, node, s, e):
        func = self.expr(node.func)
        if not node.args and not node.keywords:
            return _b(cst.Call)(func=func, args=())
        lo = self.c.skip_fwd(self.c.span(func)[3])
        return _b(cst.Call)(func=func, args=self.call_args(node.args, node.keywords, lo, e - 1))

    def call_args(self, args, keywords, lo: int, hi: int):
        """Arguments in source order (ast keeps positional and keyword ones apart); `lo`, `hi`:
        where the call's (or class's) parentheses are."""
        items = [(self.c.start(a), 0, a) for a in args] + [(self.c.start(k), 1, k) for k in keywords]
        items.sort(key=lambda x: x[0])
        out = []
        n = len(items)
        for _, kind, a in items:
            if kind == 0:
                if type(a) is ast.Starred:
                    arg = _b(cst.Arg)(value=self.expr(a.value, lo, hi), star="*")
                    self.c.record(arg, self.c.start(a), self.c.span(arg.value)[3])
                elif type(a) is ast.GeneratorExp and n == 1 and self.c.start(a) == lo:
                    value = self.bare_genexp(a)
                    arg = _b(cst.Arg)(value=value, star="")
                    sp = self.c.span(value)
                    self.c.record(arg, sp[2], sp[3])
                else:
                    value = self.expr(a, lo, hi)
                    arg = _b(cst.Arg)(value=value, star="")
                    sp = self.c.span(value)
                    self.c.record(arg, sp[2], sp[3])
            else:
                s = self.c.start(a)
                if a.arg is None:
                    value = self.expr(a.value, lo, hi)
                    arg = _b(cst.Arg)(value=value, star="**")
                else:
                    kw = self.c.name_at(s, a.arg)
                    value = self.expr(a.value, lo, hi)
                    arg = _b(cst.Arg)(value=value, keyword=kw, star="")
                self.c.record(arg, s, self.c.span(value)[3])
            out.append(arg)
        return out

    def bare_genexp(self, a):
        s, e = self.c.start(a), self.c.end(a)
        out = self.e_GeneratorExp(a, s, e)
        # ast's range of a sole generator argument is the call's parentheses
        s2, e2 = self.c.skip_fwd(s + 1), self.c.skip_back(e - 1)
        k, cs, ce = self.c.parens(s2, e2, s, e - 1)
        if k:
            object.__setattr__(out, "lpar", [_LP] * k)
            object.__setattr__(out, "rpar", [_RP] * k)
        self.c.record(out, s2, e2, cs, ce)
        return out

    def e_BinOp(self, node, s, e):
        op = _b(getattr(cst, _OPERATORS[type(node.op)]))()
        return _b(cst.BinaryOperation)(left=self.expr(node.left), operator=op, right=self.expr(node.right))

    def e_UnaryOp(self, node, s, e):
        op = _b(getattr(cst, _UNARY[type(node.op)]))()
        return _b(cst.UnaryOperation)(operator=op, expression=self.expr(node.operand))

    def e_BoolOp(self, node, s, e):
        name = _BOOL[type(node.op)]
        values = node.values
        out = self.expr(values[0])
        for v in values[1:]:
            right = self.expr(v)
            left_start = self.c.span(out)[2]
            out = _b(cst.BooleanOperation)(left=out, operator=_b(getattr(cst, name))(), right=right)
            self.c.record(out, left_start, self.c.span(right)[3])
        return out

    def e_Compare(self, node, s, e):
        left = self.expr(node.left)
        targets, at = [], self.c.span(left)[3]
        for op, comp in zip(node.ops, node.comparators):
            value = self.expr(comp)
            target = _b(cst.ComparisonTarget)(operator=_b(getattr(cst, _COMPARE[type(op)]))(), comparator=value)
            at = self.c.record(target, at, self.c.span(value)[3]) and self.c.span(value)[3]
            targets.append(target)
        return _b(cst.Comparison)(left=left, comparisons=targets)

    def e_IfExp(self, node, s, e):
        return _b(cst.IfExp)(test=self.expr(node.test), body=self.expr(node.body), orelse=self.expr(node.orelse))

    def e_NamedExpr(self, node, s, e):
        return _b(cst.NamedExpr)(target=self.expr(node.target), value=self.expr(node.value))

    def e_Await(self, node, s, e):
        return _b(cst.Await)(expression=self.expr(node.value))

    def e_Yield(self, node, s, e):
        return _b(cst.Yield)(value=self.opt(node.value))

    def e_YieldFrom(self, node, s, e):
        item = self.expr(node.value)
        frm = _b(cst.From)(item=item)
        self.c.record(frm, self.c.skip_fwd(s + 5), e)
        return _b(cst.Yield)(value=frm)

    def e_Lambda(self, node, s, e):
        return _b(cst.Lambda)(params=self.parameters(node.args, lambda_=True), body=self.expr(node.body))

    def e_Starred(self, node, s, e):
        return _b(cst.StarredElement)(value=self.expr(node.value))

    def starred_comma(self, el, last: bool) -> None:
        """libcst writes a StarredElement's comma (and what follows it up to the next token) as
        part of its code."""
        c = self.c
        sp = c.span(el)
        j = c.skip_fwd(sp[3])
        if j < c.n and self.t[j] == ",":
            object.__setattr__(el, "comma", _COMMA)
            # after the last element, the space up to the bracket is the bracket's
            c.record(el, sp[0], sp[1], sp[2], j + 1 if last else c.skip_fwd(j + 1))

    def elements(self, elts, s, e):
        out, final = [], len(elts) - 1
        for i, x in enumerate(elts):
            if type(x) is ast.Starred:
                el = self.expr(x)
                self.starred_comma(el, i == final)
            else:
                v = self.expr(x)
                el = _b(cst.Element)(value=v)
                sp = self.c.span(v)
                self.c.record(el, sp[2], sp[3])
            out.append(el)
        return out

    def e_Tuple(self, node, s, e):
        els = self.elements(node.elts, s, e)
        if len(els) == 1:  # `x,` / `(x,)`: libcst keeps the comma that makes it a tuple
            object.__setattr__(els[0], "comma", _COMMA)
        return _b(cst.Tuple)(elements=els, lpar=(), rpar=())

    def e_List(self, node, s, e):
        return _b(cst.List)(elements=self.elements(node.elts, s, e))

    def e_Set(self, node, s, e):
        return _b(cst.Set)(elements=self.elements(node.elts, s, e))

    def e_Dict(self, node, s, e):
        out = []
        for k, v in zip(node.keys, node.values):
            if k is None:
                value = self.expr(v)
                el = _b(cst.StarredDictElement)(value=value)
                self.c.record(el, self.c.skip_back(self.c.span(value)[2]) - 2, self.c.span(value)[3])
            else:
                key, value = self.expr(k), self.expr(v)
                el = _b(cst.DictElement)(key=key, value=value)
                self.c.record(el, self.c.span(key)[2], self.c.span(value)[3])
            out.append(el)
        return _b(cst.Dict)(elements=out)

    def comp_for(self, generators, s: int):
        out = None
        for g in reversed(generators):
            target, it = self.expr(g.target), self.expr(g.iter)
            ifs = []
            for cond in g.ifs:
                test = self.expr(cond)
                ci = _b(cst.CompIf)(test=test)
                self.c.record(ci, self.c.skip_back(self.t.rfind("if", 0, self.c.span(test)[2])), self.c.span(test)[3])
                ifs.append(ci)
            kw = self.t.rfind("for", 0, self.c.span(target)[2])
            cf = _b(cst.CompFor)(target=target, iter=it, ifs=ifs, inner_for_in=out,
                                 asynchronous=_b(cst.Asynchronous)() if g.is_async else None)
            if g.is_async:
                kw = self.t.rfind("async", 0, kw)
            end = self.c.span(out)[1] if out is not None else (self.c.span(ifs[-1])[1] if ifs else self.c.span(it)[3])
            self.c.record(cf, self.c.skip_back(kw), end)
            out = cf
        return out

    def e_ListComp(self, node, s, e):
        return _b(cst.ListComp)(elt=self.expr(node.elt), for_in=self.comp_for(node.generators, s))

    def e_SetComp(self, node, s, e):
        return _b(cst.SetComp)(elt=self.expr(node.elt), for_in=self.comp_for(node.generators, s))

    def e_GeneratorExp(self, node, s, e):
        return _b(cst.GeneratorExp)(elt=self.expr(node.elt), for_in=self.comp_for(node.generators, s), lpar=(), rpar=())

    def e_DictComp(self, node, s, e):
        return _b(cst.DictComp)(key=self.expr(node.key), value=self.expr(node.value),
                                for_in=self.comp_for(node.generators, s))

    def e_Subscript(self, node, s, e):
        value = self.expr(node.value)
        sl = node.slice
        if type(sl) is ast.Tuple and sl.elts and not self.parenthesised_tuple(sl):
            items = sl.elts
            trailing = True
        else:
            items = [sl]
            trailing = False
        out = []
        for x in items:
            if type(x) is ast.Slice:
                inner = self.slice(x)
            else:
                v = self.expr(x)
                inner = _b(cst.Index)(value=v)
                sp = self.c.span(v)
                self.c.record(inner, sp[2], sp[3])
            el = _b(cst.SubscriptElement)(slice=inner)
            sp = self.c.span(inner)
            self.c.record(el, sp[2], sp[3])
            out.append(el)
        for el in out[:-1]:
            object.__setattr__(el, "comma", _COMMA)
        if trailing:
            last = self.c.span(out[-1])
            j = self.c.skip_fwd(last[3])
            if j < e and self.t[j] == ",":
                object.__setattr__(out[-1], "comma", _COMMA)
        return _b(cst.Subscript)(value=value, slice=out)

    def parenthesised_tuple(self, node) -> bool:
        s = self.c.start(node)
        if self.t[s] != "(":
            return False
        first = node.elts[0]
        return self.c.parens(self.c.start(first), self.c.end(first))[1] > s

    def slice(self, x):
        s, e = self.c.start(x), self.c.end(x)
        lower, upper, step = self.opt(x.lower), self.opt(x.upper), self.opt(x.step)
        out = _b(cst.Slice)(lower=lower, upper=upper, step=step)  # its colons are layout
        if upper is None and step is None:  # `a[1: ]`: libcst's range keeps the space after the colon
            while e < self.c.n and self.t[e] in _SPACE:
                e += 1
        self.c.record(out, s, e)
        return out

    # ------------------------------------------------------------------ parameters
    def parameters(self, args: ast.arguments, lambda_: bool = False):
        c = self.c
        positional = list(args.posonlyargs) + list(args.args)
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)

        def param(a, default, star):
            name = c.name_at(c.start(a), a.arg)
            ann = None
            if a.annotation is not None:
                av = self.expr(a.annotation)
                ann = _b(cst.Annotation)(annotation=av)
                c.record(ann, c.span(av)[2], c.span(av)[3])
            dv = None if default is None else self.expr(default)
            p = _b(cst.Param)(name=name, annotation=ann, default=dv, star=star,
                              equal=_EQUAL if dv is not None else cst.MaybeSentinel.DEFAULT)
            s = c.start(a)
            if star:
                s = c.skip_back(s) - len(star)
            c.record(p, s, s + len(star) + len(a.arg) if star else c.span(name)[1])
            return p

        made = [param(a, d, "") for a, d in zip(positional, defaults)]
        posonly = made[: len(args.posonlyargs)]
        params = made[len(args.posonlyargs):]
        star_arg = cst.MaybeSentinel.DEFAULT
        if args.vararg is not None:
            star_arg = param(args.vararg, None, "*")
        elif args.kwonlyargs:
            star_arg = _b(cst.ParamStar)()
            first = c.start(args.kwonlyargs[0])  # libcst's range: `*`, its comma and the space after
            c.record(star_arg, self.t.rfind("*", 0, first), first)
        kwonly = [param(a, d, "") for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        star_kwarg = None if args.kwarg is None else param(args.kwarg, None, "**")
        slash = cst.MaybeSentinel.DEFAULT
        if posonly:
            slash = _b(cst.ParamSlash)()
            at = self.t.find("/", c.span(posonly[-1])[1] if posonly[-1].default is None else c.span(posonly[-1].default)[3])
            j = c.skip_fwd(at + 1)
            c.record(slash, at, c.skip_fwd(j + 1) if self.t[j] == "," else at + 1)
        out = _b(cst.Parameters)(params=params, star_arg=star_arg, kwonly_params=kwonly, star_kwarg=star_kwarg,
                                 posonly_params=posonly, posonly_ind=slash)
        return out

    # ------------------------------------------------------------------ statements
    def block_body(self, stmts):
        """Statements grouped as libcst groups them: small statements sharing a line (`;`) are
        one SimpleStatementLine."""
        out, line, t = [], None, self.t
        c = self.c
        for st in stmts:
            at = c.start(st)
            if getattr(st, "decorator_list", None):
                at = min(at, c.skip_back(c.start(st.decorator_list[0])) - 1)
            lead = t[c.line_start(at):at]
            c.blocks.append((at, lead[: len(lead) - len(lead.lstrip(" \t"))]))
            small = not isinstance(st, _COMPOUND)
            if small:
                node = self.small(st)
                if line is not None and self.same_line(line, st):
                    line[1].append(node)
                    line[2] = self.c.end(st)
                    continue
                line = [st, [node], self.c.end(st), self.c.start(st)]
                out.append(line)
            else:
                line = None
                out.append(self.compound(st))
        built = []
        for item in out:
            if type(item) is list:
                ssl = _b(cst.SimpleStatementLine)(body=item[1])
                self.c.record(ssl, item[3], item[2])
                built.append(ssl)
            else:
                built.append(item)
        return built

    def same_line(self, line, st) -> bool:
        """Whether `st` follows the line's last statement after a `;`, on the same line."""
        j, t = line[2], self.t
        while j < len(t) and t[j] in " \t":
            j += 1
        return j < len(t) and t[j] == ";" and "\n" not in t[j:self.c.start(st)]

    def suite(self, stmts):
        """An indented block, or a SimpleStatementSuite when the body is on the header's line."""
        first = stmts[0]
        s = self.c.start(first)
        line_start = self.c.starts[first.lineno - 1]
        if self.t[line_start:s].strip():  # `if x: return`
            body = []
            for st in stmts:
                if isinstance(st, _COMPOUND):
                    raise Unsupported("compound statement in a one-line suite")
                body.append(self.small(st))
            out = _b(cst.SimpleStatementSuite)(body=body)
            self.c.record(out, s, self.c.end(stmts[-1]))
            return out
        body = self.block_body(stmts)
        out = _b(cst.IndentedBlock)(body=body)
        self.c.record(out, s, self.c.end(stmts[-1]))
        return out

    def small(self, st):
        method = getattr(self, "s_" + st.__class__.__name__, None)
        if method is None:
            raise Unsupported(st.__class__.__name__)
        s, e = self.c.start(st), self.c.end(st)
        out = method(st, s, e)
        self.c.record(out, s, e)
        return out

    def s_Expr(self, st, s, e):
        return _b(cst.Expr)(value=self.expr(st.value))

    def s_Assign(self, st, s, e):
        targets = []
        for tg in st.targets:
            tv = self.expr(tg)
            at = _b(cst.AssignTarget)(target=tv)
            self.c.record(at, self.c.span(tv)[2], self.c.span(tv)[3])
            targets.append(at)
        return _b(cst.Assign)(targets=targets, value=self.expr(st.value))

    def s_AnnAssign(self, st, s, e):
        target = self.expr(st.target)
        av = self.expr(st.annotation)
        ann = _b(cst.Annotation)(annotation=av)
        self.c.record(ann, self.c.span(av)[2], self.c.span(av)[3])
        return _b(cst.AnnAssign)(target=target, annotation=ann, value=self.opt(st.value),
                                 equal=_EQUAL if st.value is not None else cst.MaybeSentinel.DEFAULT)

    def s_AugAssign(self, st, s, e):
        op = _b(getattr(cst, _OPERATORS[type(st.op)] + "Assign"))()
        return _b(cst.AugAssign)(target=self.expr(st.target), operator=op, value=self.expr(st.value))

    def s_Return(self, st, s, e):
        return _b(cst.Return)(value=self.opt(st.value))

    def s_Delete(self, st, s, e):
        if len(st.targets) == 1:
            target = self.expr(st.targets[0])
        else:
            els = self.elements(st.targets, s, e)
            target = _b(cst.Tuple)(elements=els, lpar=(), rpar=())
            self.c.record(target, self.c.span(els[0])[0], self.c.span(els[-1])[1])
        return _b(cst.Del)(target=target)

    def s_Pass(self, st, s, e):
        return _b(cst.Pass)()

    def s_Break(self, st, s, e):
        return _b(cst.Break)()

    def s_Continue(self, st, s, e):
        return _b(cst.Continue)()

    def s_Raise(self, st, s, e):
        exc = self.opt(st.exc)
        cause = None
        if st.cause is not None:
            item = self.expr(st.cause)
            cause = _b(cst.From)(item=item)
            self.c.record(cause, self.t.rfind("from", 0, self.c.span(item)[2]), self.c.span(item)[3])
        return _b(cst.Raise)(exc=exc, cause=cause)

    def s_Assert(self, st, s, e):
        return _b(cst.Assert)(test=self.expr(st.test), msg=self.opt(st.msg))

    def names_in(self, st, s, e, word):
        out, i = [], s + len(word)
        for name in st.names:
            n = self.c.name_after(i, name)
            i = self.c.span(n)[1]
            item = _b(cst.NameItem)(name=n)
            self.c.record(item, self.c.span(n)[0], i)
            out.append(item)
        return out

    def s_Global(self, st, s, e):
        return _b(cst.Global)(names=self.names_in(st, s, e, "global"))

    def s_Nonlocal(self, st, s, e):
        return _b(cst.Nonlocal)(names=self.names_in(st, s, e, "nonlocal"))

    def dotted_at(self, s: int, dotted: str):
        parts = dotted.split(".")
        out = self.c.name_at(s, parts[0])
        i = s + len(parts[0])
        for p in parts[1:]:
            j = self.t.find(p, i)
            attr = self.c.name_at(j, p)
            out2 = _b(cst.Attribute)(value=out, attr=attr, **({} if self.t[i:j] == "." else {"dot": _SPACED_DOT}))
            self.c.record(out2, s, j + len(p))
            out, i = out2, j + len(p)
        return out

    def alias(self, a, search_from: int):
        if hasattr(a, "lineno"):
            s = self.c.start(a)
        else:  # Python < 3.10: no positions on aliases
            s = self.t.find(a.name.split(".")[0], search_from)
        name = self.dotted_at(s, a.name)
        end = self.c.span(name)[1]
        asname = None
        if a.asname is not None:
            n = self.c.name_after(self.t.find("as", end) + 2, a.asname)
            asname = _b(cst.AsName)(name=n)
            self.c.record(asname, end, self.c.span(n)[1])
            end = self.c.span(n)[1]
        out = _b(cst.ImportAlias)(name=name, asname=asname)
        self.c.record(out, s, end)
        return out, end

    def s_Import(self, st, s, e):
        names, i = [], s + 6
        for a in st.names:
            al, i = self.alias(a, i)
            names.append(al)
        return _b(cst.Import)(names=names)

    def s_ImportFrom(self, st, s, e):
        i = self.c.skip_fwd(s + 4)
        dots = [_b(cst.Dot)() for _ in range(st.level or 0)]  # libcst: one Dot per dot, `...` too
        while self.t[i] in ". \t\\":
            i += 1
        module = None
        if st.module:
            module = self.dotted_at(self.c.skip_fwd(i), st.module)
            i = self.c.span(module)[1]
        i = self.t.find("import", i) + 6
        lpar = None
        if self.t[self.c.skip_fwd(i)] == "(":
            lpar = cst.LeftParen()
        if len(st.names) == 1 and st.names[0].name == "*":
            names = _b(cst.ImportStar)()
            self.c.record(names, e - 1, e)
            return _b(cst.ImportFrom)(module=module, names=names, relative=dots)
        out = []
        for a in st.names:
            al, i = self.alias(a, i)
            out.append(al)
        return _b(cst.ImportFrom)(module=module, names=out, relative=dots, lpar=lpar,
                                  rpar=cst.RightParen() if lpar is not None else None)

    # ---- compound statements
    def compound(self, st):
        method = getattr(self, "c_" + st.__class__.__name__, None)
        if method is None:
            raise Unsupported(st.__class__.__name__)
        s, e = self.c.start(st), self.c.end(st)
        out = method(st, s, e)
        while self.t[e - 1] in "; \t":  # ast ends a block at its last statement's `;`, libcst before
            e -= 1
        self.c.record(out, s, e)
        return out

    def decorators(self, st):
        out = []
        for d in st.decorator_list:
            v = self.expr(d)
            dec = _b(cst.Decorator)(decorator=v)
            self.c.record(dec, self.c.skip_back(self.c.span(v)[2]) - 1, self.c.span(v)[3])
            out.append(dec)
        return out

    def c_FunctionDef(self, st, s, e, asynchronous=False):
        if getattr(st, "type_params", None):
            raise Unsupported("type parameters")
        kw = self.t.find("def", s)
        name = self.c.name_after(self.c.skip_fwd(kw + 3), st.name)
        params = self.parameters(st.args)
        returns = None
        if st.returns is not None:
            rv = self.expr(st.returns)
            returns = _b(cst.Annotation)(annotation=rv)
            self.c.record(returns, self.c.span(rv)[2], self.c.span(rv)[3])
        return _b(cst.FunctionDef)(name=name, params=params, body=self.suite(st.body),
                                   decorators=self.decorators(st), returns=returns,
                                   asynchronous=self.asynchronous(s) if asynchronous else None)

    def asynchronous(self, s: int):
        out = _b(cst.Asynchronous)()
        self.c.record(out, s, s + 5)
        return out

    def c_AsyncFunctionDef(self, st, s, e):
        return self.c_FunctionDef(st, s, e, asynchronous=True)

    def c_ClassDef(self, st, s, e):
        if getattr(st, "type_params", None):
            raise Unsupported("type parameters")
        name = self.c.name_after(self.c.skip_fwd(self.t.find("class", s) + 5), st.name)
        args = []
        if st.bases or st.keywords:
            lo = self.c.skip_fwd(self.c.span(name)[1])
            args = self.call_args(st.bases, st.keywords, lo, self.c.closing(lo))
        bases = [a for a in args if a.keyword is None]
        keywords = [a for a in args if a.keyword is not None]
        return _b(cst.ClassDef)(name=name, body=self.suite(st.body), bases=bases, keywords=keywords,
                                decorators=self.decorators(st))

    def orelse(self, stmts, st):
        if not stmts:
            return None
        first = stmts[0]
        if len(stmts) == 1 and type(first) is ast.If and self.t.startswith("elif", self.c.start(first)):
            at = self.c.start(first)
            lead = self.t[self.c.line_start(at):at]
            self.c.blocks.append((at, lead[: len(lead) - len(lead.lstrip(" \t"))]))
            return self.compound(first)
        return self.else_(stmts)

    def else_(self, stmts, cls=cst.Else, word="else"):
        body = self.suite(stmts)
        out = _b(cls)(body=body)
        self.c.record(out, self.t.rfind(word, 0, self.c.span(body)[0]), self.c.span(body)[1])
        return out

    def c_If(self, st, s, e):
        return _b(cst.If)(test=self.expr(st.test), body=self.suite(st.body), orelse=self.orelse(st.orelse, st))

    def c_While(self, st, s, e):
        return _b(cst.While)(test=self.expr(st.test), body=self.suite(st.body),
                             orelse=self.else_(st.orelse) if st.orelse else None)

    def c_For(self, st, s, e, asynchronous=False):
        return _b(cst.For)(target=self.expr(st.target), iter=self.expr(st.iter), body=self.suite(st.body),
                           orelse=self.else_(st.orelse) if st.orelse else None,
                           asynchronous=self.asynchronous(s) if asynchronous else None)

    def c_AsyncFor(self, st, s, e):
        return self.c_For(st, s, e, asynchronous=True)

    def c_Try(self, st, s, e):
        handlers = []
        for h in st.handlers:
            hs = self.c.start(h)
            typ = self.opt(h.type)
            name = None
            if h.name is not None:
                at = self.t.find("as", self.c.span(typ)[3])
                n = self.c.name_after(at + 2, h.name)
                name = _b(cst.AsName)(name=n)
                self.c.record(name, self.c.span(typ)[3], self.c.span(n)[1])
            body = self.suite(h.body)
            hd = _b(cst.ExceptHandler)(body=body, type=typ, name=name)
            self.c.record(hd, hs, self.c.end(h))
            handlers.append(hd)
        final = self.else_(st.finalbody, cst.Finally, "finally") if st.finalbody else None
        return _b(cst.Try)(body=self.suite(st.body), handlers=handlers,
                           orelse=self.else_(st.orelse) if st.orelse else None, finalbody=final)

    def c_With(self, st, s, e, asynchronous=False):
        j = self.c.skip_fwd(s + (10 if asynchronous else 4))
        items = []
        if self.t[j] == "(" and not (len(st.items) == 1 and st.items[0].optional_vars is None):
            first = st.items[0].context_expr
            k = self.c.parens(self.c.start(first), self.c.end(first))[1]
            if k != j:
                raise Unsupported("parenthesised with")
        for it in st.items:
            v = self.expr(it.context_expr)
            asname = None
            end = self.c.span(v)[3]
            if it.optional_vars is not None:
                tv = self.expr(it.optional_vars)
                at = self.t.rfind("as", 0, self.c.span(tv)[2])
                asname = _b(cst.AsName)(name=tv)
                self.c.record(asname, self.c.span(v)[3], self.c.span(tv)[3])
                end = self.c.span(tv)[3]
            wi = _b(cst.WithItem)(item=v, asname=asname)
            self.c.record(wi, self.c.span(v)[2], end)
            items.append(wi)
        return _b(cst.With)(items=items, body=self.suite(st.body),
                            asynchronous=self.asynchronous(s) if asynchronous else None)

    def c_AsyncWith(self, st, s, e):
        return self.c_With(st, s, e, asynchronous=True)


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.While, ast.For, ast.AsyncFor,
             ast.Try, ast.With, ast.AsyncWith) + tuple(getattr(ast, n) for n in ("Match", "TryStar") if hasattr(ast, n))
_OWN_PARENS = (ast.Tuple, ast.GeneratorExp)
_COMMA = cst.Comma()
_SPACED_DOT = cst.Dot(whitespace_before=cst.SimpleWhitespace(" "))  # the dot of an attribute written with spaces
_EMPTY_MODULE = cst.Module(body=[])
_EQUAL = cst.AssignEqual()

