"""A minimal, bounds-checked flatbuffer table reader.

Own code instead of generated accessors: a corrupted bmodel must give one clear error
(FlatBufferError), never an IndexError or struct.error from deep inside a generated class.
"""

from __future__ import annotations

import struct
from typing import List, Optional


class FlatBufferError(ValueError):
    """The buffer does not hold a valid flatbuffer (an offset points outside it, etc.)."""


class Table:
    """One flatbuffer table: fields are read by their schema id (0-based)."""

    __slots__ = ("buf", "pos", "_vt", "_vt_size")

    def __init__(self, buf: memoryview, pos: int):
        self.buf = buf
        self.pos = pos
        self._vt = pos - _unpack(buf, "<i", pos)
        self._vt_size = _unpack(buf, "<H", self._vt)
        if self._vt_size < 4 or self._vt_size % 2:
            raise FlatBufferError(f"bad vtable size {self._vt_size} at offset {self._vt}")
        _check(buf, self._vt, self._vt_size)

    @classmethod
    def root(cls, buf: bytes | memoryview) -> "Table":
        mv = memoryview(buf)
        return cls(mv, _unpack(mv, "<I", 0))

    def _field(self, field_id: int) -> int:
        """Absolute position of a field, or 0 when it is absent."""
        slot = 4 + 2 * field_id
        if slot + 2 > self._vt_size:
            return 0
        rel = _unpack(self.buf, "<H", self._vt + slot)
        return self.pos + rel if rel else 0

    def scalar(self, field_id: int, fmt: str, default=0):
        p = self._field(field_id)
        return _unpack(self.buf, "<" + fmt, p) if p else default

    def struct(self, field_id: int, fmt: str) -> Optional[tuple]:
        p = self._field(field_id)
        if not p:
            return None
        _check(self.buf, p, struct.calcsize("<" + fmt))
        return struct.unpack_from("<" + fmt, self.buf, p)

    def _indirect(self, field_id: int) -> int:
        p = self._field(field_id)
        return p + _unpack(self.buf, "<I", p) if p else 0

    def string(self, field_id: int) -> Optional[str]:
        p = self._indirect(field_id)
        if not p:
            return None
        n = _unpack(self.buf, "<I", p)
        _check(self.buf, p + 4, n)
        return bytes(self.buf[p + 4 : p + 4 + n]).decode("utf-8", errors="replace")

    def table(self, field_id: int) -> Optional["Table"]:
        p = self._indirect(field_id)
        return Table(self.buf, p) if p else None

    def _vector(self, field_id: int, elem_size: int) -> tuple[int, int]:
        p = self._indirect(field_id)
        if not p:
            return 0, 0
        n = _unpack(self.buf, "<I", p)
        _check(self.buf, p + 4, n * elem_size)
        return p + 4, n

    def scalars(self, field_id: int, fmt: str) -> List:
        start, n = self._vector(field_id, struct.calcsize("<" + fmt))
        return list(struct.unpack_from(f"<{n}{fmt}", self.buf, start)) if n else []

    def tables(self, field_id: int) -> List["Table"]:
        start, n = self._vector(field_id, 4)
        out = []
        for i in range(n):
            e = start + 4 * i
            out.append(Table(self.buf, e + _unpack(self.buf, "<I", e)))
        return out


def _check(buf: memoryview, pos: int, size: int) -> None:
    if pos < 0 or size < 0 or pos + size > len(buf):
        raise FlatBufferError(f"offset {pos}+{size} is outside the {len(buf)}-byte flatbuffer")


def _unpack(buf: memoryview, fmt: str, pos: int):
    _check(buf, pos, struct.calcsize(fmt))
    return struct.unpack_from(fmt, buf, pos)[0]
