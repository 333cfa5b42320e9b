"""Content-hash cache of per-pair results: `.portlint_cache/` (or `cache-dir` in [tool.portlint]).

An entry holds what `analyze_pair` returned for one pair — findings with their fixes, errors,
notes, file counts — before rule selection and suppressions, which are applied on every run.
Its key is a SHA-256 over everything the result depends on:

* the bytes of every file of both sides: a folder side's every .py file (found with the same walk
  as the loader), a file side's file and, transitively, every local module it could import
  (found by a text scan that over-approximates the imports — it also sees imports in comments and
  strings — resolved with the loader's rules, so creating a module that shadows another also
  changes the key);
* the paths as given, the current folder (paths in findings are shown as the user typed them);
* the bmodel's bytes (or that it is missing), the input shape, and every CheckOptions field that
  reaches the analysis (rule options, select, ignore);
* portlint's own source files (a development checkout edits code without bumping the version),
  libcst's version and Python's.

Computing a key reads and hashes files but never parses them, and does not import libcst or the
engine, so a warm run costs little more than reading the files.

The key is computed before the analysis reads the files, so the result is stored only if it is the
analysis of the bytes the key covers: the report lists the digest of every file the analysis read
(`CheckReport.inputs`: both sides' files and the yaml/json files the programs read as data), and a
file whose digest differs from the one in the key (saved during a long run) means no entry. Files
the key does not cover (the data files) are recorded in the entry and re-hashed when it is read.

Safety: an entry is written to a temporary file and renamed into place (atomic), so concurrent runs
never see half an entry. It is read only if it is a regular file (not a FIFO, a link, a device) of
bounded size, and served only if it is one portlint wrote for this key: JSON of the expected shape
whose SHA-256 checksum matches (a changed digit is a miss) and whose data files are unchanged;
anything else is a miss (and is overwritten). A result is stored only when decoding its encoding
gives back an equal result, and never when the analysis hit the wall-clock time limit (that result
depends on the machine, not the input). Any file-system problem with the cache itself makes it a
no-op, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import stat
import sys
import tempfile
import time
import tokenize
from pathlib import Path
from typing import Any, Optional

from portlint.filegate import NotRegular, TooLarge, read_regular
from portlint.local_files import forget as forget_file_system, resolve as resolve_local_module, search_roots, walk_py

FORMAT = 3  # bump when the entry layout changes (2: entries in one folder, no fan-out; 3: checksum, unkeyed inputs)
MAX_ENTRY_BYTES = 64_000_000
MAX_FILE_BYTES = 2_000_000  # the loader's limit (engine/source.py); larger files are only sized
# CheckOptions fields that do not change a pair's analysis.
_NOT_IN_KEY = {"pairs", "no_cache", "cache_dir", "show_unused_suppressions", "jobs"}
TIME_LIMIT_MARK = "time limit"  # in the note/error the engine gives when a program hit the time limit
PRUNE_AFTER_DAYS = 14


# --------------------------------------------------------------------------- where

def default_cache_dir(start: Optional[Path] = None) -> Path:
    """`.portlint_cache` beside the nearest pyproject.toml at or above `start`, else in `start`."""
    start = Path(start or os.getcwd()).absolute()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / ".portlint_cache"
    return start / ".portlint_cache"


# --------------------------------------------------------------------------- what a pair reads

# literal first (no leading \b) so the regex engine can skip ahead with a fast substring search
_FROM = re.compile(r"from\b\s*((?:\.\s*)*)((?:[^\W\d]\w*)(?:\s*\.\s*[^\W\d]\w*)*)?\s*\bimport\b")
_IMPORT = re.compile(r"import\b")
_DOTTED = re.compile(r"\s*([^\W\d]\w*(?:\s*\.\s*[^\W\d]\w*)*)")
_CONTINUATION = re.compile(r"\\\r?\n|\\\r")
_SPACE = re.compile(r"\s+")
_LINE_END = re.compile(r"[\n\r;#]")


def _names_after(text: str, pos: int) -> list[str]:
    """The dotted names listed after an `import` keyword ending at `pos`."""
    i = pos
    while i < len(text) and text[i] in " \t\f":
        i += 1
    if i < len(text) and text[i] == "(":
        lines = []
        for line in text[i + 1:].splitlines():
            code = line.split("#", 1)[0]  # a `)` in a comment does not close the list
            if ")" in code:
                lines.append(code.split(")", 1)[0])
                break
            lines.append(code)
        chunk = "\n".join(lines)
    else:
        m = _LINE_END.search(text, i)
        chunk = text[i:m.start() if m else len(text)]
    names = []
    for part in chunk.split(","):
        m = _DOTTED.match(part)
        if m:
            names.append(_SPACE.sub("", m.group(1)))
    return names


def _starts_word(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")


def scan_imports(text: str) -> set[tuple[int, str]]:
    """(relative level, dotted name) pairs: a superset of what the loader's import walk yields
    for this text (engine/source.imported_modules), found without parsing."""
    text = _CONTINUATION.sub(" ", text)
    out: set[tuple[int, str]] = set()
    matches = [m for m in _FROM.finditer(text) if _starts_word(text, m.start())]
    for m in matches:
        level = m.group(1).count(".")
        base = _SPACE.sub("", m.group(2) or "")
        out.add((level, base))
        for name in _names_after(text, m.end()):
            out.add((level, f"{base}.{name}" if base else name))
    for m in _IMPORT.finditer(text):
        if not _starts_word(text, m.start()):
            continue
        for name in _names_after(text, m.end()):
            out.add((0, name))
    return out


class _Reader:
    """Reads and hashes each file once per run; `state` is the digest or why there is none.
    A new reader starts a run: the file system is looked at afresh (local_files.forget), and
    the loader then reuses the folder listings and import answers the keys needed."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, Optional[str]]] = {}
        self._real: Optional[dict[str, str]] = None  # real path -> state (real_states)
        self._real_n = 0
        self.sides: dict[str, list] = {}  # side argument -> side_files(): one original, many pairs
        forget_file_system()

    @staticmethod
    def resolve(importer: Path, level: int, dotted: str, roots) -> Optional[Path]:
        """The loader's own resolution (portlint.local_files), remembered for the run."""
        return resolve_local_module(importer, level, dotted, roots)

    def read(self, path: Path) -> tuple[str, Optional[str]]:
        key = str(path)
        found = self.files.get(key)
        if found is None:
            found = self.files[key] = self._read(path)
        return found

    def real_states(self) -> dict[str, str]:
        """real path -> state of every file read so far (for `PairCache.put`, once per cold run)."""
        if self._real is None or self._real_n != len(self.files):
            self._real = {os.path.realpath(k): v[0] for k, v in self.files.items()}
            self._real_n = len(self.files)
        return self._real

    @staticmethod
    def _read(path: Path) -> tuple[str, Optional[str]]:
        try:
            data = read_regular(path, MAX_FILE_BYTES)
        except NotRegular as exc:
            return ("directory" if exc.reason == "a directory" else "special"), None
        except TooLarge as exc:
            return f"large:{exc.size}", None
        except FileNotFoundError:
            return "missing", None
        except IsADirectoryError:
            return "directory", None
        except OSError as exc:
            return f"unreadable:{exc.errno}", None
        digest = hashlib.sha256(data).hexdigest()
        if b"\x00" in data:
            return digest, None
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError):
            text = data.decode("latin-1")  # the loader rejects it; still scan for the key
        return digest, text


