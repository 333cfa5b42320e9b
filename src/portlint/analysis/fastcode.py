"""The source text of an expression, written straight from its nodes: libcst's codegen without its
per-node machinery (about 8x cheaper, measured on the benchmark corpus's expressions).

Why: rules ask for the text of expressions (`code(src, node)`), and `LazyPositions` finds a node by
searching its generated text in the file; both went through libcst's codegen, where every node
costs two hook calls, a `contextmanager` for its parentheses and one method call per token. On
the benchmark corpus that codegen was about 5% of a cold check (cProfile).

How: one small function per expression node type writes what that type's `_codegen_impl` writes,
in the same order (libcst/_nodes/expression.py, op.py, whitespace.py). A type is written here only
if its `_codegen_impl` is the very function the writer was made from (same qualified name) and
libcst's `_codegen` is the base one; any other node (statements, lambdas, anything unknown) makes
`generate` return None and the caller uses libcst's codegen. On first use, the texts of every
expression of a sample program are compared with `Module.code_for_node`; one difference and this
module stays off for the process. `tests/test_fastcode.py` compares every expression of the
fixture corpus, and the ranges positions are computed from, with libcst's own.

Positions: `generate(..., target=node)` also gives the character range PositionProvider records
for `target`: an expression's range is inside its parentheses (`_parenthesize` records the
syntactic position there); an argument's and an element's range leaves out its comma; any other
node's range is all it writes.
"""

from __future__ import annotations

from typing import Callable, Optional

import libcst as cst


class _Unsupported(Exception):
    """A node this module does not write (the caller falls back to libcst's codegen)."""


class _Writer:
    __slots__ = ("out", "indent", "newline", "target", "span")

    def __init__(self, indent: str, newline: str, target) -> None:
        self.out: list[str] = []
        self.indent = indent
        self.newline = newline
        self.target = target
        self.span: Optional[tuple[int, int]] = None

    def mark(self) -> int:
        return sum(map(len, self.out))


def _emit(w: _Writer, node) -> None:
    write = _WRITERS.get(node.__class__)
    if write is None:
        raise _Unsupported
    if node is w.target:
        start = w.mark()
        write(w, node)
        if w.span is None:  # no syntactic range recorded inside: the whole node
            w.span = (start, w.mark())
        return
    write(w, node)


def _ws(w: _Writer, ws) -> None:
    t = ws.__class__
    if t is cst.SimpleWhitespace:
        w.out.append(ws.value)
    elif t is cst.ParenthesizedWhitespace:
        _trailing(w, ws.first_line)
        for line in ws.empty_lines:
            if line.indent:
                w.out.append(w.indent)
            w.out.append(line.whitespace.value)
            if line.comment is not None:
                w.out.append(line.comment.value)
            _newline(w, line.newline)
        if ws.indent:
            w.out.append(w.indent)
        w.out.append(ws.last_line.value)
    else:
        raise _Unsupported


def _trailing(w: _Writer, tw) -> None:
    w.out.append(tw.whitespace.value)
    if tw.comment is not None:
        w.out.append(tw.comment.value)
    _newline(w, tw.newline)


def _newline(w: _Writer, nl) -> None:
    w.out.append(w.newline if nl.value is None else nl.value)


def _syntactic(w: _Writer, node, body: Callable) -> None:
    """`with state.record_syntactic_position(node): body()`"""
    if node is w.target:
        start = w.mark()
        body()
        w.span = (start, w.mark())
    else:
        body()


def _parenthesized(inner: Callable) -> Callable:
    """A writer for an expression: its `lpar`, `inner` (the syntactic range), its `rpar`."""
    def write(w: _Writer, node) -> None:
        for lpar in node.lpar:
            w.out.append("(")
            _ws(w, lpar.whitespace_after)
        if node is w.target:
            start = w.mark()
            inner(w, node)
            w.span = (start, w.mark())
        else:
            inner(w, node)
        for rpar in node.rpar:
            _ws(w, rpar.whitespace_before)
            w.out.append(")")
    return write


def _comma(w: _Writer, comma, default: bool, text: str = ", ") -> None:
    if comma is cst.MaybeSentinel.DEFAULT:
        if default:
            w.out.append(text)
    elif comma.__class__ is cst.Comma:
        _one_token(w, comma)


# --------------------------------------------------------------------------- operators and tokens

