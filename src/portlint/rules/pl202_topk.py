"""PL202, NMS-free outputs: the score mask of a model whose output is already the final top-k.

End-to-end detectors (YOLOv10's one-to-one head, RT-DETR) output a fixed number of detections
(max_det 300) and need no NMS. The original's predictor masks them by score
(`preds[..., 4] > self.args.conf`), but its validator does not: YOLOv10DetectionValidator and
RTDETRValidator return all of them, so COCO AP is computed on every one. A port with no NMS that
masks the output by score at an evaluation threshold (below 0.1, EVAL_CONF: its run is an
evaluation) drops the low-score part the original's evaluation keeps.

The original's post-processing functions are found by name (`postprocess`, `post_process`) in
every file of the side, and each is in a mode by its file's name as for PL202's NMS (val/eval/test
files evaluate, predict/demo files predict). Reported when the original's evaluation-mode
post-processing without an NMS call masks nothing by score while a prediction-mode one without
NMS does (the original filters only when it predicts), and the port's program has no NMS at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import call_name, code, functions, walk
from portlint.findings import Fix
from portlint.rules.common import fmt, number, ran_functions
from portlint.rules.origin import origin

_POST_NAME = re.compile(r"^_?post_?process(ing)?$", re.I)
_NMS_CALL = re.compile(r"nms|non_max_suppression|NMSBoxes", re.I)
_THRESHOLD_WORD = re.compile(r"conf|score|thres", re.I)
_GREATER = (cst.GreaterThan, cst.GreaterThanEqual)


@dataclass
class Mask:
    src: object
    fn: object
    node: cst.Comparison
    threshold: cst.BaseExpression
    value: Optional[float] = None


def _score_column(node) -> bool:
    """`x[..., 4]` / `x[:, 4]`: one integer column of a detections array."""
    if type(node) is not cst.Subscript or len(node.slice) < 2:
        return False
    last = node.slice[-1].slice
    return type(last) is cst.Index and type(last.value) is cst.Integer


def column_masks(src, fn) -> list[Mask]:
    """`x[..., k] > thr` (or `thr < x[:, k]`) comparisons in a function's own body: a score mask of
    a detections array."""
    out = []
    for n in walk(fn.body):
        if type(n) is not cst.Comparison or len(n.comparisons) != 1:
            continue
        op, right = n.comparisons[0].operator, n.comparisons[0].comparator
        if isinstance(op, _GREATER) and _score_column(n.left):
            out.append(Mask(src, fn, n, right))
        elif type(op) in (cst.LessThan, cst.LessThanEqual) and _score_column(right):
            out.append(Mask(src, fn, n, n.left))
    return out


def _mentions_threshold(node) -> bool:
    for x in walk(node, skip_functions=False):
        if type(x) is cst.Name and _THRESHOLD_WORD.search(x.value):
            return True
        if type(x) is cst.Attribute and _THRESHOLD_WORD.search(x.attr.value):
            return True
    return False


def score_filtered(fn) -> bool:
    """The function compares something with a score threshold (`score > self.args.conf`,
    `preds[..., 4] > conf`)."""
    for n in walk(fn.body):
        if type(n) is cst.Comparison and len(n.comparisons) == 1 and isinstance(
                n.comparisons[0].operator, (cst.GreaterThan, cst.GreaterThanEqual, cst.LessThan, cst.LessThanEqual)):
            if _mentions_threshold(n.comparisons[0].comparator) or _mentions_threshold(n.left):
                return True
    return False


def _calls_nms(fn) -> bool:
    return any(type(n) is cst.Call and _NMS_CALL.search(call_name(n).rsplit(".", 1)[-1]) for n in walk(fn.body))


@dataclass
class PostFunction:
    src: object
    fn: object
    mode: Optional[str]
    filtered: bool


def original_nms_free(facts, mode_by_name) -> list[PostFunction]:
    """The original side's post-processing functions that call no NMS, with their modes."""
    out = []
    for src in facts.side.files.values():
        if src.module is None or "process" not in src.text:
            continue
        mode = mode_by_name(src.display)
        if mode is None:
            continue
        for fn in functions(src):
            if _POST_NAME.match(fn.name.value) and not _calls_nms(fn):
                out.append(PostFunction(src, fn, mode, score_filtered(fn)))
    return out


def _parts(path: str) -> list:
    return path.replace("\\", "/").split("/")


def _where(o: PostFunction) -> str:
    return f"{'/'.join(_parts(o.src.display)[-2:])} {o.fn.name.value}()"


def _nearest(items: list, ported_src) -> list:
    """The original functions whose folder names the ported file (models/yolov10/val.py for
    yolov10_opencv.py) first: where the finding points; it does not decide whether it is made."""
    name = _parts(ported_src.display)[-1].lower()
    return sorted(items, key=lambda o: _parts(o.src.display)[-2].lower() not in name)


def findings(pair, rule, progs: list, eval_conf: float, mode_by_name) -> list:
    """PL202 findings for the ported programs `progs` (those without NMS) whose score mask runs at
    an evaluation threshold where the original's evaluation keeps every top-k detection."""
    ported = pair.ported
    if not progs:
        return []
    candidates = []
    for prog in progs:
        for src, fn in ran_functions(prog):
            for m in column_masks(src, fn):
                scope = prog.scope_at(fn)
                m.value = number(ported.evaluate(m.threshold, scope)) if scope is not None else None
                if m.value is not None and m.value < eval_conf:
                    candidates.append((prog, m))
    if not candidates:
        return []
    originals = original_nms_free(pair.original, mode_by_name)
    evals = [o for o in originals if o.mode == "eval"]
    demos = [o for o in originals if o.mode == "demo" and o.filtered]
    if not evals or any(o.filtered for o in evals) or not demos:
        return []
    out, done = [], set()
    for prog, m in candidates:
        if id(m.node) in done:
            continue
        done.add(id(m.node))
        t = fmt(m.value)
        evals_, demos_ = _nearest(evals, m.src), _nearest(demos, m.src)
        names = ", ".join(_where(o) for o in evals_[:2])
        msg = (f"ported program has no NMS and masks the model's detections by score at {t} "
               f"({code(m.src, m.node).strip()}), an evaluation threshold; the original's evaluation post-processing "
               f"of an NMS-free output ({names}) applies no score threshold and evaluates every top-k detection, only "
               f"its predictor masks by score ({_where(demos_[0])}): the port drops the "
               f"detections scoring {t} or less that the original's COCO evaluation counts")
        found = origin(prog, m.src, m.threshold, fn=m.fn, files=list(pair.ported.side.files.values()))
        related = [(found.site, f"the threshold is set here ({found.what})")] if found is not None else []
        fix = Fix("display-only", "for the evaluation run, keep every detection the model outputs (no score mask), as "
                  "the original's validator does; keep the mask for prediction")
        out.append(rule.finding(msg, Site(m.src, m.node), Site(evals_[0].src, evals_[0].fn), fix=fix, related=related))
    return out
