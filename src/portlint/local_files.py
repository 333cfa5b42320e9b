"""Which local files one side of a pair consists of: the .py files of a folder, and the file an
import statement refers to. One implementation for the loader (engine/source.py), the cache key
(cache.py), pair discovery and `fix`, so they always agree; it does not import libcst.

Search order, as Python would find a script's neighbours: a relative import climbs from the
importer's folder; an absolute one tries the importer's folder, then the side's root and its two
parents. `a.b.c` is the file a/b/c.py or the package a/b/c/__init__.py. Folders are listed once
per run (a dict lookup per candidate instead of a stat: every `import numpy` tries several
folders) and answers are remembered; `forget()` drops both when the file system may have changed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

# Folders that hold no code of the project: version control, caches, virtual environments, builds.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "env", ".tox", "node_modules",
                       "build", "dist", ".portlint_cache", "site-packages"})

_RESOLVED: dict = {}
_LISTINGS: dict = {}


def skipped(name: str) -> bool:
    """Whether a folder of this name is left out of a walk (listed above, or hidden)."""
    return name in SKIP_DIRS or name.startswith(".")


def walk_py(root: Path) -> list[Path]:
    """Every .py file and Jupyter notebook under a folder, in sorted order, skipped folders and
    symlink loops left out."""
    found, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not skipped(d))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith((".py", ".ipynb")))
    return found


def search_roots(root: Path) -> tuple[str, ...]:
    """Where absolute imports are looked for besides the importer's folder: the side's folder and
    its two parents (a script run from the repository root or from its package)."""
    return tuple(str(p) for p in [root, *list(root.parents)[:2]])


def resolve(importer: Path, level: int, dotted: str, roots) -> Optional[Path]:
    """The resolved path of the local module `from <level dots><dotted> import ...` or
    `import <dotted>` in `importer` means, or None when it is not a local file. `roots` as
    search_roots gives them (other sequences of paths are converted)."""
    if type(roots) is not tuple:
        roots = tuple(map(str, roots))
    folder = os.path.dirname(str(importer))
    key = (folder, level, dotted, roots)
    try:
        return _RESOLVED[key]
    except KeyError:
        found = _RESOLVED[key] = _resolve(folder, level, dotted, roots)
        return found


def forget() -> None:
    _RESOLVED.clear()
    _LISTINGS.clear()


def _resolve(folder: str, level: int, dotted: str, roots: tuple) -> Optional[Path]:
    parts = [p for p in dotted.split(".") if p]
    if level:
        for _ in range(level - 1):
            folder = os.path.dirname(folder)
        bases = [folder]
    else:
        bases = [folder, *roots]
    for base in bases:
        if parts:
            package = _subfolder(base, parts[:-1])
            if package is None:
                continue
            if _entry(package, parts[-1] + ".py") == "file":
                return Path(package, parts[-1] + ".py").resolve()
            if _entry(package, parts[-1]) != "dir":
                continue
            candidate = os.path.join(package, parts[-1])
        else:
            candidate = base
        if _entry(candidate, "__init__.py") == "file":
            return Path(candidate, "__init__.py").resolve()
    return None


def _subfolder(base: str, names: list) -> Optional[str]:
    """base/n1/n2/... when each step is a folder, else None."""
    for name in names:
        if _entry(base, name) != "dir":
            return None
        base = os.path.join(base, name)
    return base


def _entry(folder: str, name: str) -> Optional[str]:
    """"file", "dir" or None for folder/name, symlinks followed (as Path.is_file / is_dir)."""
    listing = _LISTINGS.get(folder)
    if listing is None:
        listing = {}
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        kind = "file" if entry.is_file() else "dir" if entry.is_dir() else None
                    except OSError:
                        kind = None
                    if kind:
                        listing[entry.name] = kind
        except OSError:  # missing, not a folder, unreadable: nothing to import from it
            pass
        _LISTINGS[folder] = listing
    return listing.get(name)
