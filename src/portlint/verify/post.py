"""Post-processing both sides the same way, to compare what the models predict.

- classify: an output of shape (N, C) (or (C,), (N, C, 1, 1)): top-k labels and scores per image;
  predictions agree when the top-1 labels do.
- detect: an output of shape (N, M, K), K >= 6: rows [x1, y1, x2, y2, score, class] (already
  decoded), or K > 6 with a YOLO head [cx, cy, w, h, objectness, class scores...], decoded with
  a confidence threshold and torchvision's class-aware NMS. Boxes are matched greedily by IoU
  (same class, highest score first); predictions agree when every box on each side is matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

CONF_THRES = 0.25
NMS_IOU = 0.45
MATCH_IOU = 0.5


def detect_task(outputs: dict, requested: str = "auto") -> Optional[str]:
    if requested in ("classify", "detect"):
        return requested
    if requested == "none":
        return None
    arrays = [np.asarray(a) for a in outputs.values()]
    if len(arrays) != 1:
        return None
    a = arrays[0]
    s = _squeeze_tail(a)
    if s.ndim == 2 and s.shape[1] >= 2 or s.ndim == 1 and s.shape[0] >= 2:
        return "classify"
    if a.ndim == 3 and a.shape[2] >= 6:
        return "detect"
    return None


def _squeeze_tail(a: np.ndarray) -> np.ndarray:
    while a.ndim > 2 and a.shape[-1] == 1:
        a = a[..., 0]
    return a


def logits_2d(a: np.ndarray) -> np.ndarray:
    a = _squeeze_tail(np.asarray(a, dtype=np.float64))
    return a[None] if a.ndim == 1 else a.reshape(a.shape[0], -1)


def topk(a: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    z = logits_2d(a)
    k = min(k, z.shape[1])
    out = []
    for row in z:
        idx = np.argsort(-row, kind="stable")[:k]
        out.append([(int(i), float(row[i])) for i in idx])
    return out


def compare_classify(o: np.ndarray, p: np.ndarray, k: int = 5) -> dict:
    to, tp = topk(o, k), topk(p, k)
    top1_o = [r[0][0] for r in to]
    top1_p = [r[0][0] for r in tp]
    zo, zp = logits_2d(o), logits_2d(p)
    # score differences at the original's top-k labels
    diffs = [abs(zo[i, lab] - zp[i, lab]) for i, row in enumerate(to) for lab, _ in row if i < len(zp)]
    same_topk = [[lab for lab, _ in a] == [lab for lab, _ in b] for a, b in zip(to, tp)]
    return {
        "task": "classify", "aligned": top1_o == top1_p, "original": top1_o, "ported": top1_p,
        "top_k": {"k": min(k, zo.shape[1]), "original": [[[lab, s] for lab, s in r] for r in to],
                  "ported": [[[lab, s] for lab, s in r] for r in tp], "same_order": all(same_topk)},
        "max_score_diff": float(max(diffs)) if diffs else 0.0,
        "mean_score_diff": float(np.mean(diffs)) if diffs else 0.0,
    }


# ----------------------------------------------------------------------------- detection
def _xywh2xyxy(b: np.ndarray) -> np.ndarray:
    out = b.copy()
    out[:, 0] = b[:, 0] - b[:, 2] / 2
    out[:, 1] = b[:, 1] - b[:, 3] / 2
    out[:, 2] = b[:, 0] + b[:, 2] / 2
    out[:, 3] = b[:, 1] + b[:, 3] / 2
    return out


def decode_boxes(a: np.ndarray) -> list[np.ndarray]:
    """Per image an (n, 6) array [x1, y1, x2, y2, score, class], highest score first."""
    a = np.asarray(a, dtype=np.float64)
    out = []
    for det in a:
        det = det[np.isfinite(det).all(axis=1)]  # a NaN or inf row is no box (a broken output, not a crash)
        if det.shape[1] == 6:
            rows = det[det[:, 4] > 0]
        else:
            obj = det[:, 4:5]
            cls = det[:, 5:]
            scores = obj * cls
            c = scores.argmax(1)
            s = scores[np.arange(len(c)), c]
            keep = s > CONF_THRES
            boxes = _xywh2xyxy(det[keep, :4])
            rows = np.concatenate([boxes, s[keep, None], c[keep, None].astype(np.float64)], axis=1)
            rows = _nms(rows)
        out.append(rows[np.argsort(-rows[:, 4], kind="stable")] if len(rows) else rows.reshape(0, 6))
    return out


def _nms(rows: np.ndarray) -> np.ndarray:
    if not len(rows):
        return rows.reshape(0, 6)
    import torch
    from torchvision.ops import batched_nms

    keep = batched_nms(torch.from_numpy(rows[:, :4]), torch.from_numpy(rows[:, 4]),
                       torch.from_numpy(rows[:, 5]).long(), NMS_IOU).numpy()
    return rows[keep]


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of xyxy boxes (no +1 on areas, as torchvision)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_boxes(o: np.ndarray, p: np.ndarray, thr: float = MATCH_IOU) -> dict:
    """Greedy matching, highest original score first, same class, IoU >= thr."""
    m = iou(o[:, :4], p[:, :4]) if len(o) and len(p) else np.zeros((len(o), len(p)))
    used: set = set()
    pairs = []
    for i in range(len(o)):
        best, best_j = thr, None
        for j in range(len(p)):
            if j in used or int(o[i, 5]) != int(p[j, 5]):
                continue
            if m[i, j] >= best:
                best, best_j = m[i, j], j
        if best_j is not None:
            used.add(best_j)
            pairs.append((i, best_j, float(m[i, best_j])))
    return {
        "matched": len(pairs), "unmatched_original": len(o) - len(pairs), "unmatched_ported": len(p) - len(used),
        "min_iou": min((q for _, _, q in pairs), default=None),
        "max_score_diff": max((abs(o[i, 4] - p[j, 4]) for i, j, _ in pairs), default=0.0),
        "max_box_diff": max((float(np.max(np.abs(o[i, :4] - p[j, :4]))) for i, j, _ in pairs), default=0.0),
    }


def compare_detect(o: np.ndarray, p: np.ndarray) -> dict:
    bo, bp = decode_boxes(o), decode_boxes(p)
    per = [match_boxes(a, b) for a, b in zip(bo, bp)]
    aligned = all(r["unmatched_original"] == 0 and r["unmatched_ported"] == 0 for r in per) and len(bo) == len(bp)
    def boxes(lst):
        return [[[round(float(x), 3) for x in row] for row in img] for img in lst]
    return {
        "task": "detect", "aligned": aligned, "original": boxes(bo), "ported": boxes(bp),
        "matching": per,
        "max_score_diff": float(max((r["max_score_diff"] for r in per), default=0.0)),
        "mean_score_diff": None,
    }


def compare_predictions(task: str, o: np.ndarray, p: np.ndarray, k: int = 5) -> dict:
    if task == "classify":
        return compare_classify(o, p, k)
    return compare_detect(o, p)


@dataclass
class Agreement:
    """Over a dataset: how many images predict the same."""

    total: int = 0
    agree: int = 0

    @property
    def rate(self) -> Optional[float]:
        return self.agree / self.total if self.total else None
