"""Reads and writes the files being fixed. The user's files are written so that a crash, a
concurrent editor or a bad fix cannot lose code; the fix loop's temporary copy is written plainly.

The new text goes to a temporary file in the same folder and replaces the old one with
`os.replace` (atomic on one filesystem). The write is refused when the file changed since it
was read (its hash differs) or when the new text is not valid Python. The file mode, a UTF-8
BOM and CRLF (or CR-only) line endings are kept.
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
from portlint.filegate import NotRegular, TooLarge, read_regular
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
    """The file through `check`'s gate: a FIFO, a device or a file over the loader's size limit is
    refused (one line), never read."""
    from portlint.analysis.source import MAX_FILE_BYTES

    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except NotRegular:
        raise PortlintError(f"{path}: not a regular file") from None
    except TooLarge as exc:
        raise PortlintError(f"{path}: file too large to fix ({exc.size / 1e6:.1f} MB)") from None
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
    """`new` with CRLF line breaks when `old` used CRLF throughout, CR when `old` used CR only (a
    classic Mac file): fix text is written with LF."""
    if is_crlf(old):
        return _LONE_LF.sub("\r\n", new)
    if "\r" in old and "\n" not in old:
        return new.replace("\r\n", "\r").replace("\n", "\r")
    return new


def atomic_write(snapshot: Snapshot, new_text: str) -> None:
    """Replace the file read as `snapshot` with `new_text`, or raise PortlintError."""
    path = snapshot.path
    if not parses(new_text):
        raise PortlintError(f"{path}: not writing: the fixed text would not parse")
    target = os.path.realpath(path)  # write through a symlink, keep the link
    try:
        current = read_regular(target, len(snapshot.text.encode("utf-8", "surrogatepass")) + (1 << 22))
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except TooLarge:
        raise PortlintError(f"{path}: changed since portlint read it; not writing (run it again)") from None
    except NotRegular:
        raise PortlintError(f"{path}: not a regular file any more; not writing") from None
    except OSError as exc:
        raise PortlintError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if digest(current) != snapshot.digest:
        raise PortlintError(f"{path}: changed since portlint read it; not writing (run it again)")
    data = (_BOM if snapshot.bom else b"") + match_newlines(snapshot.text, new_text).encode("utf-8")
    folder, name = os.path.split(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".portlint-tmp", dir=folder or ".")
    except OSError as exc:  # a read-only folder
        raise PortlintError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:  # a full disk, `ulimit -f`, Ctrl-C: the old file stays, the temporary goes
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise PortlintError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
