"""Builds small synthetic .bmodel files (header + flatbuffer per bmodel.fbs) for reader tests.

Lets the reader be tested on multi-network, int8, scaled and dynamic models without tpu-mlir.
Uses the `flatbuffers` package's Builder (a dependency of onnxruntime); only the fields
portlint reads are written.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Sequence

DTYPE_CODES = {"float32": 0, "float16": 1, "int8": 2, "uint8": 3, "int16": 4, "uint16": 5,
               "int32": 6, "uint32": 7, "bfloat16": 8}


def _vector(b, items, prepend):
    b.StartVector(4 if prepend != "u64" else 8, len(items), 8)
    for x in reversed(items):
        if prepend == "u64":
            b.PrependUint64(x)
        else:
            b.PrependUOffsetTRelative(x)
    return b.EndVector()


def _tensor(b, t):
    name, shapes, dtype, scale = t["name"], t["shapes"], t.get("dtype", "float32"), t.get("scale", 1.0)
    name_off = b.CreateString(name)
    shape_offs = []
    for s in shapes:
        dims = _vector(b, list(s), "u64")
        b.StartObject(1)
        b.PrependUOffsetTRelativeSlot(0, dims, 0)
        shape_offs.append(b.EndObject())
    shape_vec = _vector(b, shape_offs, "off")
    b.StartObject(13)
    b.PrependUOffsetTRelativeSlot(0, name_off, 0)
    b.PrependUint32Slot(1, DTYPE_CODES[dtype], 0)
    b.PrependUOffsetTRelativeSlot(5, shape_vec, 0)
    b.PrependFloat32Slot(7, scale, 1.0)
    b.PrependInt32Slot(10, t.get("zero_point", 0), 0)
    return b.EndObject()


def build_flatbuffer(nets: Sequence[dict], chip: str = "BM1684X") -> bytes:
    """nets: [{"name", "stages": [{"inputs": [tensor], "outputs": [tensor], "dynamic": bool}]}],
    tensor: {"name", "shapes": [shape, ...], "dtype", "scale", "zero_point"}."""
    import flatbuffers

    b = flatbuffers.Builder(1024)
    net_offs = []
    for net in nets:
        params = []
        for st in net["stages"]:
            ins = _vector(b, [_tensor(b, t) for t in st["inputs"]], "off")
            outs = _vector(b, [_tensor(b, t) for t in st["outputs"]], "off")
            b.StartObject(20)
            b.PrependUOffsetTRelativeSlot(0, ins, 0)
            b.PrependUOffsetTRelativeSlot(1, outs, 0)
            b.PrependInt32Slot(5, int(st.get("dynamic", False)), 0)
            params.append(b.EndObject())
        pvec = _vector(b, params, "off")
        name = b.CreateString(net["name"])
        b.StartObject(6)
        b.PrependUOffsetTRelativeSlot(0, name, 0)
        b.PrependUOffsetTRelativeSlot(3, pvec, 0)
        net_offs.append(b.EndObject())
    nvec = _vector(b, net_offs, "off")
    strs = [b.CreateString(s) for s in ("B", "2.2+synthetic", "Thu Jan  1 00:00:00 1970", chip)]
    b.StartObject(9)
    for i, s in enumerate(strs):
        b.PrependUOffsetTRelativeSlot(i, s, 0)
    b.PrependUOffsetTRelativeSlot(4, nvec, 0)
    model = b.EndObject()
    b.Finish(model)
    return bytes(b.Output())


def write_bmodel(path: str | Path, nets: Sequence[dict], chip: str = "BM1684X", binary: bytes = b"") -> Path:
    """64-byte header (<IIIQ magic, header size, flatbuffer size, binary size, then zeros)."""
    fb = build_flatbuffer(nets, chip)
    header = struct.pack("<IIIQ", 0xFF55AAEE, 64, len(fb), len(binary)).ljust(64, b"\0")
    Path(path).write_bytes(header + fb + binary)
    return Path(path)


def simple_net(name="net", in_shape=(1, 3, 224, 224), out_shape=(1, 16), dtype="float32", scale=1.0):
    return {"name": name, "stages": [{
        "inputs": [{"name": "input", "shapes": [in_shape], "dtype": dtype, "scale": scale}],
        "outputs": [{"name": "logits_Gemm", "shapes": [out_shape], "dtype": "float32"}]}]}
