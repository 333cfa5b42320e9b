"""Read a bmodel's networks, input/output names, shapes, dtypes and scales without the SDK.

The ported program's bmodel fixes what the model really receives (static shape, dtype,
input scale) and what its outputs are called; portlint needs that on machines with no
Sophon SDK, so this is pure Python: a 64-byte header then a flatbuffer (schema bmodel.fbs).
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

from portlint.bmodel.flatbuf import FlatBufferError, Table
from portlint.errors import SourceError

__all__ = ["BModelInfo", "NetInfo", "TensorInfo", "read_bmodel", "read_bmrt_dat", "format_info", "BMODEL_MAGIC"]

BMODEL_MAGIC = 0xFF55AAEE
_HEADER = struct.Struct("<IIIQ")  # magic, header size, flatbuffer size, binary size
HEADER_SIZE = 64

# bm_data_type_t (bmruntime / bmdef.h) -> numpy-style names.
DTYPES = {0: "float32", 1: "float16", 2: "int8", 3: "uint8", 4: "int16", 5: "uint16",
          6: "int32", 7: "uint32", 8: "bfloat16", 9: "int4", 10: "uint4"}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: Tuple[int, ...]
    dtype: str
    scale: float = 1.0
    zero_point: int = 0


@dataclass(frozen=True)
class NetInfo:
    name: str
    inputs: List[TensorInfo]
    outputs: List[TensorInfo]
    dynamic: bool = False
    stages: int = 1


@dataclass(frozen=True)
class BModelInfo:
    chip: Optional[str]
    networks: List[NetInfo]
    version: Optional[str] = None
    path: Optional[str] = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready form (shapes as lists)."""
        def t(x: TensorInfo) -> dict:
            return {"name": x.name, "shape": list(x.shape), "dtype": x.dtype,
                    "scale": x.scale, "zero_point": x.zero_point}
        return {"path": self.path, "chip": self.chip, "version": self.version,
                "networks": [{"name": n.name, "dynamic": n.dynamic, "stages": n.stages,
                              "inputs": [t(x) for x in n.inputs],
                              "outputs": [t(x) for x in n.outputs]} for n in self.networks]}


def format_info(info) -> str:
    """Text in model_tool --info's wording, so users recognise the lines."""
    lines = [f"bmodel: {info.path}", f"chip: {info.chip or 'unknown'}"]
    if info.version:
        lines.append(f"bmodel version: {info.version}")
    for i, net in enumerate(info.networks):
        kind = "dynamic" if net.dynamic else "static"
        extra = f", {net.stages} stages (first shown)" if net.stages > 1 else ""
        lines.append(f"net {i}: [{net.name}]  {kind}{extra}")
        for role, tensors in (("input", net.inputs), ("output", net.outputs)):
            for t in tensors:
                lines.append(f"{role}: {t.name}, {list(t.shape)}, {t.dtype}, scale: {t.scale:g}, zero_point: {t.zero_point}")
    return "\n".join(lines)


