"""decord: video frames decoded with FFmpeg and converted to RGB. Facts from the decord source
(dmlc/decord): the filter graph's sink accepts only AV_PIX_FMT_RGB24
(src/video/ffmpeg/filter_graph.cc, `pix_fmts[] = { AV_PIX_FMT_RGB24, AV_PIX_FMT_NONE }`), and a
frame becomes an NDArray of shape (height, width, 3), uint8 (threaded_decoder.cc CopyToNDArray).
`VideoReader.get_batch(indices)` stacks the frames into (N, H, W, 3); `NDArray.asnumpy()` is that
array as numpy; `vr[i]` / `vr.next()` is one frame (H, W, 3).
Measured with decord 0.6.0 (not a dependency; a scratch venv): a cv2-written video whose BGR
pixel is (0, 0, 255) reads back from get_batch().asnumpy() as [254, 0, 0], cv2's read() as
[0, 0, 254] (docs/facts.md).
"""

from __future__ import annotations

from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.image import fresh_image
from portlint.analysis.ops import Decode
from portlint.analysis.values import UNKNOWN, ApiObject

READER = "decord.VideoReader"
NDARRAY = "decord.ndarray.NDArray"


@handles(READER, "decord.video_reader.VideoReader")
def _reader(ctx: Ctx):
    return ApiObject(READER, tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


def _frames(ctx: Ctx, layout: str):
    op = ctx.op(Decode, library="decord", mode="video", exif=False, source="video")
    return ApiObject(NDARRAY, attrs={"__image__": fresh_image("ndarray", ("R", "G", "B"), layout, "uint8", op)})


@handles(READER + ".get_batch")
def _get_batch(ctx: Ctx):
    return _frames(ctx, "NHWC")


@handles(READER + ".next", READER + ".__getitem__")
def _next(ctx: Ctx):
    return _frames(ctx, "HWC")


@handles(NDARRAY + ".asnumpy")
def _asnumpy(ctx: Ctx):
    img = ctx.args[0].attrs.get("__image__") if isinstance(ctx.args[0], ApiObject) else None
    return img if img is not None else UNKNOWN
