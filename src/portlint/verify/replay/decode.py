"""Decode steps replayed: the file read by the program's own decoder (SAIL's emulated with
OpenCV), PIL's convert and exif_transpose, and a parameter fed a cv2.imread BGR image."""

from __future__ import annotations

import numpy as np

from portlint.analysis.ops import Decode
from portlint.errors import PortlintError
from portlint.verify import sail_emu
from portlint.verify.images import decode_cv2, open_pil
from portlint.verify.replay.common import as_array, fresh
from portlint.verify.values import V, identity, is_pil

PIL_MODES = {"RGB": ("R", "G", "B"), "RGBA": ("R", "G", "B", "A"), "L": ("Y",), "BGR;24": ("B", "G", "R")}


def decode(r, v, op: Decode) -> V:
    if op.source == "parameter":
        return _parameter(r, v, op)
    if op.convert:
        return _pil_convert(r, v, op)
    if op.exif_transpose:
        return _exif_transpose(r, v, op)
    if op.library == "cv2":
        return _video_read(r, v, op) if op.source == "video" else _cv2_imread(r, v, op)
    if op.library == "pil":
        return _pil_open(r, v, op)
    if op.library == "sail":
        return _sail_decode(r, v, op)
    r.fail(op, f"no runtime equivalent for a {op.stage} step")


def _channels_of_cv2(arr: np.ndarray, flags) -> tuple:
    if arr.ndim == 2:
        return ("Y",)
    n = arr.shape[2]
    if flags == 256:
        return ("R", "G", "B")[:n]
    return {1: ("Y",), 3: ("B", "G", "R"), 4: ("B", "G", "R", "A")}.get(n, None)


def _cv2_imread(r, v, op: Decode) -> V:
    import cv2

    flags = op.flags
    if not isinstance(flags, int) or isinstance(flags, bool):
        flags = cv2.IMREAD_COLOR
    notes: list = []
    arr = decode_cv2(r.image, flags, buffer=op.source == "buffer", notes=notes)  # cv2.imdecode or imread
    if arr is None:
        r.fail(op, f"OpenCV cannot decode {r.image}")
    layout = "HW" if arr.ndim == 2 else "HWC"
    return _noted(fresh(arr, layout, _channels_of_cv2(arr, flags)), notes)


def _noted(v: V, notes: list) -> V:
    for text in notes:
        v = v.note(text)
    return v


def _video_read(r, v, op: Decode) -> V:
    import cv2

    notes: list = []
    arr = decode_cv2(r.image, cv2.IMREAD_COLOR, notes=notes)
    if arr is None:
        r.fail(op, f"OpenCV cannot decode {r.image}")
    return _noted(fresh(arr, "HWC", ("B", "G", "R")), notes).note("cv2.VideoCapture.read replayed as cv2.imread of the image")


def _pil_open(r, v, op: Decode) -> V:
    notes: list = []
    try:
        img = open_pil(r.image, notes)
    except PortlintError as exc:
        r.fail(op, str(exc))
    return _noted(fresh(img, "PIL", PIL_MODES.get(img.mode, ("R", "G", "B"))), notes)


def _pil_convert(r, v, op: Decode) -> V:
    from PIL import Image

    mode = op.mode
    img = v.data if is_pil(v.data) else Image.fromarray(as_array(v.data))
    if not isinstance(mode, str):
        r.fail(op, "the mode is not known statically")
    same = img.mode == mode
    out = img.convert(mode)
    channels = v.channels if same and v.channels else PIL_MODES.get(mode, None)
    aff = v.affine if same else identity(len(channels) if channels else 3)
    return V(out, "PIL", channels, aff, v.emulated, v.notes)


def _exif_transpose(r, v, op: Decode) -> V:
    from PIL import ImageOps

    return v.but(data=ImageOps.exif_transpose(v.data))


def _sail_decode(r, v, op: Decode) -> V:
    try:
        arr = sail_emu.decode(r.image)
    except ValueError as exc:
        r.fail(op, str(exc))
    return fresh(arr, "CHW", ("B", "G", "R"), emulated=True).note(
        "sail.Decoder emulated with OpenCV (Sophon-OpenCV decodes JPEG in hardware, chroma may differ)")


def _parameter(r, v, op: Decode) -> V:
    import cv2

    notes: list = []
    arr = decode_cv2(r.image, cv2.IMREAD_COLOR, notes=notes)
    if arr is None:
        r.fail(op, f"OpenCV cannot decode {r.image}")
    return _noted(fresh(arr, "HWC", ("B", "G", "R")), notes).note(
        f"the pipeline starts at a parameter ({op.name}): fed a cv2.imread BGR image")
