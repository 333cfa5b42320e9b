"""Un-padding boxes after a letterbox (PL105's program check): the padding the post-processing
subtracts from the boxes is not where the image was placed.

sophon-demo's letterboxes place the image at `int(round(dh - 0.1))` (copyMakeBorder's top, bmcv's
`set_sty`) but return the unrounded half padding `(dw, dh)`, which the post-processing subtracts
from the boxes. ultralytics subtracts the integer padding (`scale_boxes`: `round(... / 2 - 0.1)`;
the validators pass LetterBox's integer `(left, top)`), so with an odd total padding the port's
boxes sit 0.5 px (letterbox space) off the original's. YOLOv5's `scale_boxes` subtracts the
fractional padding itself, so a port of it is aligned and stays quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.syntax import call_name, code, functions, walk
from portlint.findings import Fix, TextEdit
from portlint.rules.common import ran_functions


@dataclass
class Unpad:
    """A tuple of half paddings a letterbox hands on, with the roundings that placed the image."""

    src: object
    stmt: cst.CSTNode
    tup: cst.Tuple
    placed: dict  # name -> the int(round(name - 0.1)) call


def _minus_tenth(node, name: Optional[str] = None) -> Optional[str]:
    """`x - 0.1` -> 'x' (the name), else None."""
    if type(node) is cst.BinaryOperation and type(node.operator) is cst.Subtract and \
            type(node.right) is cst.Float and float(node.right.value) == 0.1 and type(node.left) is cst.Name:
        return node.left.value
    return None


def _rounded_placement(node, truncation: bool = False) -> Optional[tuple]:
    """`int(round(dh - 0.1))` / `round(dh - 0.1)` (and with `truncation`, `int(dh)`: bmcv's
    `set_sty(int(ty1))`) -> ('dh', the outer call)."""
    if type(node) is not cst.Call or not node.args:
        return None
    name = call_name(node)
    inner = node.args[0].value
    if truncation and name == "int" and type(inner) is cst.Name:
        return inner.value, node
    if name == "int" and type(inner) is cst.Call and call_name(inner) == "round" and inner.args:
        found = _minus_tenth(inner.args[0].value)
        return (found, node) if found else None
    if name == "round":
        found = _minus_tenth(inner)
        return (found, node) if found else None
    return None


# Both are facts of a function's syntax alone, asked by PL104 and PL105 for every program that ran
# the function: computed once per function node (the node is kept, so a reused id is seen).
_SUBTRACTS: dict = {}
_HANDED: dict = {}


def _subtracts_from_array(fn) -> bool:
    found = _SUBTRACTS.get(id(fn))
    if found is None or found[0] is not fn:
        value = any(type(n) is cst.AugAssign and type(n.operator) is cst.SubtractAssign and
                    type(n.target) is cst.Subscript for n in walk(fn.body))
        found = _SUBTRACTS[id(fn)] = (fn, value)
    return found[1]


def _handed_on(fn, truncation: bool) -> list:
    """[(stmt, tuple, placed)] of one function: the names it placed the image with through a
    rounding, and the tuples of two of them it returns or stores."""
    key = (id(fn), truncation)
    found = _HANDED.get(key)
    if found is not None and found[0] is fn:
        return found[1]
    placed, out = {}, []
    for n in walk(fn.body):
        hit = _rounded_placement(n, truncation) if type(n) is cst.Call else None
        if hit and hit[0] not in placed:
            placed[hit[0]] = hit[1]
    if len(placed) >= 2:
        for stmt in walk(fn.body):
            if type(stmt) not in (cst.Return, cst.Assign) or stmt.value is None:
                continue
            for n in walk(stmt.value):
                if type(n) is cst.Tuple and len(n.elements) == 2 and all(
                        type(e.value) is cst.Name and e.value.value in placed for e in n.elements):
                    out.append((stmt, n, placed))
    _HANDED[key] = (fn, out)
    return out


def ported_unpads(prog, truncation: bool = False, need_subtract: bool = True) -> list[Unpad]:
    """Tuples of names the function placed the image with through a rounding, handed on unrounded
    (returned or stored), in a program whose functions subtract a padding from an array."""
    fns = list(ran_functions(prog))
    # the file's text first: a function cannot hold a `-=` or a `round` its file does not
    if need_subtract and not any("-=" in src.text and _subtracts_from_array(fn) for src, fn in fns):
        return []
    return [Unpad(src, stmt, tup, placed) for src, fn in fns if "round" in src.text or (truncation and "int" in src.text)
            for stmt, tup, placed in _handed_on(fn, truncation)]


def original_integer_unpad(facts) -> Optional[Site]:
    """Where the original computes the padding it subtracts from its boxes as a rounded integer
    (`pad = (round((w1 - w0 * gain) / 2 - 0.1), ...)`), in a function that subtracts it."""
    for src in facts.side.files.values():
        if src.module is None or "- 0.1" not in src.text or "pad" not in src.text:
            continue
        for fn in functions(src):
            subtracts = any(type(n) is cst.AugAssign and type(n.operator) is cst.SubtractAssign and
                            "pad" in code(src, n.value) for n in walk(fn.body))
            if not subtracts:
                continue
            for n in walk(fn.body):
                if type(n) is cst.Assign and any(type(t.target) is cst.Name and "pad" in t.target.value for t in n.targets) \
                        and any(type(c) is cst.Call and call_name(c) == "round" and "- 0.1" in code(src, c)
                                for c in walk(n.value)):
                    return Site(src, n)
    return None


def unpad_fix(u: Unpad) -> Optional[Fix]:
    sp = span(Site(u.src, u.tup))
    if not sp:
        return None
    parts = [code(u.src, u.placed[e.value.value]) for e in u.tup.elements]
    text = ", ".join(parts) if u.tup.lpar else "(" + ", ".join(parts) + ")"  # the span leaves out parentheses
    return Fix("safe", "hand on the padding the image was placed with (rounded), as the original subtracts", [
        TextEdit(u.src.display, sp[0], sp[1], text)])


def message(u: Unpad) -> str:
    names = ", ".join(e.value.value for e in u.tup.elements)
    first = code(u.src, u.placed[u.tup.elements[0].value.value])
    return (f"ported places the image at the rounded padding ({first}) but hands on the unrounded ({names}), "
            "which the post-processing subtracts from the boxes; the original subtracts the integer padding: "
            "when the total padding is odd the boxes are 0.5 px (input pixels) off")


def _symmetric_slice(node) -> Optional[str]:
    """`t : n - t` (a slice keeping what lies between t and t from the end) -> 't'."""
    if type(node) is cst.Slice and type(node.lower) is cst.Name and type(node.upper) is cst.BinaryOperation and \
            type(node.upper.operator) is cst.Subtract and type(node.upper.right) is cst.Name and \
            node.upper.right.value == node.lower.value:
        return node.lower.value
    return None


def symmetric_crops(prog) -> list:
    """(file, statement, slice) of the slices `x[t : n - t]` in the functions the program ran."""
    out = []
    for src, fn in ran_functions(prog):
        for stmt in walk(fn.body):
            if type(stmt) not in (cst.Expr, cst.Assign):
                continue
            for n in walk(stmt):
                if type(n) is cst.Slice and _symmetric_slice(n):
                    out.append((src, stmt, n))
    return out
