"""The one way portlint reads a file it did not write: only a regular file, only up to a size.

Why: `check`, `fix`, the cache and `verify` read whatever the user's folders hold. A FIFO blocks
a read forever, `/dev/zero` (or a link to it) never ends, and a file swapped for one of them
between a `stat` and the read would do the same. So the file is opened without blocking, its
type and size are taken from the open descriptor (`fstat`, no race), and at most `limit + 1`
bytes are read. Errors are OSError subclasses carrying a short reason for one-line messages.
"""

from __future__ import annotations

import errno
import os
import stat


class Refused(OSError):
    """The path is not a regular file, or is larger than allowed; `reason` says which."""

    def __init__(self, reason: str, size: int = 0):
        super().__init__(errno.EINVAL, reason)
        self.reason = reason
        self.size = size


class NotRegular(Refused):
    pass


class TooLarge(Refused):
    pass


def read_regular(path, limit: int, follow_links: bool = True) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes; raises NotRegular (a FIFO,
    a device, a folder; a symlink when `follow_links` is False), TooLarge, or the OSError of
    opening or reading it (FileNotFoundError, PermissionError, ...)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if not follow_links and exc.errno == errno.ELOOP:
            raise NotRegular("a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular("a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file")
        if info.st_size > limit:
            raise TooLarge("too large", info.st_size)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while being read
            raise TooLarge("too large", total)
        return b"".join(chunks)
    finally:
        os.close(fd)
