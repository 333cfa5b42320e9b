"""The fact behind PL207's mask-order finding (rules/pl207_mask_order.py): cropping prototype masks
before or after upsampling gives different binary masks along the box edges."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")


def _crop(masks, box, padding):
    """masks [n, h, w]; box relative (x1, y1, x2, y2); zero outside the box grown by `padding` px."""
    n, h, w = masks.shape
    x1, y1, x2, y2 = box[0] * w - padding, box[1] * h - padding, box[2] * w + padding, box[3] * h + padding
    cols = torch.arange(w).view(1, 1, -1)
    rows = torch.arange(h).view(1, -1, 1)
    keep = (cols >= x1) & (cols < x2) & (rows >= y1) & (rows < y2)
    return masks * keep


def test_crop_then_upsample_differs_from_upsample_then_crop_along_the_box():
    g = torch.Generator().manual_seed(0)
    protos = torch.sigmoid(torch.randn(1, 138, 138, generator=g) * 4 + 2)  # mostly foreground
    box = (0.2, 0.3, 0.7, 0.8)
    first = F.interpolate(_crop(protos, box, 1)[None], (480, 640), mode="bilinear", align_corners=False)[0] > 0.5
    up = F.interpolate(protos[None], (480, 640), mode="bilinear", align_corners=False)[0]
    second = _crop(up, box, 1) > 0.5
    differ = (first != second)
    assert differ.sum() > 100
    # the differences are at the box border (the original lets about 4 image pixels bleed past the box)
    ys, xs = torch.nonzero(differ[0], as_tuple=True)
    inside = (xs > 0.2 * 640 + 8) & (xs < 0.7 * 640 - 8) & (ys > 0.3 * 480 + 8) & (ys < 0.8 * 480 - 8)
    assert not inside.any()