def side_files(arg: str, reader: _Reader) -> list:
    """[(path, state)] of every file one side of a pair can read (once per run and side: the
    caller must not change the list)."""
    found = reader.sides.get(arg)
    if found is None:
        found = reader.sides[arg] = _side_files(arg, reader)
    return found


def _side_files(arg: str, reader: _Reader) -> list:
    path = Path(arg)
    if not path.exists():
        return [(arg, "missing")]
    if path.is_dir():
        return [(str(p), reader.read(p)[0]) for p in walk_py(path)]
    root = path.resolve().parent
    roots = search_roots(root)
    first = path.resolve()
    out, seen, queue = [], {first}, [first]
    while queue:
        current = queue.pop()
        state, text = reader.read(current)
        out.append((str(current), state))
        if text is None:
            continue
        for level, dotted in sorted(scan_imports(text)):
            try:
                target = reader.resolve(current, level, dotted, roots)
            except (OSError, ValueError):
                continue
            if target is not None and target not in seen:
                seen.add(target)
                queue.append(target)
    return sorted(out)


# --------------------------------------------------------------------------- the key

_CODE_HASH: Optional[str] = None
_BMODELS: dict[tuple, str] = {}


def code_version() -> str:
    """Hash of portlint's own source (and rule docs), libcst's version, Python's, and which parser
    builds the trees (PORTLINT_FRONT_END)."""
    global _CODE_HASH
    if _CODE_HASH is None:
        import portlint

        h = hashlib.sha256()
        here = Path(portlint.__file__).resolve().parent
        dirs = [here]
        for rules in (here / "_rules", here.parent.parent / "rules"):
            if rules.is_dir():
                dirs.append(rules)
                break
        for d in dirs:
            for p in sorted(d.rglob("*")):
                if p.suffix in (".py", ".md", ".json", ".toml") and "__pycache__" not in p.parts:
                    try:
                        h.update(str(p.relative_to(d)).encode() + b"\0" + p.read_bytes() + b"\0")
                    except OSError:
                        h.update(str(p).encode() + b"\0?\0")
        libcst = _libcst_version()
        from portlint.frontend import front_end

        h.update(f"{portlint.__version__}|libcst {libcst}|{sys.version_info[:3]}|{front_end()}".encode())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


