"""Loads one side of a pair: a file plus the local modules it imports, or every .py under a folder.

Files that cannot matter are skipped before parsing (too large, binary, not UTF-8); each file is
parsed once per process, cached by the hash of its content. Two files of one side never share a
tree: the analysis tells places apart by node identity, so a second identical file gets its own.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import libcst as cst

from portlint.analysis import fastparse, parseguard
from portlint.analysis.notebook import is_notebook, notebook_code
from portlint.analysis.tree import small_statements
from portlint.errors import SourceError
from portlint.frontend import front_end
from portlint.filegate import NotRegular, TooLarge, read_regular
from portlint.local_files import resolve as resolve_local_module, search_roots, walk_py

MAX_FILE_BYTES = 2_000_000
_PARSED: dict[tuple[str, int], cst.Module] = {}  # (content hash, copy) -> tree
_REFUSED: dict[str, str] = {}  # content hash -> why parseguard refused it


@dataclass(eq=False)
class SourceFile:
    path: Path  # resolved
    display: str  # as the user sees it
    text: str
    digest: str
    module: Optional[cst.Module] = None
    lines: list[str] = field(default_factory=list)
    cells: Any = None  # a notebook's analysis.notebook.CellMap: findings point at (cell, line)

    def line(self, n: int) -> str:
        if not self.lines:
            self.lines = self.text.splitlines()
        return self.lines[n - 1] if 0 < n <= len(self.lines) else ""


@dataclass
class Side:
    """The files of one side and which of them are programs (entry points)."""

    root: Path
    files: dict[Path, SourceFile] = field(default_factory=dict)
    entries: list[SourceFile] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # real path -> sha256 of every file read
    copies: dict[str, int] = field(default_factory=dict)  # sha256 -> files of this side parsed with it


def read_source(path: Path, display: str) -> SourceFile:
    try:
        data = read_regular(path, MAX_FILE_BYTES)  # a FIFO or device would block or never end
    except NotRegular as exc:
        raise SourceError(display, "is a directory" if exc.reason == "a directory" else "not a regular file") from None
    except TooLarge as exc:
        raise SourceError(display, f"file too large to analyse ({exc.size / 1e6:.1f} MB > {MAX_FILE_BYTES / 1e6:.0f} MB)") from None
    except PermissionError:
        raise SourceError(display, "permission denied") from None
    except FileNotFoundError:
        raise SourceError(display, "no such file") from None
    except IsADirectoryError:
        raise SourceError(display, "is a directory") from None
    except OSError as exc:
        raise SourceError(display, f"cannot read: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if is_notebook(path):
        try:
            text, cells = notebook_code(data)
        except ValueError as exc:
            raise _read_error(display, str(exc), digest) from None
        return SourceFile(path=path, display=display, text=text, digest=digest, cells=cells)
    if b"\x00" in data:
        raise _read_error(display, "binary file, not Python source", digest)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise _read_error(display, f"not valid text in its declared encoding ({exc.__class__.__name__})", digest) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(path=path, display=display, text=text, digest=digest)


def _read_error(display: str, detail: str, digest: str) -> SourceError:
    err = SourceError(display, detail)
    err.digest = digest  # the bytes judged: the cache checks they are still the file's (cache.py)
    return err


def parse(src: SourceFile, copy: int = 0) -> cst.Module:
    """Parse once per content hash and `copy` (the how-manieth file of its side with this content:
    each gets its own tree, see the module's docstring); syntax errors become a one-line SourceError."""
    if src.module is not None:
        return src.module
    module = _PARSED.get((src.digest, copy))
    if module is None:
        refused = _REFUSED.get(src.digest) or parseguard.refusal(src.text)  # libcst could take minutes or crash
        if refused:
            _REFUSED[src.digest] = refused
            raise SourceError(src.display, refused)
        module = _from_ast(src.text) if FRONT_END == "ast" else None
        try:
            if module is None:
                module = fastparse.parse_module(src.text)
        except cst.ParserSyntaxError as exc:
            raise SourceError(src.display, _syntax_message(src.text, exc)) from None
        except RecursionError:
            raise SourceError(src.display, "nested too deeply to parse") from None
        except Exception as exc:  # libcst raises assorted errors on hostile input
            raise SourceError(src.display, f"cannot parse: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        _PARSED[(src.digest, copy)] = module
        if FREEZE_TREES:
            gc.freeze()
    src.module = module
    return module


# Which parser builds the trees, for check and fix alike: "ast" (astfront: CPython's parser, the
# tree converted, about 2.5x cheaper; a file it does not convert goes to libcst) or "libcst"
# (fastparse, every file). A fix's edits are text edits at the recorded ranges either way.
FRONT_END = front_end()


def _from_ast(text: str):
    """The astfront tree of `text`, or None to parse it with libcst (what astfront does not
    convert, and every syntax error: libcst's path words those messages)."""
    from portlint.analysis import astfront

    try:
        return astfront.parse(text)
    except Exception:  # noqa: BLE001 - anything astfront cannot build is libcst's to parse
        return None


# During a check run (parallel.fewer_collections, and in each worker) every parsed tree is moved
# out of the cyclic collector's reach right after parsing: trees are acyclic and live for the
# whole run, yet each collection would scan them again (about 6% of a cold run). gc.freeze()
# moves what else is alive then too; the cyclic garbage of the analysis is a few hundred objects
# per pair (measured on the benchmark corpus), so what the freeze keeps from collection is small.
FREEZE_TREES = False


def _syntax_message(text: str, exc) -> str:
    """Where the syntax error really is: CPython's parser (parse only, nothing runs) points at
    the offending token; libcst reports where it gave up."""
    import ast

    valid = False
    try:
        ast.parse(text)
        valid = True  # Python parses it: libcst's parser has a limit (5000 concatenated strings)
    except SyntaxError as err:
        return f"syntax error at line {err.lineno}, column {err.offset or 1}: {err.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    detail = " ".join(getattr(exc, "message", "").split()) or "invalid syntax"
    detail = re.sub(r"^parser error: error at \d+:\d+: ", "", detail)
    if valid:
        return (f"not analysed: valid Python that libcst's parser cannot parse "
                f"(line {exc.raw_line}, column {exc.raw_column + 1}: {detail})")
    return f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {detail}"


def _display(path: Path, base_display: str, base: Path) -> str:
    try:
        rel = path.relative_to(base)
    except ValueError:
        return str(path)
    return str(Path(base_display) / rel) if str(rel) != "." else base_display


def imported_modules(module: cst.Module) -> list[tuple[int, str]]:
    """(relative level, dotted name) of every import statement anywhere in the module.

    Walks statements only (an import is always a statement), not every expression node."""
    out: list[tuple[int, str]] = []
    for node in _import_statements(module.body):
        if type(node) is cst.Import:
            for alias in node.names:
                out.append((0, _dotted(alias.name)))
        else:
            level = len(node.relative)
            base = _dotted(node.module) if node.module else ""
            out.append((level, base))
            if type(node.names) is not cst.ImportStar:
                for alias in node.names:
                    out.append((level, f"{base}.{_dotted(alias.name)}" if base else _dotted(alias.name)))
    return out


def _import_statements(body):
    """Import and ImportFrom nodes in source order, in every nested block of `body`."""
    for small in small_statements(body):
        if type(small) is cst.Import or type(small) is cst.ImportFrom:
            yield small


def dotted_name(node) -> str:
    """`a.b.c` for a Name/Attribute chain, "" otherwise."""
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


_dotted = dotted_name


def load_side(arg: str) -> Side:
    """A file brings the local modules it imports (transitively); a directory brings every .py."""
    path = Path(arg)
    if not path.exists():
        raise SourceError(arg, "no such file or directory")
    if path.is_dir():
        root = path.resolve()
        side = Side(root=root)
        for p in walk_py(path):
            _add(side, p.resolve() if not p.is_symlink() else p.absolute(), _display(p.absolute(), arg, path.absolute()), entry=True)
        side.entries = program_files(side)
        return side
    if path.suffix not in (".py", ".pyw", "", ".ipynb"):
        raise SourceError(arg, "not a Python file (.py) or a Jupyter notebook (.ipynb)")
    root = path.resolve().parent
    side = Side(root=root)
    _add(side, path.resolve(), arg, entry=True)
    roots = search_roots(root)
    queue = [f for f in side.files.values()]
    while queue:
        src = queue.pop()
        if src.module is None:
            continue
        for level, dotted in imported_modules(src.module):
            target = resolve_local_module(src.path, level, dotted, roots)
            if target is not None and target not in side.files:
                display = _display(target, str(Path(arg).parent), root)
                new = _add(side, target, display, entry=False)
                if new is not None:
                    queue.append(new)
    return side


def has_main(module: cst.Module) -> bool:
    """A top-level `if __name__ == "__main__":` (either operand order, any quotes)."""
    for stmt in module.body:
        if type(stmt) is cst.If and type(stmt.test) is cst.Comparison:
            test = stmt.test
            parts = [test.left] + [c.comparator for c in test.comparisons]
            names = {p.value for p in parts if type(p) is cst.Name}
            strings = {p.evaluated_value for p in parts if type(p) is cst.SimpleString}
            if "__name__" in names and "__main__" in strings:
                return True
    return False


def program_files(side: Side) -> list[SourceFile]:
    """The programs of a folder side, in file order: every file with a main block, and every file
    no other file of the side imports (a script, a notebook export, a class a framework drives);
    the modules they import are run when imported, not as programs of their own."""
    files = list(side.files.values())
    imported = set()
    roots = search_roots(side.root)
    for src in files:
        for level, dotted in imported_modules(src.module):
            target = resolve_local_module(src.path, level, dotted, roots)
            if target is not None and target != src.path:
                imported.add(target)
    return [src for src in files if has_main(src.module) or src.path not in imported]


def _add(side: Side, path: Path, display: str, entry: bool) -> Optional[SourceFile]:
    if path in side.files:
        return None
    src = None
    try:
        src = read_source(path, display)
        parse(src, side.copies.get(src.digest, 0))
    except SourceError as err:
        side.errors.append(err)
        digest = src.digest if src is not None else getattr(err, "digest", None)
        if digest:
            side.digests[os.path.realpath(path)] = digest
        return None
    side.digests[os.path.realpath(path)] = src.digest
    side.copies[src.digest] = side.copies.get(src.digest, 0) + 1
    side.files[path] = src
    if entry:
        side.entries.append(src)
    return src
