"""The temporary copy of a ported program that the fix loop edits and re-checks: the checker
reads files from disk, and the user's files must stay untouched until the end.

The copy holds what `check` reads, laid out as in the user's tree, so `check` on the copy and on
the user's files agree: the ported folder (the file's folder, climbing packages for relative
imports) with its .py files copied and other files linked, small data files (yaml, json, ...)
copied so the analysis reads them as it does the user's, and the local modules the program
imports from the one or two folders above it (the loader looks there too), with the folders
between. Two names of one file (a symlink beside its target) are one file in the copy, so a fix
to it is never lost to the other name. .py files are read through `check`'s file gate
(portlint.filegate): a FIFO, a device or a huge file is linked, not read, and `check` reports it.
Files the original side reads too (a shared `common.py`) are listed in `refused`: the original
side is never written.
"""

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
from portlint.fix.guard import signals_deferred
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


def _data_file(name: str) -> bool:
    from portlint.analysis.apis.config_api import DATA_SUFFIXES

    return name.endswith(DATA_SUFFIXES)


def _side_files(arg: str) -> list[str]:
    """Real paths of the .py files one side may read (the cache key's over-approximation)."""
    from portlint.cache import _Reader, side_files

    try:
        return [os.path.realpath(p) for p, _ in side_files(arg, _Reader()) if str(p).endswith((".py", ".pyw"))]
    except (OSError, ValueError, RecursionError):
        return []


