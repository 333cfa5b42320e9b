"""How the user runs the original program, when the side is a framework with no script of its
own (`--original-run "yolo predict model=yolov8s.pt source=bus.jpg"`), or the ported program with
the arguments its documentation runs it with (`--ported-run "python yolov34_opencv.py --conf_thresh 0.3"`).

The command's first word is resolved without executing anything:
- `python [-m] ...`: the interpreter word is dropped; `-m pkg.mod` is that module run as main;
- a `.py` path (relative to the side's folder, or as given): that file run as main;
- `pkg.mod:function`: the module imported, then `function()` called, as a console script does;
  importing `pkg.mod` runs `pkg/__init__.py` first (importlib imports the parents first), which
  settles a package whose `__init__` imports the module back (ultralytics: `ultralytics.cfg` is
  complete before any engine module reads `get_cfg` from it);
- any other word: a console script declared by the side's project, read as data from
  `pyproject.toml` ([project.scripts], [tool.poetry.scripts]), `setup.cfg`
  ([options.entry_points] console_scripts) or a literal `entry_points` in `setup.py` (parsed,
  never run), in the side's folder or the two folders above it.
The rest of the words are the program's `sys.argv[1:]`, as the shell would split them.
"""

from __future__ import annotations

import ast
import configparser
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from portlint.errors import PortlintError
from portlint.local_files import search_roots

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

MAX_PROJECT_BYTES = 1_000_000
_PYTHONS = ("python", "python3")


@dataclass
class Run:
    """One command: the file it starts in, the function a console script calls (None: the file
    runs as __main__), its argv, the project files read to resolve it (path -> bytes), and the
    `__init__.py` of the packages enclosing a module run by name, outermost first (imported
    before it)."""

    command: str
    file: object  # SourceFile
    function: Optional[str]
    argv: list
    read: dict
    packages: tuple = ()


def resolve_run(command: str, side, role: str = "original") -> Run:
    """The program `command` starts on `side` (the `role` side: original or ported), or a one-line
    PortlintError naming the option it came from."""
    option = f"--{role}-run"
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise PortlintError(f"{option} {command!r}: {exc}") from None
    if words and Path(words[0]).name in _PYTHONS:
        words = words[1:]
    if not words:
        raise PortlintError(f"{option} {command!r}: no program to run")
    read: dict = {}
    head, rest = words[0], words[1:]
    if head == "-m":
        if not rest:
            raise PortlintError(f"{option} {command!r}: -m needs a module")
        src = _module_file(rest[0], side, command, role)
        return Run(command, src, None, [str(src.path), *rest[1:]], read, _packages(rest[0], src, side))
    if head.endswith((".py", ".pyw")):
        return Run(command, _script_file(head, side, command, role), None, words, read)
    target = head if ":" in head else _console_script(head, side, read, command, role)
    module, _, function = target.partition(":")
    function = function.split("[")[0].strip()  # `mod:func [extra]`
    if not module.strip() or not function.isidentifier():
        raise PortlintError(f"{option} {command!r}: {target!r} is not a module:function entry")
    src = _module_file(module.strip(), side, command, role)
    return Run(command, src, function, words, read, _packages(module.strip(), src, side))


def _script_file(word: str, side, command: str, role: str = "original"):
    for candidate in (Path(side.root) / word, Path(word)):
        path = candidate.resolve()
        if path in side.files:
            return side.files[path]
    raise PortlintError(f"--{role}-run {command!r}: {word} is not a file of the {role} side")


def _module_file(dotted: str, side, command: str, role: str = "original"):
    parts = dotted.split(".")
    if not all(p.isidentifier() for p in parts):
        raise PortlintError(f"--{role}-run {command!r}: {dotted!r} is not a module name")
    for root in search_roots(Path(side.root)):
        base = Path(root).joinpath(*parts)
        for path in (base.with_suffix(".py"), base / "__init__.py"):
            resolved = path.resolve()
            if resolved in side.files:
                return side.files[resolved]
    raise PortlintError(f"--{role}-run {command!r}: module {dotted} is not a file of the {role} side")


def _packages(dotted: str, src, side) -> tuple:
    """The `__init__.py` files of `dotted`'s parent packages that are files of the side, outermost
    first: `a/__init__.py`, `a/b/__init__.py` for `a.b.c` (found by walking up from the module's
    file, so the same search root)."""
    parts = dotted.split(".")
    folder = Path(src.path).parent
    if Path(src.path).name == "__init__.py":  # `a.b` is a/b/__init__.py: its parents start above
        folder = folder.parent
    found = []
    for _ in parts[:-1]:
        init = side.files.get((folder / "__init__.py").resolve())
        if init is not None:
            found.append(init)
        folder = folder.parent
    return tuple(reversed(found))


def _console_script(name: str, side, read: dict, command: str, role: str = "original") -> str:
    for root in search_roots(Path(side.root)):
        for reader in (_pyproject_scripts, _setup_cfg_scripts, _setup_py_scripts):
            scripts = reader(Path(root), read)
            if name in scripts:
                return scripts[name]
    raise PortlintError(f"--{role}-run {command!r}: {name!r} is not a .py file, a module:function or a console "
                        "script of the project (pyproject.toml, setup.cfg or setup.py beside or above the side)")


def _read(path: Path, read: dict) -> Optional[bytes]:
    try:
        if not path.is_file() or path.stat().st_size > MAX_PROJECT_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    read[str(path.resolve())] = data
    return data


def _pyproject_scripts(root: Path, read: dict) -> dict:
    data = _read(root / "pyproject.toml", read)
    if data is None:
        return {}
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    tables = [doc.get("project", {}).get("scripts"), doc.get("tool", {}).get("poetry", {}).get("scripts")]
    out: dict = {}
    for table in tables:
        if isinstance(table, dict):
            out.update({k: v for k, v in table.items() if isinstance(k, str) and isinstance(v, str)})
    return out


def _setup_cfg_scripts(root: Path, read: dict) -> dict:
    data = _read(root / "setup.cfg", read)
    if data is None:
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"))
        text = parser.get("options.entry_points", "console_scripts", fallback="")
    except (configparser.Error, UnicodeDecodeError):
        return {}
    return dict(_entry_lines(text.splitlines()))


def _setup_py_scripts(root: Path, read: dict) -> dict:
    """`setup(entry_points={"console_scripts": ["name = mod:func"]})` when the value is a literal."""
    data = _read(root / "setup.py", read)
    if data is None:
        return {}
    try:
        tree = ast.parse(data.decode("utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return {}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points":
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                return {}
            lines = value.get("console_scripts", []) if isinstance(value, dict) else []
            if isinstance(lines, str):
                lines = lines.splitlines()
            return dict(_entry_lines(line for line in lines if isinstance(line, str)))
    return {}


def _entry_lines(lines):
    for line in lines:
        name, sep, target = line.partition("=")
        if sep and name.strip() and target.strip():
            yield name.strip(), target.strip()
