"""Building blocks of fixes: text edits of libcst nodes, the names a file imports a library
under, insertions after the imports. A fix's edits are positions in the text the check saw."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.findings import TextEdit

def edit(site: Site, node: cst.CSTNode, replacement: str) -> Optional[TextEdit]:
    """Replace a node's text. libcst positions exclude a node's own parentheses, so a
    parenthesised replacement for a parenthesised node drops one pair."""
    sp = span(Site(site.file, node))
    if sp is None:
        return None
    if getattr(node, "lpar", None) and replacement.startswith("("):
        try:
            parsed = cst.parse_expression(replacement)
        except cst.ParserSyntaxError:
            parsed = None
        if parsed is not None and getattr(parsed, "lpar", None):
            replacement = replacement[1:-1]
    return TextEdit(site.file.display, sp[0], sp[1], replacement)


def node_code(site: Site, node) -> str:
    return site.file.module.code_for_node(node)


def import_alias(src, module: str) -> Optional[str]:
    """The local name under which `module` is imported in a file, or None."""
    for stmt in src.module.body:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.Import:
                    for alias in small.names:
                        name = src.module.code_for_node(alias.name)
                        if name == module:
                            return alias.asname.name.value if alias.asname else name
    return None


def from_import(src, module: str, name: str) -> Optional[str]:
    for stmt in src.module.body:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.ImportFrom and small.module is not None and not small.relative:
                    if src.module.code_for_node(small.module) == module and type(small.names) is not cst.ImportStar:
                        for alias in small.names:
                            if src.module.code_for_node(alias.name) == name:
                                return alias.asname.name.value if alias.asname else name
    return None


def num_text(v: float) -> str:
    r = round(float(v), 8)
    return repr(int(r)) if r == int(r) and abs(r) < 1e15 else repr(r)


def input_scale_name(src) -> Optional[str]:
    """The expression a SAIL program stores get_input_scale(...) in, e.g. `self.input_scale`."""
    if "get_input_scale" not in src.text:  # the usual case: no walk at all
        return None
    from portlint.analysis.tree import module_index

    for node in module_index(src.module).order:  # lexical order, as a visitor would go
        if type(node) is cst.Assign:
            value = node.value
            if type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value == "get_input_scale":
                return src.module.code_for_node(node.targets[0].target)
    return None


def contains(outer: Site, node) -> bool:
    """Whether `node` is `outer`'s node or under it (a walk of the tree, not a libcst visit:
    a visit rebuilds the nodes it passes)."""
    from portlint.analysis.syntax import walk

    return any(n is node for n in walk(outer.node, skip_functions=False))


def insert_after_imports(src, text: str) -> Optional[TextEdit]:
    """An insertion after the module's last top-level import (or docstring)."""
    body = src.module.body
    last = None
    for i, stmt in enumerate(body):
        if type(stmt) is cst.SimpleStatementLine and all(type(s) in (cst.Import, cst.ImportFrom) for s in stmt.body):
            last = stmt
        elif i == 0 and type(stmt) is cst.SimpleStatementLine and type(stmt.body[0]) is cst.Expr and isinstance(stmt.body[0].value, cst.SimpleString):
            last = stmt
        elif last is not None or i > 0:
            break
    if last is None:
        return TextEdit(src.display, (1, 1), (1, 1), text.lstrip("\n") + "\n\n")
    sp = span(Site(src, last))
    if sp is None:
        return None
    line = sp[1][0] + 1
    return TextEdit(src.display, (line, 1), (line, 1), "\n\n" + text.strip("\n") + "\n")
