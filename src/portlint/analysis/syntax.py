"""Syntax helpers over libcst trees: parents, walks, node text, dotted names.

Rules read the *structure* of post-processing code (loops, comparisons, argsorts) here; values
come from the interpreter (analysis.facts). Everything is memoised per node: trees never change.
"""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from portlint.analysis import fastcode, tree
from portlint.analysis.tree import children

def parent(src, node):
    return tree.module_index(src.module).parent(node)


def ancestors(src, node) -> Iterator:
    idx = tree.module_index(src.module)
    node = idx.parent(node)
    while node is not None:
        yield node
        node = idx.parent(node)


def assignment_of(src, value) -> Optional[cst.Assign]:
    """The `targets = value` statement whose right-hand side is exactly `value`, if any.

    From a map of every assignment's value, built from the statements only (an Assign is always
    a statement): far cheaper than indexing the whole module for one parent lookup."""
    module = src.module
    found = _ASSIGNMENTS.get(id(module))
    if found is None or found[0] is not module:
        values = {id(small.value): small for small in tree.small_statements(module.body) if type(small) is cst.Assign}
        found = _ASSIGNMENTS[id(module)] = (module, values)
    stmt = found[1].get(id(value))
    return stmt if stmt is not None and stmt.value is value else None


_ASSIGNMENTS: dict = {}


def enclosing_function(src, node) -> Optional[cst.FunctionDef]:
    for a in ancestors(src, node):
        if type(a) is cst.FunctionDef:
            return a
    return None


_WALKED: dict = {}


def walk(node, skip_functions: bool = True) -> Iterator:
    """Every node under `node` (itself included), not descending into nested defs and lambdas,
    leaving out layout-only nodes (whitespace, newlines, comments, punctuation: tree.LAYOUT).

    Trees never change: a node of an indexed module (functions(), parent()) is walked as a slice
    of the module's one pre-order traversal (engine/tree.py), any other node once and remembered."""
    found = tree.find(node)
    if found is not None:
        return iter(found[0].walk(found[1], skip_functions))
    key = (id(node), skip_functions)
    hit = _WALKED.get(key)
    if hit is not None and hit[0] is node:
        return iter(hit[1])
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        for child in reversed(children(n)):
            if (skip_functions and type(child) in tree.DEFINITIONS) or type(child) in tree.LAYOUT:
                continue
            stack.append(child)
    _WALKED[key] = (node, out)
    return iter(out)


def code(src, node) -> str:
    """The node's source text; remembered, as rules ask for the same nodes' text again and again
    (libcst regenerates it from the tree each time)."""
    hit = _CODE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    text = _plain_code(node)
    if text is not None:
        return text
    try:
        module = src.module
        # an astfront tree reads its nodes' text off the source; a libcst tree writes it
        text = module.code_for_node(node) if hasattr(module, "spans") else fastcode.code(module, node)
        if text is None:  # a node the fast writer leaves to libcst (statements, lambdas)
            text = src.module.code_for_node(node)
    except Exception:
        text = ""
    if len(_CODE) > 100_000:
        _CODE.clear()
    _CODE[id(node)] = (node, text)
    return text


_CODE: dict = {}


_LEAVES = {cst.Name, cst.Integer, cst.Float, cst.SimpleString}


def _plain_code(node) -> Optional[str]:
    """The text of a name, number, string or `a.b.c` chain written without parentheses or spaces,
    read off the nodes (libcst's code generation costs ~30x more); None for anything else."""
    t = type(node)
    if t in _LEAVES:
        return node.value if not node.lpar else None
    if t is cst.Attribute and not node.lpar:
        dot = node.dot
        if type(dot) is cst.Dot and _no_space(dot.whitespace_before) and _no_space(dot.whitespace_after):
            base = _plain_code(node.value)
            return None if base is None else f"{base}.{node.attr.value}"
    return None


def _no_space(ws) -> bool:
    return type(ws) is cst.SimpleWhitespace and ws.value == ""


def call_name(node) -> str:
    """`np.argsort` -> 'np.argsort', `x.argsort` -> '.argsort' (method on an expression)."""
    if type(node) is not cst.Call:
        return ""
    return dotted(node.func)


def dotted(node) -> str:
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else f".{node.attr.value}"
    return ""


def last_name(node) -> str:
    d = dotted(node)
    return d.rsplit(".", 1)[-1] if d else ""


def functions(src) -> Iterator[cst.FunctionDef]:
    """Every def in the module, nested ones too, in lexical order."""
    return iter(tree.module_index(src.module).functions())


def params_of(fn: cst.FunctionDef) -> list[str]:
    p = fn.params
    return [x.name.value for x in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)]


def has_call(node) -> bool:
    return any(type(n) is cst.Call for n in walk(node, skip_functions=False))
