"""Python's `global` declaration: a function that declares `global args` and assigns `args` sets
the module's name, not a local (eval.py's `parse_args()` in yolact sets the options every other
function of the program reads). The interpreter asks here which names a function declares."""

from __future__ import annotations

import libcst as cst

from portlint.analysis.tree import _statements

_GLOBALS: dict = {}  # id(FunctionDef) -> (node, names): the node is kept so a reused id is seen


def global_names(fn_node) -> frozenset:
    """The names `fn_node` (a FunctionDef) declares global in its own body (not in nested defs)."""
    found = _GLOBALS.get(id(fn_node))
    if found is None or found[0] is not fn_node:
        names: set = set()
        if type(fn_node) is cst.FunctionDef:
            # `global` is a small statement: a statement-only walk (tree._statements, no
            # expression visited, nested definitions not entered) finds every one
            for node in _statements([fn_node.body], enter_definitions=False):
                t = type(node)
                if t is cst.SimpleStatementLine or t is cst.SimpleStatementSuite:
                    for small in node.body:
                        if type(small) is cst.Global:
                            names.update(item.name.value for item in small.names)
        found = _GLOBALS[id(fn_node)] = (fn_node, frozenset(names))
    return found[1]
