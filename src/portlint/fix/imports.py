"""The import lines a fix needs: which of them a module lacks and the edit that adds them after
its leading imports (or its docstring), never duplicating one it already has."""

from __future__ import annotations

import copy
import dataclasses
from typing import Iterable, Optional

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from portlint.findings import Fix, TextEdit
from portlint.fix.edits import apply_edits, line_starts
from portlint.fix.write import read_source
from portlint.report import CheckReport


def _dotted(node) -> str:
    if node is None:
        return ""
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return f"{_dotted(node.value)}.{node.attr.value}"
    return cst.Module([]).code_for_node(node)


def _bindings(stmt: cst.CSTNode) -> set[tuple]:
    """What an import statement binds, as comparable keys."""
    keys: set[tuple] = set()
    for small in getattr(stmt, "body", ()):
        if type(small) is cst.Import:
            for a in small.names:
                keys.add(("import", _dotted(a.name), _dotted(a.asname.name) if a.asname else None))
        elif type(small) is cst.ImportFrom:
            module = "." * len(small.relative) + _dotted(small.module)
            if type(small.names) is cst.ImportStar:
                keys.add(("from", module, "*", None))
            else:
                for a in small.names:
                    keys.add(("from", module, _dotted(a.name), _dotted(a.asname.name) if a.asname else None))
    return keys


def _is_import_line(stmt) -> bool:
    return type(stmt) is cst.SimpleStatementLine and all(
        type(s) in (cst.Import, cst.ImportFrom) for s in stmt.body)


def _block_imports(stmt) -> list:
    """Import lines directly inside a top-level `try:`/`if ...:` (guarded imports count)."""
    blocks = []
    if type(stmt) in (cst.Try, cst.If):
        blocks.append(stmt.body)
        if type(stmt) is cst.Try:
            blocks += [h.body for h in stmt.handlers]
            blocks += [b.body for b in (stmt.orelse, stmt.finalbody) if b is not None]
        elif stmt.orelse is not None:
            blocks.append(stmt.orelse.body)
    return [s for b in blocks for s in getattr(b, "body", ()) if _is_import_line(s)]


def _is_importish(stmt) -> bool:
    if _is_import_line(stmt):
        return True
    if type(stmt) in (cst.Try, cst.If):
        body = getattr(stmt.body, "body", ())
        return bool(body) and all(_is_import_line(s) or _is_pass(s) for s in body)
    return False


def _is_pass(stmt) -> bool:
    return type(stmt) is cst.SimpleStatementLine and all(type(s) is cst.Pass for s in stmt.body)


def _is_docstring(stmt) -> bool:
    return (type(stmt) is cst.SimpleStatementLine and len(stmt.body) == 1
            and type(stmt.body[0]) is cst.Expr
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def import_insertion(text: str, imports: Iterable[str], path: str = "") -> Optional[TextEdit]:
    """The edit adding the `imports` the module does not already have, after its leading
    imports (or its docstring); None when nothing is missing. Raises libcst's ParserSyntaxError
    for an unparsable `text` and ValueError for an import string that is not one import."""
    wanted = []
    for line in imports:
        stmt = cst.parse_statement(line.strip() + "\n")
        if not _is_import_line(stmt):
            raise ValueError(f"not an import statement: {line!r}")
        wanted.append((line.strip(), _bindings(stmt)))
    wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
    body = wrapper.module.body
    have: set[tuple] = set()
    for stmt in body:
        if _is_import_line(stmt):
            have |= _bindings(stmt)
        for inner in _block_imports(stmt):
            have |= _bindings(inner)
    missing: list[str] = []
    for line, keys in wanted:
        if not keys <= have and line not in missing:
            missing.append(line)
            have |= keys
    if not missing:
        return None
    pos = wrapper.resolve(PositionProvider)
    after = None
    for i, stmt in enumerate(body):
        if _is_importish(stmt) or (i == 0 and _is_docstring(stmt)):
            after = stmt
        elif type(stmt) is not cst.SimpleStatementLine:
            break  # the first def/class/block ends the header
    nl = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or len(text)] else "\n"
    block = "".join(m + nl for m in missing)
    starts = line_starts(text)
    if after is None:
        line = pos[body[0]].start.line if body else len(starts)
        if not body and text and not text.endswith(("\n", "\r")):
            return TextEdit(path, (line, len(text) - starts[-1] + 1), (line, len(text) - starts[-1] + 1), nl + block)
        return TextEdit(path, (line, 1), (line, 1), block)
    end_line = pos[after].end.line
    if end_line < len(starts):
        return TextEdit(path, (end_line + 1, 1), (end_line + 1, 1), block)
    col = len(text) - starts[-1] + 1  # the last line has no newline
    return TextEdit(path, (end_line, col), (end_line, col), nl + block.rstrip("\r\n"))


def add_imports(text: str, imports: Iterable[str]) -> str:
    """`text` with the imports it lacks added after its existing imports; never duplicates."""
    edit = import_insertion(text, list(imports))
    return apply_edits(text, [edit]) if edit else text


def _imports_as_edit(fix: Optional[Fix]) -> Optional[Fix]:
    if fix is None or fix.applicability == "display-only" or not fix.edits or not fix.imports:
        return fix
    edits = list(fix.edits)
    try:
        extra = import_insertion(read_source(edits[0].path), fix.imports, edits[0].path)
    except Exception:  # unreadable or unparsable file: no machine-applicable fix
        return dataclasses.replace(fix, edits=[], imports=[])
    return dataclasses.replace(fix, edits=edits + ([extra] if extra else []), imports=[])


def with_import_edits(report: CheckReport) -> CheckReport:
    """A copy of `report` whose fixes carry their imports as an edit, for outputs that can only
    hold edits (SARIF); read from the files as they are now. A fix whose import cannot be placed
    loses its edits: applied without the import it would break the file."""
    out = copy.copy(report)
    out.findings = [dataclasses.replace(f, fix=_imports_as_edit(f.fix)) if f.fix and f.fix.imports else f
                    for f in report.findings]
    return out
