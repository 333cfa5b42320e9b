"""portlint.bmodel on synthetic bmodels and damaged files: facts right, errors one SourceError."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from portlint.bmodel import BMODEL_MAGIC, read_bmodel, read_bmrt_dat
from portlint.errors import SourceError

synthetic = pytest.importorskip("models.synthetic_bmodel", reason="needs the flatbuffers package")


@pytest.fixture
def simple_bmodel(tmp_path):
    return synthetic.write_bmodel(tmp_path / "m.bmodel", [synthetic.simple_net("resnet")], binary=b"\0" * 128)


def test_reads_names_shapes_dtypes(simple_bmodel):
    info = read_bmodel(simple_bmodel)
    assert info.chip == "BM1684X"
    [net] = info.networks
    assert net.name == "resnet" and not net.dynamic
    assert [(t.name, t.shape, t.dtype, t.scale) for t in net.inputs] == [("input", (1, 3, 224, 224), "float32", 1.0)]
    assert [(t.name, t.shape) for t in net.outputs] == [("logits_Gemm", (1, 16))]


def test_int8_scale_multi_net_and_stages(tmp_path):
    nets = [synthetic.simple_net("a", dtype="int8", scale=0.25), synthetic.simple_net("b", in_shape=(4, 3, 32, 32))]
    nets[1]["stages"].append({"inputs": [{"name": "input", "shapes": [(8, 3, 32, 32)]}],
                              "outputs": [{"name": "o", "shapes": [(8, 2)]}], "dynamic": True})
    info = read_bmodel(synthetic.write_bmodel(tmp_path / "m.bmodel", nets, chip="BM1688"))
    assert info.chip == "BM1688"
    a, b = info.networks
    assert (a.inputs[0].dtype, a.inputs[0].scale) == ("int8", 0.25)
    assert b.inputs[0].shape == (4, 3, 32, 32) and b.stages == 2  # first stage is reported


def _expect_error(path, *words):
    with pytest.raises(SourceError) as ei:
        read_bmodel(path)
    msg = str(ei.value)
    assert "\n" not in msg and str(path) in msg
    for w in words:
        assert w in msg
    return msg


def test_missing_empty_and_directory(tmp_path):
    _expect_error(tmp_path / "nope.bmodel", "no such file")
    (tmp_path / "empty.bmodel").write_bytes(b"")
    _expect_error(tmp_path / "empty.bmodel", "0 bytes")
    _expect_error(tmp_path, "directory")


def test_wrong_magic(simple_bmodel):
    data = bytearray(simple_bmodel.read_bytes())
    data[0:4] = b"\x7fELF"
    simple_bmodel.write_bytes(bytes(data))
    _expect_error(simple_bmodel, "magic", f"0x{BMODEL_MAGIC:08X}")


@pytest.mark.parametrize("keep", [10, 63, 64, 65, 100, -1])
def test_truncated(simple_bmodel, keep):
    data = simple_bmodel.read_bytes()
    simple_bmodel.write_bytes(data[:keep])
    _expect_error(simple_bmodel)


def test_random_bytes_after_valid_header(simple_bmodel):
    data = simple_bmodel.read_bytes()
    rng = np.random.default_rng(0)
    simple_bmodel.write_bytes(data[:64] + rng.integers(0, 256, len(data) - 64, dtype=np.uint8).tobytes())
    _expect_error(simple_bmodel, "corrupted")


def test_flatbuffer_offset_out_of_range(simple_bmodel):
    data = bytearray(simple_bmodel.read_bytes())
    struct.pack_into("<I", data, 64, 0x7FFFFFF0)  # root table offset far outside the buffer
    simple_bmodel.write_bytes(bytes(data))
    _expect_error(simple_bmodel, "corrupted", "outside")


def test_byte_flips_never_escape_as_other_exceptions(simple_bmodel):
    """Any single-byte corruption either still parses or is a SourceError, never a traceback."""
    good = simple_bmodel.read_bytes()
    fb_end = 64 + struct.unpack_from("<I", good, 8)[0]
    rng = np.random.default_rng(1)
    for i in range(400):
        data = bytearray(good)
        pos = int(rng.integers(64, fb_end))
        data[pos] = int(rng.integers(0, 256))
        simple_bmodel.write_bytes(bytes(data))
        try:
            read_bmodel(simple_bmodel)
        except SourceError:
            pass


def test_read_bmrt_dat_roundtrip_and_size_error(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(1, 6)
    b = np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4)
    p = tmp_path / "output_ref_data.dat.bmrt"
    p.write_bytes(a.tobytes() + b.tobytes())
    x, y = read_bmrt_dat(p, [(1, 6), (2, 4)])
    assert np.array_equal(x, a) and np.array_equal(y, b)
    with pytest.raises(SourceError, match=r"expected 100 bytes .* file has 56 bytes"):
        read_bmrt_dat(p, [(1, 25)])
    with pytest.raises(SourceError, match="no such file"):
        read_bmrt_dat(tmp_path / "missing.dat.bmrt", [(1,)])
