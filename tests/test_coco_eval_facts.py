"""The facts behind PL209 (rules/PL209.md), on COCOeval's own average precision: detections ranked
by score (pycocotools cocoeval.py evaluateImg/accumulate: argsort of -score, kind='mergesort'),
precision made monotone from the right and read at 101 recall thresholds. pycocotools is not
installed here, so the few lines of accumulate() that compute one AP are restated below.

- Dropping every detection below a score threshold cuts the tail of the ranked list: the kept
  detections rank as before, so AP can only drop (never rise), and drops whenever a true positive
  was cut.
- Re-scoring (mean keypoint confidence + box score) reorders the detections, and AP changes.
"""

from __future__ import annotations

import numpy as np

REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def coco_ap(scores, tp, n_gt: int) -> float:
    """COCOeval.accumulate() for one category, area range and IoU threshold."""
    scores, tp = np.asarray(scores, dtype=float), np.asarray(tp, dtype=bool)
    inds = np.argsort(-scores, kind="mergesort")
    tps, fps = tp[inds], ~tp[inds]
    tp_sum, fp_sum = np.cumsum(tps).astype(float), np.cumsum(fps).astype(float)
    rc = tp_sum / n_gt
    pr = (tp_sum / (fp_sum + tp_sum + np.spacing(1))).tolist()
    for i in range(len(pr) - 1, 0, -1):
        if pr[i] > pr[i - 1]:
            pr[i - 1] = pr[i]
    q = np.zeros(len(REC_THRS))
    idx = np.searchsorted(rc, REC_THRS, side="left")
    for ri, pi in enumerate(idx):
        if pi < len(pr):
            q[ri] = pr[pi]
    return float(np.mean(q))


def test_score_filter_only_cuts_the_tail():
    rng = np.random.default_rng(208)
    lower = 0
    for _ in range(300):
        n = int(rng.integers(5, 60))
        scores = rng.uniform(0.001, 1.0, n)
        tp = rng.uniform(size=n) < scores  # confident detections are more often right
        n_gt = int(tp.sum()) + int(rng.integers(0, 5)) or 1
        keep = scores >= 0.5
        full, cut = coco_ap(scores, tp, n_gt), coco_ap(scores[keep], tp[keep], n_gt)
        assert cut <= full + 1e-12
        if (tp & ~keep).any():
            assert cut < full
            lower += 1
    assert lower > 100


def test_rescoring_reorders_and_changes_ap():
    # box score, mean keypoint confidence, true positive: the two people scored 0.62 and 0.55 swap
    box = np.array([0.90, 0.62, 0.55, 0.30])
    kpt = np.array([0.80, 0.20, 0.70, 0.60])
    tp = np.array([True, False, True, True])
    assert list(np.argsort(-box, kind="mergesort")) == [0, 1, 2, 3]
    assert list(np.argsort(-(kpt + box), kind="mergesort")) == [0, 2, 3, 1]
    assert abs(coco_ap(box, tp, 3) - coco_ap(kpt + box, tp, 3)) > 0.05
