"""The temporary copy of a ported program that the fix loop edits and re-checks: the checker
reads files from disk, and the user's files must stay untouched until the end."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from portlint.errors import PortlintError
from portlint.findings import Location
from portlint.fix.write import Snapshot, read_snapshot, write_text

# What the fix check's temporary copy leaves out: version control, caches and virtual environments
# only. Unlike a folder walk for analysis (local_files.SKIP_DIRS) it keeps build/, dist/ and env/:
# an import may still resolve into them.
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".tox",
              ".portlint_cache", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass
class UserFiles:
    """The user's .py files of every pair: as first read, fixed so far, and as the user names them.

    Pairs may share files, so a later pair's copy starts from the earlier pairs' fixes."""

    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # realpath -> as first read
    texts: dict[str, str] = field(default_factory=dict)  # realpath -> fixed text
    shown: dict[str, str] = field(default_factory=dict)  # realpath -> path as the user sees it

    @property
    def changed(self) -> list[str]:
        return sorted((k for k, t in self.texts.items() if t != self.snapshots[k].text), key=lambda k: self.shown[k])


class Mirror:
    """A temporary copy of the ported program: .py files copied (they get fixed), other files
    symlinked (bmodels, configs the code may name), tool and VCS folders left out."""

    def __init__(self, ported: str, user: UserFiles):
        src = Path(ported)
        if not src.exists():
            raise PortlintError(f"{ported}: no such file or directory")
        self.is_file = src.is_file()
        shown_root = os.path.dirname(ported) if self.is_file else ported
        root = src.resolve().parent if self.is_file else src.resolve()
        while self.is_file and (root / "__init__.py").is_file() and root.parent != root:
            root, shown_root = root.parent, os.path.join(shown_root, "..")  # relative imports may climb
        self.src_root, self.shown_root, self.ported = root, shown_root or ".", ported
        self.tmp = Path(os.path.realpath(tempfile.mkdtemp(prefix="portlint-fix-")))
        self.tmp_ported = str(self.tmp / src.resolve().relative_to(root)) if self.is_file else str(self.tmp)
        self.files: dict[str, str] = {}  # temp path -> user realpath
        try:
            self._copy(user)
        except BaseException:
            self.close()
            raise

    def _copy(self, user: UserFiles) -> None:
        for folder, dirs, names in os.walk(self.src_root):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")
                       and not (Path(folder, d) / "pyvenv.cfg").exists()]
            rel = Path(folder).relative_to(self.src_root)
            (self.tmp / rel).mkdir(parents=True, exist_ok=True)
            for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                dirs.remove(d)  # a linked folder is linked, not copied (it may be outside the project)
                os.symlink(os.path.realpath(os.path.join(folder, d)), self.tmp / rel / d)
            for name in names:
                real, dst = os.path.realpath(os.path.join(folder, name)), self.tmp / rel / name
                if not name.endswith(".py"):
                    try:
                        os.symlink(real, dst)
                    except OSError:
                        pass
                    continue
                if real not in user.snapshots:
                    try:
                        user.snapshots[real] = read_snapshot(os.path.join(folder, name))
                    except PortlintError:
                        continue  # not UTF-8 or unreadable: the check will say so
                    user.texts[real] = user.snapshots[real].text
                    user.shown[real] = self.shown(str(dst))
                write_text(str(dst), user.texts[real])
                self.files[str(dst)] = real

    def shown(self, tmp_path: str) -> str:
        """A path under the copy as the user would name it."""
        for candidate in (os.path.abspath(tmp_path), os.path.realpath(tmp_path)):
            try:
                rel = Path(candidate).relative_to(self.tmp)
                break
            except ValueError:
                continue
        else:
            return tmp_path
        if self.is_file and str(self.tmp / rel) == self.tmp_ported:
            return self.ported
        return os.path.normpath(os.path.join(self.shown_root, rel))

    def location(self, loc: Optional[Location]) -> Optional[Location]:
        return dataclasses.replace(loc, path=self.shown(loc.path)) if loc else None

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