def read_bmodel(path: Union[str, os.PathLike]) -> BModelInfo:
    """Parse a .bmodel; any unreadable or malformed file is a one-line SourceError."""
    p = str(path)
    try:
        if os.path.exists(p) and not os.path.isdir(p) and not stat.S_ISREG(os.stat(p).st_mode):
            raise SourceError(p, "not a regular file")  # a FIFO or device would block or never end
        data = Path(p).read_bytes()
    except FileNotFoundError:
        raise SourceError(p, "no such file") from None
    except IsADirectoryError:
        raise SourceError(p, "is a directory, not a bmodel file") from None
    except OSError as exc:
        raise SourceError(p, f"cannot read: {exc.strerror or exc}") from None
    if len(data) < HEADER_SIZE:
        raise SourceError(p, f"not a bmodel: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    magic, header_size, fb_size, bin_size = _HEADER.unpack_from(data, 0)
    if magic != BMODEL_MAGIC:
        raise SourceError(p, f"not a bmodel: magic 0x{magic:08X}, expected 0x{BMODEL_MAGIC:08X}")
    if header_size != HEADER_SIZE:
        raise SourceError(p, f"corrupted bmodel: header size {header_size}, expected {HEADER_SIZE}")
    need = HEADER_SIZE + fb_size + bin_size
    if fb_size == 0 or len(data) < need:
        raise SourceError(p, f"truncated bmodel: header says {need} bytes, file has {len(data)}")
    try:
        return _parse(memoryview(data)[HEADER_SIZE : HEADER_SIZE + fb_size], p)
    except (FlatBufferError, UnicodeDecodeError) as exc:
        raise SourceError(p, f"corrupted bmodel flatbuffer: {exc}") from None


def _parse(fb: memoryview, path: str) -> BModelInfo:
    # Field ids follow bmodel.fbs: Model{type:0, version:1, chip:3, net:4}, Net{name:0, parameter:3},
    # NetParameter{input_tensor:0, output_tensor:1, is_dynamic:5}, Tensor{name:0,
    # data_type:1, shape:5, scale:7, zero_point:10}, Shape{dim:0}.
    model = Table.root(fb)
    nets = []
    for net in model.tables(4):
        name = net.string(0)
        if name is None:
            raise FlatBufferError("a network has no name")
        stages = net.tables(3)
        if not stages:
            raise FlatBufferError(f"network {name!r} has no stage")
        first = stages[0]
        nets.append(NetInfo(name=name, inputs=[_tensor(t) for t in first.tables(0)],
                            outputs=[_tensor(t) for t in first.tables(1)],
                            dynamic=bool(first.scalar(5, "i")), stages=len(stages)))
    if not nets:
        raise FlatBufferError("no network in the model")
    kind, version = model.string(0), model.string(1)
    if kind and version:
        version = f"{kind}.{version}"  # as model_tool --info prints it, e.g. B.2.2+v1.30.2
    return BModelInfo(chip=model.string(3), networks=nets, version=version, path=path)


def _tensor(t: Table) -> TensorInfo:
    shapes = t.tables(5)
    dims = tuple(int(d) for d in shapes[0].scalars(0, "Q")) if shapes else ()
    code = t.scalar(1, "I")
    return TensorInfo(name=t.string(0) or "", shape=dims, dtype=DTYPES.get(code, f"dtype{code}"),
                      scale=float(t.scalar(7, "f", 1.0)), zero_point=int(t.scalar(10, "i", 0)))


def read_bmrt_dat(path: Union[str, os.PathLike], shapes: Sequence[Sequence[int]],
                  dtype: Union[str, Sequence[str]] = "float32") -> list:
    """Split a BMRT_SAVE_IO_TENSORS file (raw tensors, concatenated in runtime order)."""
    import numpy as np

    p = str(path)
    dtypes = [dtype] * len(shapes) if isinstance(dtype, str) else list(dtype)
    if len(dtypes) != len(shapes):
        raise SourceError(p, f"{len(shapes)} shapes but {len(dtypes)} dtypes")
    try:
        data = Path(p).read_bytes()
    except FileNotFoundError:
        raise SourceError(p, "no such file") from None
    except OSError as exc:
        raise SourceError(p, f"cannot read: {exc.strerror or exc}") from None
    sizes = [int(np.prod(s, dtype=np.int64)) * np.dtype(d).itemsize for s, d in zip(shapes, dtypes)]
    if sum(sizes) != len(data):
        desc = ", ".join(f"{list(s)} {d}" for s, d in zip(shapes, dtypes))
        raise SourceError(p, f"size mismatch: expected {sum(sizes)} bytes for {desc}, file has {len(data)} bytes")
    out, pos = [], 0
    for s, d, n in zip(shapes, dtypes, sizes):
        out.append(np.frombuffer(data, dtype=d, count=n // np.dtype(d).itemsize, offset=pos).reshape(tuple(s)).copy())
        pos += n
    return out