class Mirror:
    """A temporary copy of the ported program: .py files copied (they get fixed), other files
    symlinked (bmodels the code may name), small data files copied, tool and VCS folders left out."""

    def __init__(self, ported: str, user: UserFiles, original: Optional[str] = None):
        src = Path(ported)
        if not src.exists():
            raise PortlintError(f"{ported}: no such file or directory")
        self.is_file = not src.is_dir()
        if self.is_file and not src.is_file():
            raise PortlintError(f"{ported}: not a regular file")  # a FIFO or a device: nothing to fix
        shown_root = os.path.dirname(ported) if self.is_file else ported
        real = src.resolve()
        root = real.parent if self.is_file else real
        while self.is_file and (root / "__init__.py").is_file() and root.parent != root:
            root, shown_root = root.parent, os.path.join(shown_root, "..")  # relative imports may climb
        self.src_root, self.shown_root, self.ported = root, shown_root or ".", ported
        # files read from above the copied folder: the loader looks up to two folders above a program
        folder = real.parent if self.is_file else real
        outside = [f for f in _side_files(ported) if not _under(f, root)] if self.is_file else []
        top = Path(os.path.commonpath([str(root), str(folder.parents[1] if len(folder.parents) > 1 else folder.parent),
                                       *(os.path.dirname(f) for f in outside)]))
        self.files: dict[str, str] = {}  # temp path -> user realpath
        self.refused: dict[str, str] = {}  # real path of a file the check reads -> why fixes must not write it
        self._copies: dict[str, str] = {}  # user realpath -> its temp copy
        protected = set(_side_files(original)) if original else set()
        self.tmp: Optional[Path] = None
        try:
            with signals_deferred():  # a Ctrl-C between making the folder and naming it would leave it behind
                self.tmp = Path(os.path.realpath(tempfile.mkdtemp(prefix="portlint-fix-")))
            self.tmp_root = self.tmp / root.relative_to(top)
            self.tmp_ported = str(self.tmp_root / real.relative_to(root)) if self.is_file else str(self.tmp_root)
            if self.is_file:  # first, so that the program's own name is the one copied, links point to it
                self._copy_file(user, real.parent, real.name, self.tmp_root / real.parent.relative_to(root))
            self._copy(user, root, self.tmp_root)
            for path in sorted(outside):
                self._copy_file(user, Path(path).parent, Path(path).name, self.tmp / Path(path).parent.relative_to(top))
            for up in [p for p in root.parents if _under(str(p), str(top))]:
                self._copy_data_files(up, self.tmp / up.relative_to(top))
            for tmp_path, real_path in self.files.items():
                if real_path in protected:
                    self.refused[os.path.realpath(tmp_path)] = (
                        f"it edits {user.shown.get(real_path, real_path)}, which the original program reads too "
                        "(portlint never writes the original side)")
        except OSError as exc:
            self.close()
            raise PortlintError(f"{self.tmp or tempfile.gettempdir()}: cannot make the temporary copy: "
                                f"{exc.strerror or exc}") from None
        except BaseException:
            self.close()
            raise

    def _copy(self, user: UserFiles, src_root: Path, dst_root: Path) -> None:
        for folder, dirs, names in os.walk(src_root):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")
                             and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg")))
            rel = Path(folder).relative_to(src_root)
            (dst_root / rel).mkdir(parents=True, exist_ok=True)
            for d in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
                dirs.remove(d)  # a linked folder is linked, not copied (it may be outside the project)
                os.symlink(os.path.realpath(os.path.join(folder, d)), dst_root / rel / d)
            for name in sorted(names):
                self._copy_file(user, Path(folder), name, dst_root / rel)

    def _copy_file(self, user: UserFiles, folder: Path, name: str, dst_folder: Path) -> None:
        path = os.path.join(folder, name)
        real, dst = os.path.realpath(path), dst_folder / name
        dst_folder.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(dst):
            return
        if not name.endswith(".py"):
            if not (_data_file(name) and _copy_small(real, dst)):
                _link(real, dst)
            return
        if real in self._copies:  # another name of a file already copied: the same file in the copy
            _link(self._copies[real], dst)
            return
        if real not in user.snapshots:
            try:
                snapshot = read_snapshot(path)
            except PortlintError as exc:  # not UTF-8, unreadable, a FIFO: `check` says so, on the file itself
                _link(real, dst)
                self.refused[real] = f"{self.shown(str(dst))}: {str(exc).split(': ', 1)[-1]}"
                return
            user.snapshots[real] = snapshot
            user.texts[real] = snapshot.text
            user.shown[real] = self.shown(str(dst))
        write_text(str(dst), user.texts[real])
        self.files[str(dst)] = real
        self._copies[real] = str(dst)

    def _copy_data_files(self, folder: Path, dst_folder: Path) -> None:
        """The data files directly in a folder above the copied one (`../config.yaml`)."""
        try:
            names = sorted(e.name for e in os.scandir(folder) if _data_file(e.name))
        except OSError:
            return
        for name in names:
            dst = dst_folder / name
            if not os.path.lexists(dst):
                dst_folder.mkdir(parents=True, exist_ok=True)
                _copy_small(os.path.realpath(folder / name), dst)

    def shown(self, tmp_path: str) -> str:
        """A path under the copy as the user would name it."""
        for candidate in (os.path.abspath(tmp_path), os.path.realpath(tmp_path)):
            if _under(candidate, str(self.tmp)):
                rel = os.path.relpath(candidate, self.tmp_root)
                break
        else:
            return tmp_path
        if self.is_file and os.path.join(str(self.tmp_root), rel) == self.tmp_ported:
            return self.ported
        return os.path.normpath(os.path.join(self.shown_root, rel))

    def location(self, loc: Optional[Location]) -> Optional[Location]:
        return dataclasses.replace(loc, path=self.shown(loc.path)) if loc else None

    def close(self) -> None:
        if self.tmp is None:
            return
        with signals_deferred():  # removed whole even when Ctrl-C or SIGTERM comes meanwhile
            shutil.rmtree(self.tmp, ignore_errors=True)


def _under(path: str, folder: str) -> bool:
    folder = str(folder).rstrip(os.sep) or os.sep
    return str(path) == folder or str(path).startswith(folder + os.sep) or folder == os.sep


def _link(target: str, dst: Path) -> None:
    try:
        os.symlink(target, dst)
    except FileExistsError:
        pass


def _copy_small(real: str, dst: Path) -> bool:
    """Copy a small regular data file (what the analysis may read, analysis/apis/config_api.py)."""
    from portlint.analysis.apis.config_api import MAX_DATA_BYTES
    from portlint.filegate import read_regular

    try:
        data = read_regular(real, MAX_DATA_BYTES)
    except OSError:
        return False
    with open(dst, "wb") as fh:
        fh.write(data)
    return True