def _one_token(w: _Writer, op) -> None:
    if op is w.target:
        raise _Unsupported  # its syntactic range is the token alone: left to libcst
    _ws(w, op.whitespace_before)
    w.out.append(op._get_token())
    _ws(w, op.whitespace_after)


def _two_token(w: _Writer, op) -> None:
    if op is w.target:
        raise _Unsupported
    first, second = op._get_tokens()
    _ws(w, op.whitespace_before)
    w.out.append(first)
    _ws(w, op.whitespace_between)
    w.out.append(second)
    _ws(w, op.whitespace_after)


def _unary_op(w: _Writer, op) -> None:
    w.out.append(op._get_token())
    _ws(w, op.whitespace_after)


# --------------------------------------------------------------------------- expressions

def _value(w: _Writer, node) -> None:
    w.out.append(node.value)


def _ellipsis(w: _Writer, node) -> None:
    w.out.append("...")


def _in_order(*fields: str) -> Callable:
    """A writer for a node whose codegen writes these child nodes one after the other."""
    def write(w: _Writer, node) -> None:
        for name in fields:
            _emit(w, getattr(node, name))
    return write




def _call(w: _Writer, node) -> None:
    _emit(w, node.func)
    _ws(w, node.whitespace_after_func)
    w.out.append("(")
    _ws(w, node.whitespace_before_args)
    last = len(node.args) - 1
    for i, arg in enumerate(node.args):
        _arg(w, arg, i != last)
    w.out.append(")")


def _arg(w: _Writer, arg, default_comma: bool = False) -> None:
    if arg.__class__ is not cst.Arg:
        raise _Unsupported
    if arg is w.target:
        start = w.mark()
        _arg_body(w, arg)
        w.span = (start, w.mark())
    else:
        _arg_body(w, arg)
    _comma(w, arg.comma, default_comma)
    _ws(w, arg.whitespace_after_arg)


def _arg_body(w: _Writer, arg) -> None:
    w.out.append(arg.star)
    _ws(w, arg.whitespace_after_star)
    if arg.keyword is not None:
        _emit(w, arg.keyword)
    equal = arg.equal
    if equal is cst.MaybeSentinel.DEFAULT:
        if arg.keyword is not None:
            w.out.append(" = ")
    elif equal.__class__ is cst.AssignEqual:
        _one_token(w, equal)
    _emit(w, arg.value)


def _subscript(w: _Writer, node) -> None:
    _emit(w, node.value)
    _ws(w, node.whitespace_after_value)
    w.out.append("[")
    _ws(w, node.lbracket.whitespace_after)
    last = len(node.slice) - 1
    for i, element in enumerate(node.slice):
        _subscript_element(w, element, i != last)
    _ws(w, node.rbracket.whitespace_before)
    w.out.append("]")


def _subscript_element(w: _Writer, element, default_comma: bool) -> None:
    if element.__class__ is not cst.SubscriptElement:
        raise _Unsupported
    _syntactic(w, element, lambda: _emit(w, element.slice))
    _comma(w, element.comma, default_comma)


def _index(w: _Writer, node) -> None:
    star = getattr(node, "star", None)
    if star is not None:
        w.out.append(star)
    ws = getattr(node, "whitespace_after_star", None)
    if ws is not None:
        _ws(w, ws)
    _emit(w, node.value)


def _slice(w: _Writer, node) -> None:
    if node.lower is not None:
        _emit(w, node.lower)
    _emit(w, node.first_colon)
    if node.upper is not None:
        _emit(w, node.upper)
    second = node.second_colon
    if second is cst.MaybeSentinel.DEFAULT:
        if node.step is not None:
            w.out.append(":")
    elif second.__class__ is cst.Colon:
        _one_token(w, second)
    if node.step is not None:
        _emit(w, node.step)






def _comparison(w: _Writer, node) -> None:
    _emit(w, node.left)
    for target in node.comparisons:
        _emit(w, target)




def _concatenated(w: _Writer, node) -> None:
    _emit(w, node.left)
    _ws(w, node.whitespace_between)
    _emit(w, node.right)


def _if_exp(w: _Writer, node) -> None:
    _emit(w, node.body)
    _ws(w, node.whitespace_before_if)
    w.out.append("if")
    _ws(w, node.whitespace_after_if)
    _emit(w, node.test)
    _ws(w, node.whitespace_before_else)
    w.out.append("else")
    _ws(w, node.whitespace_after_else)
    _emit(w, node.orelse)


