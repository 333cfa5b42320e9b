"""Applies fixes to the ported program, Ruff style: check, apply what is applicable and does not
conflict, re-check the new text, repeat until nothing changes.

A rule's edits are positions in the text the check saw, so one round applies only fixes whose
edits do not overlap; the others are retried on the re-checked text. A fix that leaves a file
unparsable is dropped on its own without losing the rest. Only files the caller lists (the
ported program) are ever written; the original side is never touched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from portlint.fix.write import match_newlines
from portlint.findings import Finding, TextEdit
from portlint.report import CheckReport

_EOL = re.compile(r"\r\n|\r|\n")


# --- edits --------------------------------------------------------------------------------

def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _EOL.finditer(text)]


def _offset(text: str, starts: list[int], pos: tuple[int, int]) -> int:
    line, col = pos
    if not 1 <= line <= len(starts):
        raise ValueError(f"line {line} is outside the file ({len(starts)} lines)")
    end = starts[line] if line < len(starts) else len(text)
    off = starts[line - 1] + col - 1
    if col < 1 or off > end:
        raise ValueError(f"column {col} is outside line {line}")
    return off


def _span(text: str, starts: list[int], e: TextEdit) -> tuple[int, int]:
    a, b = _offset(text, starts, e.start), _offset(text, starts, e.end)
    if b < a:
        raise ValueError(f"edit ends before it starts at line {e.start[0]}")
    return a, b


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[0] == a[1] == b[0] == b[1]:
        return True  # two insertions at one place: their order would be a guess
    return a[0] < b[1] and b[0] < a[1]


def split_overlapping(text: str, edits: Iterable[TextEdit]) -> tuple[list[TextEdit], list[TextEdit]]:
    """(kept, skipped): the first of overlapping edits wins, in the given order."""
    starts = _line_starts(text)
    kept, spans, skipped = [], [], []
    for e in edits:
        span = _span(text, starts, e)
        if any(_overlaps(span, s) for s in spans):
            skipped.append(e)
        else:
            kept.append(e)
            spans.append(span)
    return kept, skipped


def apply_edits(text: str, edits: Iterable[TextEdit], skipped: Optional[list[TextEdit]] = None) -> str:
    """`text` with the edits applied (1-based, end-exclusive line/column positions in `text`).

    Overlapping edits: the first wins; the rest are appended to `skipped` when given.
    Raises ValueError for a position outside the text."""
    kept, dropped = split_overlapping(text, edits)
    if skipped is not None:
        skipped.extend(dropped)
    starts = _line_starts(text)
    spans = sorted(((*_span(text, starts, e), e.replacement) for e in kept), key=lambda s: s[:2])
    out, last = [], 0
    for a, b, replacement in spans:
        out.append(text[last:a])
        out.append(replacement)
        last = b
    out.append(text[last:])
    return "".join(out)


# --- imports ------------------------------------------------------------------------------

def _dotted(node) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return cst.Module([]).code_for_node(node)


def _bindings(stmt: cst.CSTNode) -> set[tuple]:
    """What an import statement binds, as comparable keys."""
    keys: set[tuple] = set()
    for small in getattr(stmt, "body", ()):
        if isinstance(small, cst.Import):
            for a in small.names:
                keys.add(("import", _dotted(a.name), _dotted(a.asname.name) if a.asname else None))
        elif isinstance(small, cst.ImportFrom):
            module = "." * len(small.relative) + _dotted(small.module)
            if isinstance(small.names, cst.ImportStar):
                keys.add(("from", module, "*", None))
            else:
                for a in small.names:
                    keys.add(("from", module, _dotted(a.name), _dotted(a.asname.name) if a.asname else None))
    return keys


def _is_import_line(stmt) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _block_imports(stmt) -> list:
    """Import lines directly inside a top-level `try:`/`if ...:` (guarded imports count)."""
    blocks = []
    if isinstance(stmt, (cst.Try, cst.If)):
        blocks.append(stmt.body)
        if isinstance(stmt, cst.Try):
            blocks += [h.body for h in stmt.handlers]
            blocks += [b.body for b in (stmt.orelse, stmt.finalbody) if b is not None]
        elif stmt.orelse is not None:
            blocks.append(stmt.orelse.body)
    return [s for b in blocks for s in getattr(b, "body", ()) if _is_import_line(s)]


def _is_importish(stmt) -> bool:
    if _is_import_line(stmt):
        return True
    if isinstance(stmt, (cst.Try, cst.If)):
        body = getattr(stmt.body, "body", ())
        return bool(body) and all(_is_import_line(s) or _is_pass(s) for s in body)
    return False


def _is_pass(stmt) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, cst.Pass) for s in stmt.body)


def _is_docstring(stmt) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
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
        elif not isinstance(stmt, cst.SimpleStatementLine):
            break  # the first def/class/block ends the header
    nl = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or len(text)] else "\n"
    block = "".join(m + nl for m in missing)
    starts = _line_starts(text)
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


def parses(text: str) -> bool:
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return False
    return True


# --- the fix loop -------------------------------------------------------------------------

@dataclass
class FixFailure:
    finding: Finding
    reason: str


@dataclass
class FixResult:
    before: dict[str, str]
    after: dict[str, str]
    applied: list[Finding] = field(default_factory=list)
    failures: list[FixFailure] = field(default_factory=list)
    report: CheckReport = field(default_factory=CheckReport)  # the check of the final text
    iterations: int = 0
    converged: bool = True

    @property
    def changed(self) -> list[str]:
        return [p for p in self.after if self.after[p] != self.before[p]]


def applicable(f: Finding, include_unsafe: bool) -> bool:
    fix = f.fix
    if fix is None or not fix.edits:
        return False
    return fix.applicability == "safe" or (include_unsafe and fix.applicability == "unsafe")


def _key(path: str) -> str:
    return str(Path(path).resolve())


def read_source(path: str) -> str:
    """File text with its line endings kept (CRLF stays CRLF) and no BOM."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return fh.read()


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _state(texts: dict[str, str]) -> str:
    h = hashlib.sha256()
    for p in sorted(texts):
        h.update(p.encode() + b"\0" + texts[p].encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


class _Round:
    """One round: the non-conflicting, syntax-preserving subset of the fixes on one text state."""

    def __init__(self, texts: dict[str, str], names: dict[str, str]):
        self.base, self.names = texts, names
        self.edits: dict[str, list[TextEdit]] = {}
        self.imports: dict[str, list[str]] = {}
        self.result = dict(texts)

    def try_fix(self, f: Finding) -> Optional[str]:
        """Accepts the fix and returns None, returns "" to defer it, or the reason it fails."""
        fix = f.fix
        by_file: dict[str, list[TextEdit]] = {}
        for e in fix.edits:
            k = _key(e.path)
            if k not in self.base:
                return f"it edits {e.path}, which is not part of the ported program"
            by_file.setdefault(k, []).append(e)
        home = next(iter(by_file))
        trial = {}
        for k, edits in by_file.items():
            base = self.base[k]
            try:
                _, skipped = split_overlapping(base, [*self.edits.get(k, []), *edits])
                if skipped:
                    return ""  # conflicts with a fix taken this round: retry after the re-check
                text = apply_edits(base, [*self.edits.get(k, []), *edits])
                imports = [*self.imports.get(k, []), *(fix.imports if k == home else [])]
                if imports:
                    text = add_imports(text, imports)
            except ValueError as exc:
                return f"its edit does not fit the file: {exc}"
            except cst.ParserSyntaxError:
                return "the fixed file would not parse"
            if not parses(text):
                return "the fixed file would not parse"
            trial[k] = match_newlines(base, text)
        for k, edits in by_file.items():
            self.edits.setdefault(k, []).extend(edits)
            if k == home:
                self.imports.setdefault(k, []).extend(fix.imports)
        self.result.update(trial)
        return None


def _first_edit(f: Finding) -> tuple:
    e = f.fix.edits[0]
    return (e.path, e.start, e.end, f.code)


def fix_pair(run_check: Callable[[], CheckReport], ported_files: Iterable[str], include_unsafe: bool,
             max_iterations: int = 10) -> FixResult:
    """Fix `ported_files` in place (give it a temporary copy) until the check converges.

    `run_check()` must check the files as they are on disk and report edits with paths that
    resolve to `ported_files`."""
    names = {_key(p): str(p) for p in ported_files}
    before = {k: read_source(p) for k, p in names.items()}
    current = dict(before)
    result = FixResult(before={names[k]: t for k, t in before.items()}, after={})
    seen = {_state(current)}
    for iteration in range(max_iterations + 1):
        report = run_check()
        result.report, result.iterations = report, iteration
        todo = sorted((f for f in report.findings if applicable(f, include_unsafe)), key=_first_edit)
        result.failures = []  # only fixes of findings that are still there are worth a warning
        if not todo:
            break
        if iteration == max_iterations:
            result.converged = False
            break
        rnd, accepted = _Round(current, names), []
        for f in todo:
            reason = rnd.try_fix(f)
            if reason is None:
                accepted.append(f)
            elif reason:
                result.failures.append(FixFailure(f, reason))
        if not accepted:
            break
        state = _state(rnd.result)
        if state in seen:  # the fixes undo each other: stop at the last state that was checked
            result.converged = False
            break
        seen.add(state)
        for k, text in rnd.result.items():
            if text != current[k]:
                _write(names[k], text)
        current = rnd.result
        result.applied.extend(accepted)
    result.after = {names[k]: t for k, t in current.items()}
    return result
