"""Opening the user's images for `verify`: checked before they are decoded, decoded quietly.

Why: an image file is input like any other. A FIFO named `.jpg` blocked the decoder forever; a
PNG or JPEG header claiming 20000x20000 (or 65000 px) pixels made PIL raise
DecompressionBombError and OpenCV raise cv2.error (tracebacks), and a valid 50 KB 1-bit
20000x20000 PNG decoded to gigabytes until the OOM killer came. So an image is opened only if it
is a regular file, its size is read from its header (PIL reads headers without decoding) and
compared with MAX_PIXELS before anything decodes it, and every decode turns the libraries'
exceptions into one-line errors. OpenCV and libjpeg print warnings ("Corrupt JPEG data ...")
straight to file descriptor 2; `quiet_native_stderr` keeps them off the user's terminal.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import warnings
from typing import Iterator, Optional

from portlint.errors import PortlintError

MAX_PIXELS = 100_000_000  # a 100-megapixel photo decodes to 300 MB as RGB uint8, 1.2 GB as float32
MAX_IMAGE_BYTES = 1 << 30
# OpenCV's own limit (read once, at its first decode), for the formats PIL cannot read headers of
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))


@contextlib.contextmanager
def quiet_native_stderr(captured: Optional[list] = None) -> Iterator[None]:
    """File descriptor 2 sent to a temporary file while native code runs; what was written is
    appended to `captured` (one string per line), not printed."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 (embedded): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if captured is not None:
                sink.seek(0)
                text = sink.read(1 << 16).decode("utf-8", "replace")
                captured.extend(line.strip() for line in text.splitlines() if line.strip())


def _regular(path: str) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise PortlintError(f"{path}: no such image file") from None
    except OSError as exc:
        raise PortlintError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise PortlintError(f"{path}: is a directory, expected an image file")
    if not stat.S_ISREG(info.st_mode):
        raise PortlintError(f"{path}: not a regular file")  # a FIFO would block the decoder
    if info.st_size > MAX_IMAGE_BYTES:
        raise PortlintError(f"{path}: image file too large ({info.st_size / 1e6:.0f} MB)")


def header_size(path: str) -> Optional[tuple[int, int]]:
    """(width, height) from the image's header, nothing decoded; None when PIL does not know the
    format (OpenCV's own pixel limit then applies)."""
    from PIL import Image, UnidentifiedImageError

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # the size is judged here, against MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                return tuple(img.size)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def check_image(path: str) -> None:
    """Raise a one-line PortlintError unless `path` is an image that can be decoded safely."""
    _regular(path)
    size = header_size(path)
    if size is not None:
        w, h = size
        if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
            raise PortlintError(f"{path}: image too large to verify ({w}x{h} pixels; at most "
                                f"{MAX_PIXELS // 1_000_000} million)")
    if decode_cv2(path, None) is None:
        from PIL import Image

        try:
            with warnings.catch_warnings(), quiet_native_stderr():
                warnings.simplefilter("ignore")
                Image.open(path).verify()
        except Exception:
            raise PortlintError(f"{path}: not an image OpenCV or PIL can decode") from None


def decode_cv2(path: str, flags, buffer: bool = False, notes: Optional[list] = None):
    """cv2.imread (or cv2.imdecode of the file's bytes) quietly; None when OpenCV cannot decode it."""
    import cv2
    import numpy as np

    flags = cv2.IMREAD_UNCHANGED if flags is None else flags
    captured: list = []
    try:
        with quiet_native_stderr(captured):
            if buffer:
                return cv2.imdecode(np.fromfile(path, dtype=np.uint8), flags)
            return cv2.imread(path, flags)
    except (cv2.error, OSError, ValueError, MemoryError):
        return None
    finally:
        if notes is not None and captured:
            notes.append(f"decoder warning: {captured[0][:200]}")


def open_pil(path: str, notes: Optional[list] = None):
    """PIL.Image.open(path), loaded, quietly; raises PortlintError when PIL cannot decode it."""
    from PIL import Image

    captured: list = []
    try:
        with warnings.catch_warnings(), quiet_native_stderr(captured):
            warnings.simplefilter("ignore")
            img = Image.open(path)
            img.load()
        return img
    except Exception as exc:
        raise PortlintError(f"{path}: PIL cannot decode it ({type(exc).__name__})") from None
    finally:
        if notes is not None and captured:
            notes.append(f"decoder warning: {captured[0][:200]}")