def _element(w: _Writer, el, default_comma: bool, default_space: bool) -> None:
    t = el.__class__
    if t is cst.Element:
        _syntactic(w, el, lambda: _emit(w, el.value))
    elif t is cst.StarredElement:
        _starred(w, el)
    elif t is cst.DictElement:
        _syntactic(w, el, lambda: _dict_element(w, el))
    elif t is cst.StarredDictElement:
        _syntactic(w, el, lambda: _starred_dict(w, el))
    else:
        raise _Unsupported
    _comma(w, el.comma, default_comma, ", " if default_space else ",")


def _starred_body(w: _Writer, el) -> None:
    w.out.append("*")
    _ws(w, el.whitespace_before_value)
    _emit(w, el.value)


_starred = _parenthesized(_starred_body)


def _dict_element(w: _Writer, el) -> None:
    _emit(w, el.key)
    _ws(w, el.whitespace_before_colon)
    w.out.append(":")
    _ws(w, el.whitespace_after_colon)
    _emit(w, el.value)


def _starred_dict(w: _Writer, el) -> None:
    w.out.append("**")
    _ws(w, el.whitespace_before_value)
    _emit(w, el.value)


def _tuple(w: _Writer, node) -> None:
    elements = node.elements
    if len(elements) == 1:
        _element(w, elements[0], True, False)
        return
    last = len(elements) - 1
    for i, el in enumerate(elements):
        _element(w, el, i < last, True)


def _bracketed(open_field: str, close_field: str, open_token: str, close_token: str) -> Callable:
    def inner(w: _Writer, node) -> None:
        w.out.append(open_token)
        _ws(w, getattr(node, open_field).whitespace_after)
        elements = node.elements
        last = len(elements) - 1
        for i, el in enumerate(elements):
            _element(w, el, i < last, True)
        _ws(w, getattr(node, close_field).whitespace_before)
        w.out.append(close_token)
    return inner


def _comp_for(w: _Writer, node) -> None:
    _ws(w, node.whitespace_before)
    if node.asynchronous is not None:
        raise _Unsupported
    w.out.append("for")
    _ws(w, node.whitespace_after_for)
    _emit(w, node.target)
    _ws(w, node.whitespace_before_in)
    w.out.append("in")
    _ws(w, node.whitespace_after_in)
    _emit(w, node.iter)
    for clause in node.ifs:
        _emit(w, clause)
    if node.inner_for_in is not None:
        _emit(w, node.inner_for_in)


def _comp_if(w: _Writer, node) -> None:
    _ws(w, node.whitespace_before)
    w.out.append("if")
    _ws(w, node.whitespace_before_test)
    _emit(w, node.test)




def _comprehension(open_field: str, close_field: str, open_token: str, close_token: str) -> Callable:
    def inner(w: _Writer, node) -> None:
        w.out.append(open_token)
        _ws(w, getattr(node, open_field).whitespace_after)
        _emit(w, node.elt)
        _emit(w, node.for_in)
        _ws(w, getattr(node, close_field).whitespace_before)
        w.out.append(close_token)
    return inner


def _dict_comp(w: _Writer, node) -> None:
    w.out.append("{")
    _ws(w, node.lbrace.whitespace_after)
    _emit(w, node.key)
    _ws(w, node.whitespace_before_colon)
    w.out.append(":")
    _ws(w, node.whitespace_after_colon)
    _emit(w, node.value)
    _emit(w, node.for_in)
    _ws(w, node.rbrace.whitespace_before)
    w.out.append("}")


def _formatted(w: _Writer, node) -> None:
    w.out.append(node.start)
    for part in node.parts:
        _fstring_part(w, part)
    w.out.append(node.end)


def _fstring_part(w: _Writer, part) -> None:
    t = part.__class__
    if t is cst.FormattedStringText:
        w.out.append(part.value)
        return
    if t is not cst.FormattedStringExpression or part is w.target:
        raise _Unsupported
    w.out.append("{")
    _ws(w, part.whitespace_before_expression)
    _emit(w, part.expression)
    equal = getattr(part, "equal", None)
    if equal is not None:
        _one_token(w, equal)
    _ws(w, part.whitespace_after_expression)
    if part.conversion is not None:
        w.out.append("!")
        w.out.append(part.conversion)
    if part.format_spec is not None:
        w.out.append(":")
        for spec in part.format_spec:
            _fstring_part(w, spec)
    w.out.append("}")


