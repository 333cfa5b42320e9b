"""Facts behind PL202's Fast NMS and NMSBoxes top_k (rules/PL202.md, rules/pl202_fast.py), measured
with the libraries themselves."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")
torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


def _fast_nms(boxes, scores, thr):
    """YOLACT's Fast NMS for one class: sort, IoU matrix, strict upper triangle, column max <= thr."""
    _, idx = scores.sort(0, descending=True)
    b = boxes[idx]
    iou = torchvision.ops.box_iou(b, b)
    iou.triu_(diagonal=1)
    iou_max, _ = iou.max(dim=0)
    return idx[iou_max <= thr].tolist()


def test_fast_nms_drops_a_box_only_a_dropped_box_overlaps():
    # A (0.9) overlaps B (0.8), B overlaps C (0.7), A and C are apart (IoU 0)
    boxes = torch.tensor([[0.0, 0, 10, 10], [6.0, 0, 16, 10], [12.0, 0, 22, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    iou = torchvision.ops.box_iou(boxes, boxes)
    assert iou[0, 1] == 0.25 and iou[1, 2] == 0.25 and iou[0, 2] == 0
    assert torchvision.ops.nms(boxes, scores, 0.2).tolist() == [0, 2]  # greedy: B is removed, C survives
    assert _fast_nms(boxes, scores, 0.2) == [0]  # Fast NMS: the removed B still removes C


def test_fast_nms_keeps_a_subset_of_greedy_on_random_boxes():
    g = torch.Generator().manual_seed(0)
    differ = 0
    for _ in range(50):
        xy = torch.rand(60, 2, generator=g) * 100
        wh = torch.rand(60, 2, generator=g) * 40 + 10
        boxes = torch.cat([xy, xy + wh], 1)
        scores = torch.rand(60, generator=g)
        fast, greedy = set(_fast_nms(boxes, scores, 0.5)), set(torchvision.ops.nms(boxes, scores, 0.5).tolist())
        assert fast <= greedy  # a box greedy removes has a kept higher-scoring neighbour above thr
        differ += fast != greedy
    assert differ > 10  # 23 of 50 sets with this seed


def test_nmsboxes_top_k_cuts_the_candidates_before_suppressing():
    boxes = [[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]]  # (x, y, w, h): 0 and 1 overlap
    scores = [0.9, 0.8, 0.7]
    assert cv2.dnn.NMSBoxes(boxes, scores, 0.1, 0.5).tolist() == [0, 2]
    # top_k=2 keeps the 2 best candidates (0, 1) and suppresses among them: 2 never competes
    assert cv2.dnn.NMSBoxes(boxes, scores, 0.1, 0.5, top_k=2).tolist() == [0]
