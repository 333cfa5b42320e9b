"""The fact behind PL102's label-map check, measured: shrinking a map of class ids with cv2.resize's
default INTER_LINEAR (sophon-demo segformer's evaluation: Cityscapes 2048x1024 -> 1024x512) blends
neighbouring ids into ids of other classes along the boundaries; INTER_NEAREST keeps real ids."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _label_map(cv2, classes=19, seed=0):
    """Piecewise-constant 2048x1024 regions: the argmax of smooth random fields, ignore band 255 on top."""
    rng = np.random.default_rng(seed)
    fields = np.stack([cv2.resize(rng.normal(size=(16, 32)).astype(np.float32), (2048, 1024),
                                  interpolation=cv2.INTER_CUBIC) for _ in range(classes)])
    labels = fields.argmax(0).astype(np.uint8)
    labels[:64] = 255
    return labels


def test_bilinear_shrink_of_a_label_map_invents_classes_nearest_does_not():
    cv2 = pytest.importorskip("cv2")
    labels = _label_map(cv2)
    linear = cv2.resize(labels, (1024, 512))  # the default filter: INTER_LINEAR
    nearest = cv2.resize(labels, (1024, 512), interpolation=cv2.INTER_NEAREST)
    changed = linear != nearest
    assert 0.03 < changed.mean() < 0.06, changed.mean()  # the finding's "4.4 % of labels change"
    blocks = labels.reshape(512, 2, 1024, 2).transpose(0, 2, 1, 3).reshape(512, 1024, 4)
    rows, cols = np.nonzero(changed)
    foreign = np.mean([linear[r, c] not in blocks[r, c] for r, c in zip(rows, cols)])
    assert foreign > 0.9, foreign  # nearly all of them to a class none of their four source pixels has
    assert np.isin(nearest, np.unique(labels)).all()