def _await(w: _Writer, node) -> None:
    w.out.append("await")
    _ws(w, node.whitespace_after_await)
    _emit(w, node.expression)


def _named(w: _Writer, node) -> None:
    _emit(w, node.target)
    _ws(w, node.whitespace_before_walrus)
    w.out.append(":=")
    _ws(w, node.whitespace_after_walrus)
    _emit(w, node.value)


# --------------------------------------------------------------------------- the table

# node class name -> (the qualified name of the `_codegen_impl` the writer was made from, writer)
_MODEL: dict[str, tuple[str, Callable]] = {
    "Name": ("Name._codegen_impl", _parenthesized(_value)),
    "Integer": ("Integer._codegen_impl", _parenthesized(_value)),
    "Float": ("Float._codegen_impl", _parenthesized(_value)),
    "Imaginary": ("Imaginary._codegen_impl", _parenthesized(_value)),
    "SimpleString": ("SimpleString._codegen_impl", _parenthesized(_value)),
    "Ellipsis": ("Ellipsis._codegen_impl", _parenthesized(_ellipsis)),
    "Attribute": ("Attribute._codegen_impl", _parenthesized(_in_order("value", "dot", "attr"))),
    "Call": ("Call._codegen_impl", _parenthesized(_call)),
    "Subscript": ("Subscript._codegen_impl", _parenthesized(_subscript)),
    "Index": ("Index._codegen_impl", _index),
    "Slice": ("Slice._codegen_impl", _slice),
    "BinaryOperation": ("BinaryOperation._codegen_impl", _parenthesized(_in_order("left", "operator", "right"))),
    "BooleanOperation": ("BooleanOperation._codegen_impl", _parenthesized(_in_order("left", "operator", "right"))),
    "UnaryOperation": ("UnaryOperation._codegen_impl", _parenthesized(_in_order("operator", "expression"))),
    "Comparison": ("Comparison._codegen_impl", _parenthesized(_comparison)),
    "ComparisonTarget": ("ComparisonTarget._codegen_impl", _in_order("operator", "comparator")),
    "ConcatenatedString": ("ConcatenatedString._codegen_impl", _parenthesized(_concatenated)),
    "IfExp": ("IfExp._codegen_impl", _parenthesized(_if_exp)),
    "Tuple": ("Tuple._codegen_impl", _parenthesized(_tuple)),
    "List": ("List._codegen_impl", _parenthesized(_bracketed("lbracket", "rbracket", "[", "]"))),
    "Set": ("Set._codegen_impl", _parenthesized(_bracketed("lbrace", "rbrace", "{", "}"))),
    "Dict": ("Dict._codegen_impl", _parenthesized(_bracketed("lbrace", "rbrace", "{", "}"))),
    "GeneratorExp": ("GeneratorExp._codegen_impl", _parenthesized(_in_order("elt", "for_in"))),
    "ListComp": ("ListComp._codegen_impl", _parenthesized(_comprehension("lbracket", "rbracket", "[", "]"))),
    "SetComp": ("SetComp._codegen_impl", _parenthesized(_comprehension("lbrace", "rbrace", "{", "}"))),
    "DictComp": ("DictComp._codegen_impl", _parenthesized(_dict_comp)),
    "CompFor": ("CompFor._codegen_impl", _comp_for),
    "CompIf": ("CompIf._codegen_impl", _comp_if),
    "FormattedString": ("FormattedString._codegen_impl", _parenthesized(_formatted)),
    "Await": ("Await._codegen_impl", _parenthesized(_await)),
    "NamedExpr": ("NamedExpr._codegen_impl", _parenthesized(_named)),
}
_OPERATORS = {"_BaseOneTokenOp._codegen_impl": _one_token, "_BaseTwoTokenOp._codegen_impl": _two_token,
              "BaseUnaryOp._codegen_impl": _unary_op}


# node classes written inline by their parents' writers (arguments, elements, brackets): each must
# still have its own `_codegen_impl`, as the writers above were made from, or nothing is written here
_INLINE = ("Arg", "Element", "StarredElement", "DictElement", "StarredDictElement", "SubscriptElement",
           "LeftParen", "RightParen", "LeftSquareBracket", "RightSquareBracket", "LeftCurlyBrace",
           "RightCurlyBrace", "SimpleWhitespace", "ParenthesizedWhitespace", "TrailingWhitespace",
           "EmptyLine", "Newline", "FormattedStringText", "FormattedStringExpression")


