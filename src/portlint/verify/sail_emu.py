"""SOPHON-SAIL Bmcv operations emulated in numpy, from the documented semantics
(docs/sail.md, citations there). Used when `sophon.sail` is not importable;
every value they produce is flagged `emulated`.

- Decoder.read of an image file: Sophon-OpenCV imdecode then BGR_PLANAR uint8 (§3); native
  OpenCV stands in for the hardware JPEG decoder (which upsamples chroma differently, §8.5).
- resize family: NEAREST by default, `src = floor(dst * in / out)` (the BM1684 bmcv reference,
  §2); LINEAR/BICUBIC: no antialias option exists, OpenCV's INTER_LINEAR/INTER_CUBIC stand in.
- convert_to: out[c] = a_c * in[c] + b_c per plane in memory order (§1); a uint8 output is
  clamped to [0, 255] and rounded (how ties round is not documented: half-to-even here), int8
  to [-128, 127]; float32 is not clamped.
- convert_format: planar/packed RGB/BGR; the plane order follows the format name (§3).
- PaddingAtrr: the scaled image is placed at (stx, sty) inside the canvas, the rest filled
  with (r, g, b) (§2).
"""

from __future__ import annotations

import numpy as np

FORMATS = {
    "FORMAT_RGB_PLANAR": (("R", "G", "B"), "CHW"), "FORMAT_BGR_PLANAR": (("B", "G", "R"), "CHW"),
    "FORMAT_RGB_PACKED": (("R", "G", "B"), "HWC"), "FORMAT_BGR_PACKED": (("B", "G", "R"), "HWC"),
    "FORMAT_RGBP_SEPARATE": (("R", "G", "B"), "CHW"), "FORMAT_BGRP_SEPARATE": (("B", "G", "R"), "CHW"),
    "FORMAT_GRAY": (("Y",), "CHW"),
}


def decode(path: str) -> np.ndarray:
    """Decoder.read of an image file: BGR_PLANAR (3, H, W) uint8."""
    import cv2

    from portlint.verify.images import decode_cv2

    img = decode_cv2(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        raise ValueError(f"{path}: cannot decode the image")
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def _hw_axes(layout: str) -> tuple[int, int]:
    return layout.index("H"), layout.index("W")


def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """bmcv reference nearest: src = floor(dst * in / out) in integers."""
    return np.minimum((np.arange(n_out, dtype=np.int64) * n_in) // n_out, n_in - 1)


def resize(arr: np.ndarray, layout: str, out_h: int, out_w: int, interp: str) -> np.ndarray:
    hi, wi = _hw_axes(layout)
    if interp in (None, "nearest"):
        rows = nearest_indices(arr.shape[hi], out_h)
        cols = nearest_indices(arr.shape[wi], out_w)
        return np.take(np.take(arr, rows, axis=hi), cols, axis=wi)
    import cv2

    code = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}.get(interp)
    if code is None:
        raise ValueError(f"bmcv has no {interp} resize")
    hwc = np.moveaxis(arr, [hi, wi], [0, 1])
    out = cv2.resize(np.ascontiguousarray(hwc), (int(out_w), int(out_h)), interpolation=code)
    if out.ndim == 2:
        out = out[:, :, None]
    return np.ascontiguousarray(np.moveaxis(out, [0, 1], [hi, wi]))


def crop(arr: np.ndarray, layout: str, top: int, left: int, h: int, w: int) -> np.ndarray:
    hi, wi = _hw_axes(layout)
    index = [slice(None)] * arr.ndim
    index[hi] = slice(int(top), int(top) + int(h))
    index[wi] = slice(int(left), int(left) + int(w))
    return arr[tuple(index)]


def pad(arr: np.ndarray, layout: str, top: int, left: int, out_h: int, out_w: int, value) -> np.ndarray:
    """Canvas of out_h x out_w filled with `value` (per memory channel), image at (top, left)."""
    hi, wi = _hw_axes(layout)
    ci = layout.index("C") if "C" in layout else None
    shape = list(arr.shape)
    shape[hi], shape[wi] = int(out_h), int(out_w)
    canvas = np.empty(shape, dtype=arr.dtype)
    vals = np.asarray(value if isinstance(value, (list, tuple)) else [value], dtype=np.float64)
    if ci is not None and vals.size == arr.shape[ci]:
        bshape = [1] * arr.ndim
        bshape[ci] = vals.size
        canvas[...] = vals.reshape(bshape).astype(arr.dtype)
    else:
        canvas[...] = np.asarray(vals[0]).astype(arr.dtype)
    index = [slice(None)] * arr.ndim
    index[hi] = slice(int(top), int(top) + arr.shape[hi])
    index[wi] = slice(int(left), int(left) + arr.shape[wi])
    canvas[tuple(index)] = arr
    return canvas


def convert_to(arr: np.ndarray, layout: str, alpha_beta, out_dtype: str) -> np.ndarray:
    ci = layout.index("C")
    n = arr.shape[ci]
    a = np.array([p[0] for p in alpha_beta][:n], dtype=np.float64)
    b = np.array([p[1] for p in alpha_beta][:n], dtype=np.float64)
    bshape = [1] * arr.ndim
    bshape[ci] = n
    out = arr.astype(np.float64) * a.reshape(bshape) + b.reshape(bshape)
    if out_dtype == "uint8":
        return np.rint(np.clip(out, 0, 255)).astype(np.uint8)
    if out_dtype == "int8":
        return np.rint(np.clip(out, -128, 127)).astype(np.int8)
    return out.astype(np.float32)


def convert_format(arr: np.ndarray, layout: str, channels: tuple, fmt: str):
    """(array, layout, channels) in format `fmt`."""
    target, target_layout = FORMATS.get(fmt, (None, None))
    if target is None:
        raise ValueError(f"format {fmt} is not emulated")
    hwc = np.moveaxis(arr, layout.index("C"), -1) if "C" in layout else arr[..., None]
    if len(target) == 3 and channels and set(target) <= set(channels):
        hwc = hwc[..., [channels.index(c) for c in target]]
    elif len(target) == 1 and channels and len(channels) == 3:
        # BT.601 luma, as the VPP's RGB->GRAY
        weights = {"R": 0.299, "G": 0.587, "B": 0.114}
        y = sum(hwc[..., i].astype(np.float64) * weights.get(c, 0) for i, c in enumerate(channels))
        hwc = np.rint(y)[..., None].astype(arr.dtype)
    out = np.ascontiguousarray(np.moveaxis(hwc, -1, 0)) if target_layout == "CHW" else np.ascontiguousarray(hwc)
    return out, target_layout, target
