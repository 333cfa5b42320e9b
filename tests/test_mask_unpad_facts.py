"""The fact behind PL207's padding check, measured: cropping the letterbox padding on the 160x160
prototype grid (sophon-demo's scale_mask) instead of on the masks upsampled to the 640x640 input
(ultralytics' process_mask(upsample=True) + scale_image) moves mask edges when the padding is not
a multiple of the prototype stride of 4 px, and changes nothing when it is."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _crop_box(size, h, w):
    """scale_image's (top, bottom, left, right) for an image h x w letterboxed into size x size."""
    gain = min(size / h, size / w)
    pw, ph = (size - w * gain) / 2, (size - h * gain) / 2
    return (int(round(ph - 0.1)), int(round(size - ph + 0.1)), int(round(pw - 0.1)), int(round(size - pw + 0.1)))


def _logits(cv2, count=6, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(32, 20, 20)).astype(np.float32)
    protos = np.stack([cv2.resize(b, (160, 160), interpolation=cv2.INTER_CUBIC) for b in base])
    coefs = rng.normal(size=(count, 32)).astype(np.float32)
    return (coefs @ protos.reshape(32, -1)).reshape(count, 160, 160)


def _upsample_first(torch, F, cv2, logits, h, w):
    up = F.interpolate(torch.from_numpy(logits)[None], (640, 640), mode="bilinear", align_corners=False)[0]
    binary = up.gt(0).numpy().astype(np.uint8)
    t, b, l, r = _crop_box(640, h, w)
    return np.stack([cv2.resize(m[t:b, l:r], (w, h)) for m in binary]) > 0


def _crop_on_proto_grid(cv2, logits, h, w):
    t, b, l, r = _crop_box(160, h, w)
    return np.stack([cv2.resize(m[t:b, l:r], (w, h)) for m in logits]) > 0


def _ious(torch, F, cv2, h, w):
    logits = _logits(cv2)
    a, b = _upsample_first(torch, F, cv2, logits, h, w), _crop_on_proto_grid(cv2, logits, h, w)
    return [float((x & y).sum() / (x | y).sum()) for x, y in zip(a, b)]


def test_crop_on_the_prototype_grid_moves_masks_when_the_padding_is_not_a_multiple_of_4():
    torch = pytest.importorskip("torch")
    cv2 = pytest.importorskip("cv2")
    import torch.nn.functional as F

    assert _crop_box(160, 427, 640)[:2] == (27, 133)  # 26.625 prototype rows of padding, rounded
    for h, w in [(427, 640), (640, 427)]:
        ious = _ious(torch, F, cv2, h, w)
        assert 0.93 < min(ious) and max(ious) < 0.975, ious  # the finding's "mask IoU 0.96"
    assert min(_ious(torch, F, cv2, 480, 640)) > 0.998  # padding 80 px = 20 prototype rows: the same masks
