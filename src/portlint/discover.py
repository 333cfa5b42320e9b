"""`portlint check --all DIR`: finds the pairs under a folder by how their files are named.

Naming convention (README):

* In one folder, `original.py` or `original/` pairs with `ported.py` or `ported/`.
* In one folder, `NAME_torch.py` (or `NAME_pytorch.py`) is the original of every
  `NAME_sail.py`, `NAME_opencv.py`, `NAME_bmcv.py` and `NAME_cv2.py` beside it — sophon-demo
  names its two ports of one program `NAME_opencv.py` and `NAME_bmcv.py`, so both are checked
  against the one original. The same suffixes work on folders (`NAME_torch/` with `NAME_sail/`).
* A folder that is one side of a pair is that side (every .py under it) and is not searched
  further; every other folder is searched recursively, except hidden folders, virtual
  environments, `__pycache__`, `node_modules`, `build`, `dist`, `site-packages` and
  `.portlint_cache`. A folder reached twice through symlinks is searched once.
* A file or folder with no counterpart is left out, silently.

Pairs come out sorted by path, so the report's order does not depend on the file system.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from portlint.errors import PortlintError
from portlint.local_files import skipped

ORIGINAL_SUFFIXES = ("_torch", "_pytorch")
PORTED_SUFFIXES = ("_sail", "_opencv", "_bmcv", "_cv2")

CONVENTION = ("original.py|original/ beside ported.py|ported/, or NAME_torch.py beside "
              "NAME_sail.py / NAME_opencv.py / NAME_bmcv.py / NAME_cv2.py")


@dataclass(frozen=True)
class Found:
    original: str
    ported: str


def _role(name: str, is_dir: bool) -> Optional[tuple[str, str]]:
    """('original' | 'ported', key) for an entry that takes part in the convention."""
    if is_dir:
        stem = name
    elif name.endswith(".py"):
        stem = name[:-3]
    else:
        return None
    if stem == "original":
        return "original", ""
    if stem == "ported":
        return "ported", ""
    for suffix in ORIGINAL_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return "original", stem[: -len(suffix)]
    for suffix in PORTED_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return "ported", stem[: -len(suffix)]
    return None


def discover_pairs(root: str) -> list[Found]:
    """Every pair under `root` (paths start with `root` as given)."""
    if not os.path.isdir(root):
        raise PortlintError(f"--all {root}: no such directory" if not os.path.exists(root)
                            else f"--all {root}: not a directory")
    found: list[Found] = []
    seen: set[str] = set()
    here = root.rstrip("/\\") in (".", "")  # `--all .`: show `a/x.py`, not `./a/x.py`
    stack = [root]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:  # a symlink loop or a second link to the same folder
            continue
        seen.add(real)
        try:
            with os.scandir(folder) as it:
                entries = sorted((e.name, e.is_dir()) for e in it)
        except OSError:
            continue  # unreadable folder: nothing to discover there
        originals: dict[str, list[str]] = {}
        ported: dict[str, list[str]] = {}
        sides: set[str] = set()
        for name, is_dir in entries:
            if is_dir and skipped(name):
                continue
            role = _role(name, is_dir)
            if role is None:
                continue
            (originals if role[0] == "original" else ported).setdefault(role[1], []).append(name)
        for key, ports in ported.items():
            for o in originals.get(key, []):
                for p in ports:
                    found.append(Found(_join(folder, o, root, here), _join(folder, p, root, here)))
                    sides.update((o, p))
        subdirs = [name for name, is_dir in entries
                   if is_dir and name not in sides and not skipped(name)]
        stack.extend(os.path.join(folder, d) for d in reversed(subdirs))
    return sorted(found, key=lambda f: (f.ported, f.original))


def _join(folder: str, name: str, root: str, here: bool) -> str:
    path = os.path.join(folder, name)
    if here and folder.startswith(root):
        rel = os.path.relpath(path, root)
        return rel
    return path