def _libcst_version() -> str:
    """libcst's version file, read without importing libcst (importlib.metadata alone costs
    ~10 ms, a sixth of a warm run); the hash of the native parser module says the rest."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("libcst")
        folder = Path(spec.origin).parent
        h = hashlib.sha256((folder / "_version.py").read_bytes())
        for native in sorted(folder.glob("native*")):
            st = native.stat()
            h.update(f"{native.name}:{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()[:16]
    except Exception:  # pragma: no cover - not installed as files
        return "?"


def _bmodel_state(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable:{exc.errno}"
    if not stat.S_ISREG(st.st_mode):
        return "directory" if stat.S_ISDIR(st.st_mode) else "unreadable:special"
    stamp = (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)
    found = _BMODELS.get(stamp)
    if found is None:
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except IsADirectoryError:
            return "directory"
        except OSError as exc:
            return f"unreadable:{exc.errno}"
        found = _BMODELS[stamp] = h.hexdigest()
    return found


def _plain(value: Any) -> Any:
    """A JSON-ready, order-independent form of an option value."""
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def pair_key(pair, options, reader: Optional[_Reader] = None) -> Optional[str]:
    """The cache key of one pair, or None when its result must not be cached."""
    reader = reader or _Reader()
    opts = {}
    if dataclasses.is_dataclass(options):
        for f in dataclasses.fields(options):
            if f.name not in _NOT_IN_KEY:
                opts[f.name] = _plain(getattr(options, f.name))
    sides = {}
    for name in ("original", "ported"):
        files = side_files(getattr(pair, name), reader)
        if any(str(state).startswith("unreadable") for _, state in files):
            return None  # permissions may change without the content changing
        sides[name] = files
    bmodel = _bmodel_state(getattr(pair, "bmodel", None))
    if bmodel and bmodel.startswith("unreadable"):
        return None
    doc = {
        "format": FORMAT,
        "code": code_version(),
        "cwd": os.getcwd(),
        "pair": _plain(dataclasses.asdict(pair) if dataclasses.is_dataclass(pair) else vars(pair)),
        "bmodel": bmodel,
        "options": opts,
        "files": sides,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


# --------------------------------------------------------------------------- entries

def encode_report(report) -> dict:
    return {f.name: _encode(getattr(report, f.name)) for f in dataclasses.fields(report)}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def decode_report(doc: dict):
    from portlint.findings import Finding
    from portlint.report import CheckReport, FileError

    report = CheckReport()
    for name, value in doc.items():
        if name == "findings":
            value = [_finding(d, Finding) for d in value]
        elif name == "errors":
            value = [FileError(**d) for d in value]
        setattr(report, name, value)
    return report


def _finding(d: dict, Finding):
    from portlint.findings import Fix, Location, Related, TextEdit

    d = dict(d)
    for side in ("ported", "original"):
        if d.get(side) is not None:
            d[side] = Location(**d[side])
    d["related"] = [Related(**r) for r in d.get("related") or []]
    if d.get("fix") is not None:
        fix = dict(d["fix"])
        fix["edits"] = [TextEdit(e["path"], tuple(e["start"]), tuple(e["end"]), e["replacement"])
                        for e in fix.get("edits", [])]
        d["fix"] = Fix(**fix)
    return Finding(**d)


_SEAL = b'{"checksum": "'


def seal(text: str) -> str:
    """An entry's JSON text (an object) with a first member "checksum": the SHA-256 of the text
    without it, so reading checks the bytes without re-encoding anything."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return '{"checksum": "' + digest + '", ' + text[1:]


def unseal(data: bytes) -> Optional[bytes]:
    """The JSON text `seal` was given, or None when `data` is not exactly what it wrote."""
    head = len(_SEAL)
    if not data.startswith(_SEAL) or data[head + 64:head + 67] != b'", ':
        return None
    body = b"{" + data[head + 67:]
    return body if hashlib.sha256(body).hexdigest().encode() == data[head:head + 64] else None