def _inline_as_modelled(base) -> bool:
    for name in _INLINE:
        cls = getattr(cst, name, None)
        impl = getattr(cls, "_codegen_impl", None)
        expected = "BaseValueToken._codegen_impl" if name == "SimpleWhitespace" else f"{name}._codegen_impl"
        if cls is None or cls._codegen is not base or getattr(impl, "__qualname__", "") != expected:
            return False
    return True


def _writers() -> dict:
    """The writers of the node classes whose codegen is the one modelled here."""
    base = getattr(getattr(cst, "CSTNode", None), "_codegen", None)
    out: dict = {}
    if base is None or not _inline_as_modelled(base):
        return out
    stack, seen = [cst.CSTNode], set()
    while stack:
        for cls in stack.pop().__subclasses__():
            if cls in seen:
                continue
            seen.add(cls)
            stack.append(cls)
            if cls._codegen is not base:
                continue
            qualname = getattr(cls._codegen_impl, "__qualname__", "")
            model = _MODEL.get(cls.__name__)
            if model is not None and cls is getattr(cst, cls.__name__, None) and model[0] == qualname:
                out[cls] = model[1]
            elif qualname in _OPERATORS and getattr(cst, cls.__name__, None) is cls:
                out[cls] = _OPERATORS[qualname]
    return out


_WRITERS: dict = {}
_STATE = {"checked": False}

_SAMPLE = '''\
x = f(a, b=1, *args, **kw)[0]  # trailing
y = obj.attr.method ( 1.5 , 2j, ... )[1:2, ::3, :] + -z ** 2 // 3 % 4 @ m
z = (a if b else c) and not (d or e) is not None
w = [1, 2, *rest] + [v for v in range(10) if v > 2 if v < 8 for u in v]
q = {"k": 1, **other} | {k: v for k, v in d.items()} | {1, 2} | {s for s in t}
s = "a" "b" f"x{y!r:>{w}} {z=}" r'raw' + rb'b'
t = (1,) + (1, 2) + () + (yield_ := 3) + (g for g in h) + sum(x for x in y)
u = a < b <= c != d not in e in f is g
v = call(
    first,  # comment
    # own line
    second=[
        1,
    ],
)
'''


def _enabled() -> bool:
    """True once the writers agree with libcst on the sample's every expression."""
    if not _STATE["checked"]:
        _STATE["checked"] = True
        _WRITERS.update(_writers())
        try:
            module = cst.parse_module(_SAMPLE)
            for node in _expressions(module):
                ours = _generate(node, "", module.default_newline, None)
                if ours is not None and ours[0] != module.code_for_node(node):
                    _WRITERS.clear()
                    break
        except Exception:  # a libcst this module does not know: libcst's codegen everywhere
            _WRITERS.clear()
    return bool(_WRITERS)


def _expressions(module) -> list:
    found: list = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node) -> bool:
            if isinstance(node, (cst.BaseExpression, cst.Arg, cst.BaseElement, cst.SubscriptElement)):
                found.append(node)
            return True

    module.visit(Collect())
    return found


def _generate(node, indent: str, newline: str, target) -> Optional[tuple[str, Optional[tuple[int, int]]]]:
    w = _Writer(indent, newline, target)
    try:
        if node.__class__ is cst.Arg:
            _arg(w, node)
        elif node.__class__ in (cst.Element, cst.StarredElement, cst.DictElement, cst.StarredDictElement):
            _element(w, node, False, False)
        elif node.__class__ is cst.SubscriptElement:
            _subscript_element(w, node, False)
        else:
            _emit(w, node)
    except _Unsupported:
        return None
    except RecursionError:
        return None
    return "".join(w.out), w.span


def generate(node, indent: str = "", newline: str = "\n", target=None) -> Optional[tuple[str, Optional[tuple[int, int]]]]:
    """(the code libcst writes for `node` with these indentation tokens and default newline,
    the range PositionProvider gives `target` within it, or None when `target` is not met), or
    None when a node in it is not one this module writes."""
    if not _STATE["checked"] and not _enabled():
        return None
    if not _WRITERS:
        return None
    return _generate(node, indent, newline, target)


def code(module, node) -> Optional[str]:
    """`module.code_for_node(node)`, or None when this module does not write one of its nodes."""
    found = generate(node, "", module.default_newline)
    return None if found is None else found[0]
