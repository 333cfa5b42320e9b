"""Reads and writes the files being fixed. The user's files are written so that a crash, a
concurrent editor or a bad fix cannot lose code; the fix loop's temporary copy is written plainly.

The new text goes to a temporary file in the same folder and replaces the old one with
`os.replace` (atomic on one filesystem). The write is refused when the file changed since it
was read (its hash differs) or when the new text is not valid Python. The file mode, a UTF-8
BOM and CRLF line endings are kept.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from portlint.errors import PortlintError
from portlint.fix.edits import parses

_BOM = b"\xef\xbb\xbf"
_LONE_LF = re.compile(r"(?<!\r)\n")


@dataclass(frozen=True)
class Snapshot:
    """A file as it was read: its text (line endings kept, no BOM) and the hash of its bytes."""

    path: str
    text: str
    digest: str
    bom: bool


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_snapshot(path: str) -> Snapshot:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PortlintError(f"{path}: cannot read: {exc.strerror or exc}") from None
    bom = data.startswith(_BOM)
    try:
        text = data[len(_BOM) if bom else 0:].decode("utf-8")
    except UnicodeDecodeError:
        raise PortlintError(f"{path}: not UTF-8; portlint only fixes UTF-8 files") from None
    return Snapshot(path, text, digest(data), bom)


def read_source(path: str) -> str:
    """File text with its line endings kept (CRLF stays CRLF) and no BOM."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return fh.read()


def write_text(path: str, text: str) -> None:
    """Write `text` as UTF-8 with its line endings as they are (for the temporary copy only)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def is_crlf(text: str) -> bool:
    """True when every line break in `text` is CRLF (and there is at least one)."""
    return "\r\n" in text and not _LONE_LF.search(text) and "\r" not in text.replace("\r\n", "")


def match_newlines(old: str, new: str) -> str:
    """`new` with CRLF line breaks when `old` used CRLF throughout (fix text is written with LF)."""
    return _LONE_LF.sub("\r\n", new) if is_crlf(old) else new


def atomic_write(snapshot: Snapshot, new_text: str) -> None:
    """Replace the file read as `snapshot` with `new_text`, or raise PortlintError."""
    path = snapshot.path
    if not parses(new_text):
        raise PortlintError(f"{path}: not writing: the fixed text would not parse")
    target = os.path.realpath(path)  # write through a symlink, keep the link
    try:
        current = Path(target).read_bytes()
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError as exc:
        raise PortlintError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if digest(current) != snapshot.digest:
        raise PortlintError(f"{path}: changed since portlint read it; not writing (run it again)")
    data = (_BOM if snapshot.bom else b"") + match_newlines(snapshot.text, new_text).encode("utf-8")
    folder, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".portlint-tmp", dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise PortlintError(f"{path}: cannot write: {exc.strerror or exc}") from None