def _well_formed(report) -> bool:
    """A decoded report whose fields have the types the rest of portlint relies on."""
    from portlint.findings import Finding
    from portlint.report import FileError

    return (type(report.findings) is list and all(type(f) is Finding for f in report.findings)
            and type(report.errors) is list and all(type(e) is FileError and type(e.path) is str
                                                    and type(e.message) is str for e in report.errors)
            and type(report.files) is int and type(report.notes) is list and all(type(n) is str for n in report.notes)
            and type(report.paths) is list and all(type(p) is str for p in report.paths)
            and type(getattr(report, "inputs", {})) is dict)


def _current_digest(path: str) -> Optional[str]:
    try:
        return hashlib.sha256(read_regular(path, MAX_FILE_BYTES)).hexdigest()
    except OSError:
        return None


class PairCache:
    """Entries under `<dir>/v<FORMAT>/<key>.json`: one folder (a repository has hundreds of pairs,
    not millions; a two-level fan-out cost a mkdir per entry on a cold run, ~1% of it)."""

    def __init__(self, directory: Path):
        self.root = Path(directory)
        self.dir = self.root / f"v{FORMAT}"
        self.stored = 0
        self._made = False  # the entry folder is known to exist

    def _path(self, key: str) -> Path:
        return self.dir / f"{key}.json"

    def get(self, key: Optional[str]):
        """The report stored under `key`, or None: anything but an intact entry portlint wrote for
        this key, whose unkeyed inputs (data files) still have the bytes analysed, is a miss."""
        if key is None:
            return None
        path = self._path(key)
        try:
            # never a FIFO (blocks), a link to /dev/zero (never ends) or a huge file
            body = unseal(read_regular(path, MAX_ENTRY_BYTES, follow_links=False))
            if body is None:
                return None  # not written by portlint as it is, or changed since (a flipped digit)
            doc = json.loads(body)
            if (type(doc) is not dict or doc.get("key") != key or type(doc.get("unkeyed")) is not dict
                    or type(doc.get("report")) is not dict):
                return None  # another layout
            report = decode_report(doc["report"])
            if not _well_formed(report):
                return None
            for input_path, digest in doc["unkeyed"].items():
                if _current_digest(input_path) != digest:
                    return None  # a data file the programs read has changed
        except Exception:  # missing, half-written by a crashed writer, corrupt, of another shape
            return None
        try:
            os.utime(path, follow_symlinks=False)  # recently used: kept by prune()
        except (OSError, NotImplementedError):
            pass
        return report

    def put(self, key: Optional[str], report, reader: Optional[_Reader] = None) -> bool:
        """Store `report` under `key` if it is the analysis of the bytes the key covers: every
        file the analysis read that the key covers had the same digest then (a file saved during
        the run is not), and the others (data files) are recorded to be checked on reading."""
        if key is None or any(TIME_LIMIT_MARK in text for text in
                              [e.message for e in report.errors] + list(getattr(report, "notes", []))):
            return False  # cut short by the wall clock: depends on the machine, not the input
        unkeyed = {}
        seen = reader.real_states() if reader is not None else {}
        for input_path, digest in getattr(report, "inputs", {}).items():
            state = seen.get(input_path)
            if state is None:
                unkeyed[input_path] = digest
            elif state != digest:
                return False  # the file changed between the key and the analysis
        try:
            encoded = encode_report(report)
            text = seal(json.dumps({"key": key, "unkeyed": unkeyed, "report": encoded}, ensure_ascii=False))
            if decode_report(json.loads(text)["report"]) != report:
                return False  # something in the report does not survive JSON: do not cache it
        except (TypeError, ValueError, KeyError):
            return False
        path = self._path(key)
        try:
            if not self._made:  # a stat and a mkdir per run, not per entry
                self._ensure_root()
                self.dir.mkdir(parents=True, exist_ok=True)
                self._made = True
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            return False
        self.stored += 1
        return True

    def _ensure_root(self) -> None:
        if (self.root / ".gitignore").is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", "# created by portlint\n*\n"),
                           ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"
                                            "# portlint cache: https://bford.info/cachedir/\n")):
            target = self.root / name
            if not target.exists():
                fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                os.replace(tmp, target)

    def prune(self, days: float = PRUNE_AFTER_DAYS) -> int:
        """Delete entries unused for `days` (at most once a day); returns how many."""
        stamp = self.root / ".pruned"
        now = time.time()
        try:
            if stamp.exists() and now - stamp.stat().st_mtime < 86400:
                return 0
            stamp.touch()
        except OSError:
            return 0
        removed = 0
        for path in self.dir.glob("*.json"):
            try:
                if now - path.stat().st_mtime > days * 86400:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed
