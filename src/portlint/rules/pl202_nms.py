"""PL202 nms: the non-maximum suppression of each program, identified and compared.

Recognised: torchvision.ops.nms / batched_nms, cv2.dnn.NMSBoxes, SAIL's Bmcv.nms, nms_rotated and
yolov5 post-processing helpers (NmsCall facts, recorded by apis/post_api.py), and hand-written
numpy NMS found by its structure (a loop over an argsort, intersections with np.maximum/np.minimum,
an overlap ratio compared with a threshold). Around each NMS call, the function that calls it
(ultralytics' non_max_suppression, sophon-demo's PostProcess) gives the score filter, the top-k
cut before NMS and its sort order, the class offset (max_wh) or agnostic flag, multi-label and
max_det.

An original NMS the interpreter did not reach (inside a data loop it could not enter, or in a
library such as ultralytics whose predictor and validator no program runs) is read from its call
sites: the call's arguments, evaluated where the calling function ran, bound to the NMS
function's parameters and defaults (`static_contexts`).

Which original to compare with: each original NMS belongs to a program in a mode, evaluation
(a score threshold below 0.1, the low-score tail mAP needs; or a file named val/eval/test/map) or
demo. Thresholds and the IoU arithmetic are compared with the originals of the port's mode (its
defaults say which); what selects detections (max_det, multi-label, per-class NMS, the box format
given) is fixed in the code for every run, so it is compared with every original program, and
the finding names the one it differs from. Each finding is reported where the fix goes: the
ported line that defines the value (rules/origin.py), with the use site in `related`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.events import FunctionCall, NmsCall, Scope
from portlint.analysis.facts import ProgramFacts, SideFacts
from portlint.analysis.syntax import ancestors, call_name, code, enclosing_function, functions, last_name, params_of, walk
from portlint.analysis.values import UNKNOWN
from portlint.rules.common import fmt, guarded, number
from portlint.rules.base import RuleMeta
from portlint.rules.origin import Origin, origin
from portlint.rules import pl202_fast as fast
from portlint.rules import pl202_classes as classes
from portlint.rules import pl202_topk as topk
from portlint.analysis.tree import compound_statements, small_statements
from portlint.findings import Fix, TextEdit

RULE = RuleMeta("PL202", "nms", "warning", ("unsafe", "display-only"),
                "NMS implementation or parameters differ (thresholds, box format, sort order, class offset, max_det)")

# impl -> (family, what it suppresses, +1 in areas, box format it reads)
_LIBRARY = {
    "torchvision.ops.nms": ("torchvision", "gt", False, "xyxy"),
    "torchvision.ops.batched_nms": ("torchvision", "gt", False, "xyxy"),
    "cv2.dnn.NMSBoxes": ("cv2", "gt", False, "xywh"),
    "cv2.dnn.NMSBoxesBatched": ("cv2", "gt", False, "xywh"),
    "sophon.sail.Bmcv.nms": ("sail-bmcv", "gt", True, "xyxy"),
    "sophon.sail.nms_rotated": ("sail-rotated", "ge", False, "xywha"),
}
_SAIL_HELPER = "sail-helper"
# a library NMS called inside a function that is not run: last name -> (impl, module the file imports,
# position of the IoU threshold, of the score threshold)
_STATIC_LIBRARY = {
    "nms": ("torchvision.ops.nms", "torchvision", 2, None),
    "batched_nms": ("torchvision.ops.batched_nms", "torchvision", 3, None),
    "NMSBoxes": ("cv2.dnn.NMSBoxes", "cv2", 3, 2),
    "NMSBoxesBatched": ("cv2.dnn.NMSBoxesBatched", "cv2", 4, 3),
}

_CONF_NAME = re.compile(r"conf|score|thres|thresh", re.I)
_NOT_CONF = re.compile(r"iou|nms|overlap", re.I)
_MAX_DET = re.compile(r"max_det|keep_top_k|top_k|topk|max_num|max_out", re.I)
_OFFSET = re.compile(r"max_wh|max_coordinate|class_offset", re.I)
_MIN_SIZE = re.compile(r"min_wh|min_size|min_box", re.I)
_CLASS_LOOP = re.compile(r"cls|class|unique|label", re.I)
_EVAL_NAME = re.compile(r"(^|[/_.])(val|eval|evaluate|test|tests|map|coco|benchmark)([/_.]|$)", re.I)
_DEMO_NAME = re.compile(r"(^|[/_.])(predict|predictor|detect|demo|demos|infer|inference|image|video|webcam|app)([/_.]|$)",
                        re.I)
# a score threshold below this keeps the low-score tail COCO mAP needs: an evaluation setting
EVAL_CONF = 0.1


@dataclass
class Nms:
    impl: str
    family: str
    prog: Optional[ProgramFacts]
    site: Site
    iou: Optional[float] = None
    iou_arg: Any = None
    suppress: Optional[str] = None  # "gt": IoU > thr suppressed, "ge": IoU >= thr
    plus_one: Optional[bool] = None
    reads: Optional[str] = None  # box format the implementation reads
    given_xyxy: bool = False  # evidence that xyxy boxes are passed
    given_centre: Optional[Site] = None  # centre-format (cx, cy, w, h) boxes reach an NMS reading a corner
    conf: Optional[float] = None
    conf_arg: Any = None
    conf_filter: bool = False  # a score filter before NMS exists (its value may be unknown)
    sort: Optional[tuple] = None  # (descending, k, Site of the argsort cut, call node)
    greedy_ascending: Optional[Site] = None
    per_class: Optional[bool] = None
    offset: Optional[float] = None
    offset_site: Optional[Site] = None
    has_offset: bool = False  # a class-offset expression exists (its value may be unknown)
    multi_label: Optional[bool] = None
    best_class: Optional[Site] = None  # the argmax/max that keeps one class per box, without a multi-label branch
    has_classes: bool = False  # the post-processing has class ids at all (a single-class model has none)
    max_det: Optional[float] = None
    max_det_site: Optional[Site] = None
    has_max_det: bool = False
    min_size: Optional[float] = None
    program: str = ""  # the program (or library file) this NMS belongs to
    mode: Optional[str] = None  # "eval" or "demo"
    exprs: dict = field(default_factory=dict)  # setting -> (file, expression node) giving its value
    extra: dict = field(default_factory=dict)

    def multi_label_branch_seen(self) -> bool:
        return "multi_label" in self.exprs


# ------------------------------------------------------------------ recognising hand-written NMS


def _ratio_names(fn) -> set:
    """Names assigned a quotient (`ovr = inter / union`); not an index array re-filtered by a
    test on one (`order = order[np.where(inter / union <= thr)[0] + 1]`: the ratio is inline)."""
    names = set()
    for n in walk(fn):
        if type(n) is cst.Assign and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
            target = n.targets[0].target.value
            if type(n.value) is cst.Subscript and _base_name(n.value) == target:
                continue
            if any(type(x) is cst.BinaryOperation and type(x.operator) is cst.Divide for x in walk(n.value)):
                names.add(target)
    return names


def _base_name(node) -> Optional[str]:
    while type(node) in (cst.Subscript, cst.Attribute, cst.Call):
        node = node.func if type(node) is cst.Call else node.value
    return node.value if type(node) is cst.Name else None


_FLIP = {cst.LessThan: cst.GreaterThan, cst.LessThanEqual: cst.GreaterThanEqual,
         cst.GreaterThan: cst.LessThan, cst.GreaterThanEqual: cst.LessThanEqual}


def _iou_test(fn, ratios: set):
    """(comparison node, threshold expr, suppress op) of `ovr <= thr` style tests."""
    for n, thr, op in fast.ratio_tests(fn, ratios, inline=True):
        suppress = {cst.LessThanEqual: "gt", cst.LessThan: "ge", cst.GreaterThan: "gt", cst.GreaterThanEqual: "ge"}[op]
        return n, thr, suppress
    return None


_NUMPY_NMS: dict = {}


def _is_numpy_nms(fn) -> bool:
    found = _NUMPY_NMS.get(fn)
    if found is None:
        found = _NUMPY_NMS[fn] = _looks_like_numpy_nms(fn)
    return found


def _looks_like_numpy_nms(fn) -> bool:
    body = fn.body.body if type(fn.body) is cst.IndentedBlock else ()
    if not any(type(n) is cst.While or type(n) is cst.For for n in compound_statements(body)):
        return False  # no loop: found from the statements alone, before walking every expression
    names = [call_name(n) for n in walk(fn) if type(n) is cst.Call]  # exact type: libcst has no subclasses
    sort = any(name.endswith("argsort") for name in names)
    inter = (any(name.endswith("maximum") for name in names) and any(name.endswith("minimum") for name in names)) or (
        "max" in names and "min" in names)
    return sort and inter and (bool(_ratio_names(fn)) or fast.has_inline_ratio_test(fn))


def _plus_one(fn) -> bool:
    for n in walk(fn):
        if type(n) is cst.BinaryOperation and type(n.operator) is cst.Add:
            one = [s for s in (n.left, n.right) if type(s) is cst.Integer and s.value == "1"]
            other = n.right if one and one[0] is n.left else n.left
            if one and _difference(other):
                return True
    return False


def _difference(node) -> bool:
    """`x2 - x1` or `np.maximum(0.0, xx2 - xx1)`: a coordinate difference the `+ 1` widens; not an
    index (`np.where(inter / (a + b - inter) <= thr)[0] + 1` steps past the kept box)."""
    if type(node) is cst.BinaryOperation and type(node.operator) is cst.Subtract:
        return True
    return type(node) is cst.Call and any(
        type(a.value) is cst.BinaryOperation and type(a.value.operator) is cst.Subtract for a in node.args)


def _reads_corner_width(fn) -> bool:
    """The numpy NMS takes columns 2-3 as the box's width and height (`w = boxes[:, 2]`, then
    `x + w` as the right edge): it reads (x1, y1, w, h), not (x1, y1, x2, y2)."""
    for n in walk(fn):
        if type(n) is cst.Assign and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name) and \
                n.targets[0].target.value in ("w", "width") and _column(n.value) == 2:
            return True
    return False


def _column(node) -> Optional[int]:
    """`boxes[:, 2]` -> 2."""
    if type(node) is cst.Subscript and len(node.slice) == 2 and isinstance(node.slice[1].slice, cst.Index):
        v = node.slice[1].slice.value
        if type(v) is cst.Integer:
            return int(v.value)
    return None


def _argsort_direction(facts: SideFacts, node, scope) -> Optional[bool]:
    """True if the argsort expression `node` sorts descending, False ascending, None if not an argsort."""
    if type(node) is cst.Subscript:
        inner = _argsort_direction(facts, node.value, scope)
        if inner is None:
            return None
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
            s = node.slice[0].slice
            if s.lower is None and s.upper is None and type(s.step) is cst.UnaryOperation and code_of_int(s.step) == -1:
                return not inner
        return None
    if type(node) is not cst.Call or not call_name(node).endswith("argsort"):
        return None
    desc = False
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == "descending":
            desc = facts.evaluate(arg.value, scope) is True
    name = call_name(node)
    if not name.startswith(".") and node.args and node.args[0].keyword is None:
        data = node.args[0].value
        if type(data) is cst.UnaryOperation and type(data.operator) is cst.Minus:
            desc = not desc
    elif type(node.func) is cst.Attribute and type(node.func.value) is cst.UnaryOperation and type(node.func.value.operator) is cst.Minus:
        desc = not desc
    return desc


def code_of_int(node) -> Optional[int]:
    if type(node) is cst.Integer:
        return int(node.value)
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus and type(node.expression) is cst.Integer:
        return -int(node.expression.value)
    return None


def _greedy_order_ascending(facts: SideFacts, fn, scope) -> Optional[cst.CSTNode]:
    """The argsort that orders a hand-written NMS, if it visits the lowest score first."""
    uses_last = any(type(n) is cst.Subscript and len(n.slice) == 1 and isinstance(n.slice[0].slice, cst.Index)
                    and code_of_int(n.slice[0].slice.value) == -1 for n in walk(fn))
    for n in walk(fn):
        if type(n) is cst.Assign:
            d = _argsort_direction(facts, n.value, scope)
            if d is False and not uses_last:
                return n.value
            if d is not None:
                return None
    return None


# ------------------------------------------------------------------ the code around an NMS call


def _host_facts(facts: SideFacts, info: Nms, src, host, scope: Optional[Scope], nms_call=None, skip=()) -> None:
    for n in walk(host):
        t = type(n)  # exact types (libcst has no subclasses of these): isinstance goes through ABCMeta
        if t is cst.Call:
            name = last_name(n.func)
            if name == "argmax":
                info.extra.setdefault("best_class_call", Site(src, n))
            elif name in ("max", "amax") and n.args:
                info.extra.setdefault("best_class_max", Site(src, n))
            if name in ("argmax",) or ("agnostic" in src.text and "agnostic" in code(src, n)):  # a node's code is a piece of its file's text
                info.has_classes = True
            continue
        if t is cst.Name:
            if n.value in ("agnostic", "agnostic_nms", "num_classes", "nc", "classes"):
                info.has_classes = True
            continue
        if t is not cst.Comparison and t is not cst.Subscript and t is not cst.BinaryOperation \
                and t is not cst.If and t is not cst.IfExp:
            continue
        if n in skip:
            continue
        if t is cst.Comparison and len(n.comparisons) == 1 and not info.conf_filter:
            op = type(n.comparisons[0].operator)
            if op in _FLIP:
                for thr, data, flip in ((n.comparisons[0].comparator, n.left, False), (n.left, n.comparisons[0].comparator, True)):
                    text = code(src, thr)
                    if _CONF_NAME.search(text) and not _NOT_CONF.search(text) and not _MIN_SIZE.search(text):
                        v = number(facts.evaluate(thr, scope))
                        if v is None:
                            v = _static_number(facts, info.prog, src, thr)
                        if v is None or 0 <= v < 1:
                            info.conf = v
                            info.conf_filter = True
                            info.extra["conf_site"] = Site(src, n)
                            info.exprs["conf"] = (src, thr)
                            break
        if type(n) is cst.Comparison and len(n.comparisons) == 1 and info.min_size is None:
            for side in (n.left, n.comparisons[0].comparator):
                if _MIN_SIZE.search(code(src, side)):
                    v = number(facts.evaluate(side, scope))
                    if v is not None:
                        info.min_size = v
                        info.extra["min_size_site"] = Site(src, n)
        if type(n) is cst.Subscript and n.slice and isinstance(n.slice[0].slice, cst.Slice):
            s = n.slice[0].slice
            if s.lower is None and s.upper is not None and s.step is None:
                d = _argsort_direction(facts, n.value, scope)
                k = number(facts.evaluate(s.upper, scope))
                if d is not None and info.sort is None:
                    info.sort = (d, k, Site(src, n), n.value)
                elif d is None and _MAX_DET.search(code(src, s.upper)) and not info.has_max_det:
                    info.has_max_det = True
                    info.max_det, info.max_det_site = k, Site(src, n)
                    info.exprs["max_det"] = (src, s.upper)
        if type(n) is cst.BinaryOperation and type(n.operator) is cst.Multiply and not info.has_offset:
            for side in (n.left, n.right):
                if _OFFSET.search(code(src, side)):
                    info.has_offset = True
                    info.has_classes = True
                    info.offset_site = Site(src, n)
                    info.exprs["offset"] = (src, side)
                    v = number(facts.evaluate(side, scope))
                    if v is not None:
                        info.offset = v
                    break
        if type(n) in (cst.If, cst.IfExp) and "multi_label" in code(src, n.test) and "multi_label" not in info.exprs:
            info.has_classes = True
            info.exprs["multi_label"] = (src, n.test)
            v = facts.evaluate(n.test, scope)
            if not isinstance(v, bool):
                v = _static_number(facts, info.prog, src, n.test, kinds=(bool,))
            if isinstance(v, bool):
                info.multi_label = v
    if "class_guard" not in info.extra:
        found = classes.guard(facts, host, scope)
        if found is not None:
            info.extra["class_guard"] = found
    if nms_call is not None and info.per_class is None:
        for a in ancestors(src, nms_call):
            if a is host:
                break
            if type(a) is cst.For and _CLASS_LOOP.search(code(src, a.target) + " " + code(src, a.iter)):
                info.per_class = True
                info.has_classes = True
                break


def _finish(info: Nms) -> None:
    if info.extra.get("class_guard") is False:  # `multi_label &= nc > 1` with one class: best class only
        info.multi_label = False
    if info.per_class is None:
        if info.offset is not None:
            info.per_class = info.offset != 0
        elif not info.has_offset:
            info.per_class = False
    if "multi_label" not in info.exprs and info.has_classes:
        call = info.extra.get("best_class_call") or info.extra.get("best_class_max")
        if call is not None:  # no multi-label branch: one class per box, always
            info.multi_label = False
            info.best_class = call
    if info.conf is not None and info.mode is None:
        info.mode = "eval" if info.conf < EVAL_CONF else "demo"
    if info.mode is None:
        info.mode = _mode_by_name(info.program)


def _mode_by_name(text: str) -> Optional[str]:
    parts = text.replace("\\", "/")
    tail = "/".join(parts.split("/")[-3:])
    if _EVAL_NAME.search(tail):
        return "eval"
    if _DEMO_NAME.search(tail):
        return "demo"
    return None


def _static_number(facts: SideFacts, prog, src, node, kinds=(int, float)):
    """The value of `node` when it can be traced back to a literal (rules/origin.py)."""
    if prog is None:
        return None
    found = origin(prog, src, node, files=list(facts.side.files.values()))
    if found is None or not found.literal:
        return None
    try:
        value = _literal_value(found.site.node)
    except ValueError:
        return None
    if isinstance(value, bool):
        return value if bool in kinds else None
    return value if isinstance(value, (int, float)) and int in kinds else None


def _literal_value(node):
    if type(node) is cst.Integer:
        return int(node.value, 0)
    if type(node) is cst.Float:
        return float(node.value)
    if type(node) is cst.Name and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus:
        return -_literal_value(node.expression)
    raise ValueError(node)


def _xyxy_evidence(src, host) -> bool:
    """The boxes were made xyxy (an xywh2xyxy conversion) and never turned back to xywh."""
    names = [call_name(n).lower() for n in walk(host) if type(n) is cst.Call]
    to_xyxy = any("xywh2xyxy" in n or "cxcywh2xyxy" in n for n in names)
    to_xywh = any("xyxy2xywh" in n or "tlwh" in n or "xyxy2ltwh" in n for n in names)
    return to_xyxy and not to_xywh


def _converted_to_xywh(src, host, boxes_arg, call) -> bool:
    """The boxes passed were computed as (x, y, w, h): assigned from a subtraction of corners or from
    a function named like xyxy2xywh / ltwh just before the call."""
    if boxes_arg is None:
        return False
    name = _base_name(boxes_arg.value)
    if name is None:
        return False
    value = None
    for n in walk(host):
        if n is call:
            break
        if type(n) is cst.Assign and any(type(t.target) is cst.Name and t.target.value == name for t in n.targets):
            value = n.value
    if value is None:
        return False
    for n in walk(value, skip_functions=False):
        if type(n) is cst.BinaryOperation and type(n.operator) is cst.Subtract:
            return True
        if type(n) is cst.Call and any(k in call_name(n).lower() for k in ("xywh", "ltwh", "tlwh")) and "2xyxy" not in call_name(n).lower():
            return True
    return False


def _centre_to_corner(src, node) -> bool:
    """A conversion from (cx, cy, w, h): `x[..., [0, 1]] -= x[..., [2, 3]] / 2` or an
    xywh2xyxy / cxcywh2xyxy call."""
    for n in walk(node):
        if type(n) is cst.AugAssign and type(n.operator) is cst.SubtractAssign and \
                any(type(b) is cst.BinaryOperation and type(b.operator) is cst.Divide and code(src, b.right) == "2"
                    for b in walk(n.value)):
            return True
        if type(n) is cst.Call and any(k in call_name(n).lower() for k in ("xywh2xyxy", "cxcywh2xyxy", "box_cxcywh_to_xyxy")):
            return True
    return False


def _centre_boxes_given(facts: SideFacts, prog: ProgramFacts, src, host, call, index: int) -> bool:
    """The boxes reaching the NMS at `call` are still (cx, cy, w, h): nothing before the call in its
    function converts them, and the program converts them from centre format after it (in the same
    function or in one it runs later)."""
    before, after = [], False
    reached = False
    for stmt in small_statements(host.body.body if type(host) is cst.FunctionDef and
                                 type(host.body) is cst.IndentedBlock else ()):
        inside = any(n is call for n in walk(stmt))
        if inside:
            reached = True
            continue
        if not reached:
            before.append(stmt)
        elif _centre_to_corner(src, stmt):
            after = True
    if not reached or any(_centre_to_corner(src, s) for s in before):
        return False
    if not after:
        for c in prog.of(FunctionCall):
            if c.index > index and c.func.file is src and type(c.func.node) is cst.FunctionDef and \
                    c.func.node is not host and _centre_to_corner(src, c.func.node.body):
                after = True
                break
    return after


def _library_nms(facts: SideFacts, prog: ProgramFacts, p: NmsCall) -> Nms:
    impl = p.impl
    family, suppress, plus_one, reads = _LIBRARY.get(impl, (_SAIL_HELPER, "gt", False, None))
    site = p.site
    info = Nms(impl=impl, family=family, prog=prog, site=site, suppress=suppress, plus_one=plus_one, reads=reads,
               iou=number(p.iou), iou_arg=p.iou_arg, conf=number(p.conf), conf_arg=p.conf_arg, program=prog.display)
    src = site.file
    if p.iou_arg is not None:
        info.exprs["iou"] = (src, p.iou_arg.value)
        if info.iou is None:
            info.iou = _static_number(facts, prog, src, p.iou_arg.value)
    if p.conf_arg is not None:
        info.exprs["conf"] = (src, p.conf_arg.value)
        info.conf_filter = True
        if info.conf is None:
            info.conf = _static_number(facts, prog, src, p.conf_arg.value)
    if p.per_class:
        info.per_class = True
        info.has_classes = True
    if isinstance(p.multi_label, bool):
        info.multi_label = p.multi_label
    if impl.startswith("cv2"):
        k = number(p.top_k)
        if k:
            info.max_det, info.max_det_site, info.has_max_det = k, site, True
            # NMSBoxes' top_k also keeps only the k best candidates before suppressing (measured with
            # cv2 5.0: boxes 0.9 / 0.8 overlapping, 0.7 apart, top_k=2 -> [0], not [0, 2])
            info.sort = (True, k, site, None)
    func = p.func
    if func is not None:
        host = func.node
        scope = None
        for call in prog.of(FunctionCall):
            if call.index < p.index and call.func is func:
                scope = call.scope()
        if scope is None:
            scope = Scope(func.file, {}, p.locals, p.globals, func)
    else:
        host, scope = src.module, Scope(src, {}, p.locals, p.globals)
    _host_facts(facts, info, src, host, scope, nms_call=site.node)
    if info.reads == "xywh" and _xyxy_evidence(src, host) and not _converted_to_xywh(src, host, p.boxes_arg, site.node):
        info.given_xyxy = True
    _finish(info)
    return info


def _numpy_nms(facts: SideFacts, prog: ProgramFacts, p: FunctionCall, fn) -> Nms:
    f = p.func
    scope = p.scope()
    site = p.site
    info = Nms(impl=f"hand-written NMS {f.name}()", family="greedy", prog=prog, site=site, program=prog.display)
    test = _iou_test(fn, _ratio_names(fn))
    if test is not None:
        node, thr, info.suppress = test
        info.iou = number(facts.evaluate(thr, scope))
        info.extra["iou_test"] = Site(f.file, node)
        info.exprs["iou"] = (f.file, thr)
        # the threshold's origin at the call site: the argument passed for that parameter
        if type(thr) is cst.Name and thr.value in params_of(fn) and type(site.node) is cst.Call:
            pos = params_of(fn).index(thr.value) - (1 if f.self_obj is not None else 0)
            positional = [a for a in site.node.args if a.keyword is None]
            named = [a for a in site.node.args if a.keyword is not None and a.keyword.value == thr.value]
            info.iou_arg = named[0] if named else (positional[pos] if 0 <= pos < len(positional) else None)
    info.plus_one = _plus_one(fn)
    if _reads_corner_width(fn):
        info.reads = "xywh"
    greedy = _greedy_order_ascending(facts, fn, scope)
    if greedy is not None:
        info.greedy_ascending = Site(f.file, greedy)
    _host_facts(facts, info, f.file, fn, scope, skip=(test[0],) if test else ())
    host, hscope = prog.host_scope(site.file, site.node, p.index)
    if host is not None and host is not fn:
        _host_facts(facts, info, site.file, host, hscope, nms_call=site.node)
        if info.reads == "xywh" and _centre_boxes_given(facts, prog, site.file, host, site.node, p.index):
            info.given_centre = site
    _finish(info)
    return info


def collect(facts: SideFacts, prog: ProgramFacts) -> list[Nms]:
    out = []
    # candidates: the defs this program called (only its calls are looked up below), in files that
    # sort with argsort as a hand-written numpy NMS does; no walk of the files' other functions
    numpy_fns, fast_fns, looked_at = {}, {}, set()
    for call in prog.of(FunctionCall):
        fn = call.func.node
        if type(fn) is not cst.FunctionDef or id(fn) in looked_at:
            continue
        looked_at.add(id(fn))
        if "argsort" in call.func.file.text and facts.executed(fn) and _is_numpy_nms(fn):
            numpy_fns[id(fn)] = fn
        elif "triu" in call.func.file.text and fast.is_fast_nms(fn):
            fast_fns[id(fn)] = fn
    seen = set()
    for event in prog.events:
        if type(event) is NmsCall:
            key = id(event.site.node)
            if key not in seen:
                seen.add(key)
                out.append(_library_nms(facts, prog, event))
        elif type(event) is FunctionCall and id(event.func.node) in numpy_fns and type(event.site.node) is cst.Call:
            key = id(event.site.node)
            if key not in seen:
                seen.add(key)
                out.append(_numpy_nms(facts, prog, event, numpy_fns[id(event.func.node)]))
        elif type(event) is FunctionCall and id(event.func.node) in fast_fns and type(event.site.node) is cst.Call:
            key = id(event.site.node)
            if key not in seen:
                seen.add(key)
                host, hscope = prog.host_scope(event.site.file, event.site.node, event.index)
                out.append(_fast_nms(facts, prog, event.site.file, host, hscope, event.site.node,
                                     event.func.file, event.func.node, event.scope()))
    return out


def _fast_nms(facts: SideFacts, prog, csrc, cfn, cscope, call, wsrc, wfn, wscope) -> Nms:
    """A Fast NMS (rules/pl202_fast.py) called at `call` in `cfn`: its own facts, then the score
    filter and the rest from the calling function."""
    info = Nms(impl=f"Fast NMS {wfn.name.value}()", family=fast.FAMILY, prog=prog, site=Site(csrc, call),
               program=prog.display if prog is not None else csrc.display)
    skip = fast.fill(facts, info, wsrc, wfn, wscope)
    if cfn is not None and cfn is not wfn:
        _host_facts(facts, info, csrc, cfn, cscope, nms_call=call)
    _host_facts(facts, info, wsrc, wfn, wscope, skip=tuple(skip))
    _finish(info)
    return info


def _static_fast(facts: SideFacts, covered: set) -> list[Nms]:
    """The Fast NMS calls the interpreter did not run, read from their call sites."""
    out = []
    for prog, csrc, cfn, cscope, call, wsrc, wfn in fast.static_sites(facts, covered):
        args = _bind(facts, prog, csrc, call, cscope, wsrc, wfn)
        env = _constants(facts, wsrc, wfn, args)
        info = _fast_nms(facts, prog, csrc, cfn, cscope, call, wsrc, wfn, Scope(wsrc, env, {}, facts.module_env(wsrc)))
        info.extra["static"] = True
        out.append(info)
    return out


# ------------------------------------------------------------------ NMS the interpreter did not reach


def _wrappers(facts: SideFacts) -> dict:
    """name -> [(file, def, inner NMS call, static library entry)] of the side's functions that
    call a library NMS (torchvision, cv2) or are a hand-written numpy NMS."""
    out: dict = {}
    for src in facts.side.files.values():
        text = src.text
        if src.module is None or not ("nms" in text or "NMSBoxes" in text):
            continue
        for fn in functions(src):
            for n in walk(fn.body):
                if type(n) is not cst.Call:
                    continue
                entry = _STATIC_LIBRARY.get(last_name(n.func))
                if entry is not None and entry[1] in text and (
                        call_name(n).startswith(("torchvision", "cv2", "ops.", "nms", "batched_nms", "NMS")) or
                        call_name(n) in _STATIC_LIBRARY):
                    out.setdefault(fn.name.value, []).append((src, fn, n, entry))
                    break
    return out


def _call_sites(facts: SideFacts, name: str, wrapper_fn) -> list:
    out = []
    for src in facts.side.files.values():
        if src.module is None or (name + "(") not in src.text.replace(" (", "("):
            continue
        for fn in list(functions(src)) + [src.module]:
            body = fn.body if type(fn) is cst.FunctionDef else fn
            for n in walk(body):
                if type(n) is cst.Call and last_name(n.func) == name and fn is not wrapper_fn:
                    out.append((src, fn if type(fn) is cst.FunctionDef else None, n))
    return out


def _bind(facts: SideFacts, prog, csrc, call, scope, wsrc, wfn) -> dict:
    """The wrapper's parameters as this call sets them: the arguments' values where the calling
    function ran (or traced to a literal, or read from the configuration the side loaded), else
    the parameter's default."""
    names = params_of(wfn)
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    bound: dict = {}
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for i, a in enumerate(positional):
        if i < len(names):
            bound[names[i]] = a.value
    for a in call.args:
        if a.keyword is not None:
            bound[a.keyword.value] = a.value
    values = {}
    p = wfn.params
    for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        pname = param.name.value
        if pname in ("self", "cls"):
            continue
        expr = bound.get(pname)
        if expr is not None:
            v = facts.evaluate(expr, scope) if scope is not None else UNKNOWN
            if v is UNKNOWN or v is None:
                v = _static_value(facts, prog, csrc, expr)
            values[pname] = v
        elif param.default is not None:
            v = facts.evaluate(param.default, wsrc)
            values[pname] = v if v is not UNKNOWN else _static_value(facts, prog, wsrc, param.default)
        else:
            values[pname] = UNKNOWN
    return values


def _static_value(facts: SideFacts, prog, src, node):
    """A literal, a literal traced back through the program (rules/origin.py), a boolean
    combination of such, or an option read from the configuration files the side loaded
    (`self.args.iou` -> the `iou:` key of ultralytics' default.yaml)."""
    if type(node) is cst.BooleanOperation:
        a, b = _static_value(facts, prog, src, node.left), _static_value(facts, prog, src, node.right)
        if isinstance(a, bool) and isinstance(b, bool):
            return (a or b) if type(node.operator) is cst.Or else (a and b)
        return UNKNOWN
    try:
        return _literal_value(node)
    except ValueError:
        pass
    if prog is not None:
        found = origin(prog, src, node, files=list(facts.side.files.values()))
        if found is not None and found.literal:
            try:
                return _literal_value(found.site.node)
            except ValueError:
                pass
    if type(node) is cst.Attribute and type(node.value) is cst.Attribute and \
            node.value.attr.value in ("args", "cfg", "opt", "config", "hyp"):
        return _config_value(facts, node.attr.value)
    return UNKNOWN


def _config_value(facts: SideFacts, key: str):
    """The value of `key` in the configuration mappings the side's modules hold (a yaml file the
    side read as data, e.g. ultralytics' DEFAULT_CFG_DICT), when they agree on one scalar."""
    found = set()
    for src in facts.side.files.values():
        for v in facts.module_env(src).values():
            if type(v) is dict and len(v) >= 10 and key in v and all(isinstance(k, str) for k in v):
                x = v[key]
                if isinstance(x, (bool, int, float)):
                    found.add(x)
    return found.pop() if len(found) == 1 else UNKNOWN


def _constants(facts: SideFacts, wsrc, wfn, args: dict) -> dict:
    """The wrapper's straight-line `name = constant` settings (`max_wh = 7680`)."""
    env = dict(args)
    for stmt in small_statements(wfn.body.body if type(wfn.body) is cst.IndentedBlock else ()):
        if type(stmt) is cst.Assign and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name):
            try:
                env[stmt.targets[0].target.value] = _literal_value(stmt.value)
            except ValueError:
                continue
    return env


def static_contexts(facts: SideFacts, covered: set) -> list[Nms]:
    """The NMS of the side's programs that the interpreter did not reach, read from the calls of
    the functions holding one: in a function a program ran (its recorded arguments give the
    values; `covered` lists the programs whose NMS already ran), or, when no program of the side
    has one, in any file of the side (a library: each calling file is a program of its own)."""
    wrappers = _wrappers(facts)
    if not wrappers:
        return []
    progs = facts.programs()
    by_prog, library = [], []
    for name, defs in wrappers.items():
        if len(defs) != 1:
            continue  # several functions of that name: which one a call reaches is not known here
        wsrc, wfn, inner, entry = defs[0]
        for csrc, cfn, call in _call_sites(facts, name, wfn):
            if cfn is not None and any(a is wfn for a in ancestors(csrc, call)):
                continue
            ran = None
            for prog in progs:
                scope = prog.scope_at(cfn) if cfn is not None else (prog.entry_scope() if csrc is prog.entry else None)
                if scope is not None:
                    ran = (prog, scope)
                    break
            if ran is not None:
                if ran[0].display in covered:
                    continue
                by_prog.append((ran[0], ran[0].display, ran[1], csrc, cfn, call, wsrc, wfn, inner, entry))
            else:
                library.append((None, csrc.display, None, csrc, cfn, call, wsrc, wfn, inner, entry))
    library_side = not (by_prog or covered)
    chosen = by_prog if (by_prog or covered) else library
    out, seen = [], set()
    for prog, label, scope, csrc, cfn, call, wsrc, wfn, inner, entry in chosen:
        key = (label, id(call))
        if key in seen:
            continue
        seen.add(key)
        any_prog = prog or (progs[0] if progs else None)
        args = _bind(facts, any_prog, csrc, call, scope, wsrc, wfn)
        env = _constants(facts, wsrc, wfn, args)
        wscope = Scope(wsrc, env, {}, facts.module_env(wsrc))
        impl, _, iou_pos, conf_pos = entry
        family, suppress, plus_one, reads = _LIBRARY[impl]
        info = Nms(impl=impl, family=family, prog=any_prog, site=Site(csrc, call), suppress=suppress,
                   plus_one=plus_one, reads=reads, program=label)
        iou_node = _nth_arg(inner, iou_pos, ("iou_threshold", "nms_threshold"))
        if iou_node is not None:
            info.iou = number(facts.evaluate(iou_node, wscope))
        conf_node = _nth_arg(inner, conf_pos, ("score_threshold",)) if conf_pos is not None else None
        if conf_node is not None:
            info.conf, info.conf_filter = number(facts.evaluate(conf_node, wscope)), True
        if impl.endswith("batched_nms") or impl.endswith("Batched"):
            info.per_class = True
        _host_facts(facts, info, wsrc, wfn, wscope, nms_call=inner)
        info.extra["static"] = True
        info.extra["library"] = library_side
        _finish(info)
        out.append(info)
    return out


def _nth_arg(call, pos, names):
    for a in call.args:
        if a.keyword is not None and a.keyword.value in names:
            return a.value
    positional = [a for a in call.args if a.keyword is None]
    return positional[pos].value if pos is not None and pos < len(positional) else None


# ------------------------------------------------------------------ comparison

_SUPPRESS_TEXT = {"gt": "IoU > thr", "ge": "IoU >= thr"}
# what is compared with the originals of the port's mode only (thresholds, the IoU arithmetic),
# and what with every original program (it is fixed in the code for every run)
MODE_KEYS = ("iou", "conf", "suppress", "plus_one", "family", "greedy", "fast")
ALL_KEYS = ("sort", "given_xyxy", "given_centre", "per_class", "offset", "multi_label", "max_det", "max_nms", "min_size")


@dataclass
class Diff:
    key: str
    message: str
    ported: Optional[Site]  # the use site on the ported side
    original: Optional[Site]
    severity: Optional[str] = None
    fix: Any = None  # a Fix, or a callable building one from the ported Origin
    setting: Optional[str] = None  # the ported setting whose definition is where the fix goes
    target: Any = None  # the original's value, for a fix that writes it


def differences(o: Nms, p: Nms, ctx=None) -> list[Diff]:
    out = []
    pn, on = p.impl, o.impl
    # sort order of the top-k cut before NMS
    if p.sort is not None and p.sort[0] is False and p.sort[1] is not None:
        k = fmt(p.sort[1])
        o_desc = o.sort is not None and o.sort[0]
        o_text = (f"the original keeps the {fmt(o.sort[1])} highest (descending sort)" if o_desc and o.sort[1] is not None
                  else "the original keeps the highest-scoring ones" if o_desc else "the original has no such cut")
        out.append(Diff("sort", f"ported sorts the NMS candidates ascending before cutting to {k} ({_code(p.sort[2])}): "
                        f"when more than {k} boxes pass the score threshold it keeps the {k} lowest-scoring ones and drops "
                        f"the best; {o_text}", p.sort[2], o.sort[2] if o.sort else o.site, "error", _sort_fix(p)))
    if p.greedy_ascending is not None:
        out.append(Diff("greedy", f"{pn} visits boxes in ascending score order ({_code(p.greedy_ascending)}): the "
                        "lowest-scoring box suppresses its neighbours; the original keeps the highest-scoring box of each "
                        "cluster", p.greedy_ascending, o.site, "error"))
    # thresholds
    if o.iou is not None and p.iou is not None and abs(o.iou - p.iou) > 1e-9:
        out.append(Diff("iou", f"NMS IoU threshold differs: ported {fmt(p.iou)} ({pn}), original {fmt(o.iou)} ({on}); "
                        f"boxes overlapping with IoU between {fmt(min(o.iou, p.iou))} and {fmt(max(o.iou, p.iou))} are "
                        f"{'kept' if p.iou > o.iou else 'suppressed'} by the port only", _use(p, "iou"), o.site,
                        setting="iou", target=o.iou,
                        fix=("unsafe", f"use the original's IoU threshold {fmt(o.iou)}")))
    if o.conf is not None and p.conf is not None and abs(o.conf - p.conf) > 1e-9:
        out.append(Diff("conf", f"score threshold before NMS differs: ported {fmt(p.conf)}, original {fmt(o.conf)}; the "
                        f"port {'drops' if p.conf > o.conf else 'keeps'} detections scoring between "
                        f"{fmt(min(o.conf, p.conf))} and {fmt(max(o.conf, p.conf))}",
                        _use(p, "conf"), o.extra.get("conf_site") or o.site, setting="conf", target=o.conf,
                        fix=("unsafe", f"use the original's score threshold {fmt(o.conf)}")))
    if o.suppress and p.suppress and o.suppress != p.suppress:
        out.append(Diff("suppress", f"{pn} suppresses boxes with {_SUPPRESS_TEXT[p.suppress]}, {on} only with "
                        f"{_SUPPRESS_TEXT[o.suppress]}: a box overlapping exactly at the threshold is "
                        f"{'removed' if p.suppress == 'ge' else 'kept'} by the port only", p.extra.get("iou_test") or p.site,
                        o.extra.get("iou_test") or o.site))
    if o.plus_one is not None and p.plus_one is not None and o.plus_one != p.plus_one:
        which = "ported" if p.plus_one else "original"
        out.append(Diff("plus_one", f"{which} NMS adds +1 to box widths and heights ({pn if p.plus_one else on}): two "
                        "10x10 boxes shifted by 5 px overlap with IoU 0.375 instead of 0.333, so more boxes are suppressed "
                        "at the same threshold", p.site, o.site))
    if p.given_xyxy and not o.given_xyxy:
        out.append(Diff("given_xyxy", f"{pn} reads boxes as (x, y, w, h) but is given (x1, y1, x2, y2): two 10x10 boxes "
                        "shifted by 5 px get IoU 0.25 instead of 0.333 and every IoU is computed on the wrong rectangles",
                        p.site, o.site, "error"))
    if p.given_centre is not None and o.given_centre is None:
        out.append(Diff("given_centre", f"{pn} reads boxes as (x1, y1, w, h) (top-left corner) but is given the model's "
                        "(cx, cy, w, h), converted to corners only after NMS: every box is shifted by half its size, so "
                        "boxes of different sizes get the wrong IoU (cx 100 w 100 vs cx 120 w 80: 0.80 instead of 0.64); "
                        "the original converts with xywh2xyxy before its NMS", p.given_centre, o.site, "error",
                        fix=("display-only", "convert the boxes to (x1, y1, x2, y2) before NMS (xywh2xyxy) and read them "
                                             "as corners, as the original does")))
    # class handling: only where both sides have classes (a single-class model has no class ids)
    if o.has_classes and p.has_classes and o.per_class is not None and p.per_class is not None and o.per_class != p.per_class:
        desc = {True: "per class (boxes of different classes never suppress each other)",
                False: "class-agnostic (a box can suppress a box of another class)"}
        out.append(Diff("per_class", f"ported NMS is {desc[p.per_class]}; the original's is {desc[o.per_class]}",
                        p.offset_site or p.site, o.offset_site or o.site,
                        fix=("display-only", "offset the boxes by class (boxes + cls * max_wh) before NMS, as the original"
                             if o.per_class else "run the NMS over all classes (agnostic), as the original")))
    elif o.per_class and p.per_class and o.offset and p.offset and o.offset != p.offset and \
            not _offsets_beyond_input(o.offset, p.offset, ctx):
        small = min(o.offset, p.offset)
        out.append(Diff("offset", f"class offset differs: ported max_wh {fmt(p.offset)}, original {fmt(o.offset)}; boxes "
                        f"with coordinates beyond {fmt(small)} px can overlap boxes of the next class",
                        _use(p, "offset") or p.offset_site or p.site, o.offset_site or o.site, setting="offset",
                        target=o.offset, fix=("unsafe", f"use the original's class offset {fmt(o.offset)}")))
    if o.has_classes and p.has_classes and o.multi_label is not None and p.multi_label is not None and \
            o.multi_label != p.multi_label and not (
                (classes.unknown_guard(o) or classes.unknown_guard(p)) and
                not (o.extra.get("several_classes") or p.extra.get("several_classes"))):
        desc = {True: "multi-label (one candidate per class above the score threshold)", False: "best class only"}
        if p.multi_label is False and p.best_class is not None and "multi_label" not in p.exprs:
            out.append(Diff("multi_label", f"ported NMS input is {desc[False]} ({_code(p.best_class)} keeps one class per "
                            f"box), the original's {desc[True]}: a box whose second class also passes the threshold is "
                            "reported once instead of once per class", p.best_class, o.site,
                            fix=("display-only", "add the multi-label branch: one candidate per (box, class) with a score "
                                                 "above the threshold, as the original")))
        else:
            out.append(Diff("multi_label", f"ported NMS input is {desc[p.multi_label]}, the original's "
                            f"{desc[o.multi_label]}", _use(p, "multi_label") or p.site, o.site, setting="multi_label",
                            target=o.multi_label, fix=("unsafe", f"set multi_label={o.multi_label}, as the original")))
    if o.max_det is not None and p.max_det is not None and o.max_det != p.max_det:
        out.append(Diff("max_det", f"max_det differs: ported keeps up to {fmt(p.max_det)} detections per image, the "
                        f"original {fmt(o.max_det)}", _use(p, "max_det") or p.max_det_site or p.site,
                        o.max_det_site or o.site, setting="max_det", target=o.max_det,
                        fix=("unsafe", f"keep up to {fmt(o.max_det)} detections per image, as the original")))
    elif o.has_max_det != p.has_max_det and not (o.family == _SAIL_HELPER or p.family == _SAIL_HELPER):
        who, k = ("original", o.max_det) if o.has_max_det else ("ported", p.max_det)
        other = "the port" if who == "original" else "the original"
        limit = f"to {fmt(k)}" if k is not None else "(max_det)"
        out.append(Diff("max_det", f"only the {who} program limits the detections per image after NMS {limit}; "
                        f"{other} keeps them all", _use(p, "max_det") or p.max_det_site or p.site,
                        o.max_det_site or o.site, setting="max_det" if p.has_max_det else None,
                        fix=("display-only", f"keep at most {fmt(k)} detections per image after NMS, as the original"
                             if who == "original" and k is not None else
                             "remove the cap" if who == "ported" else "cut the NMS result to max_det, as the original")))
    if o.sort is not None and o.sort[0] and o.sort[1] is not None and p.sort is not None and p.sort[0] and \
            p.sort[1] is not None and o.sort[1] != p.sort[1]:
        out.append(Diff("max_nms", f"the port runs NMS on the {fmt(p.sort[1])} best candidates ({_code(p.sort[2])}), the "
                        f"original on the {fmt(o.sort[1])} best ({_code(o.sort[2])}): they differ when more than "
                        f"{fmt(min(o.sort[1], p.sort[1]))} boxes pass the score threshold", p.sort[2], o.sort[2]))
    if o.sort is not None and o.sort[0] and o.sort[1] is not None and p.sort is None and p.family != _SAIL_HELPER:
        k = fmt(o.sort[1])
        out.append(Diff("max_nms", f"the original runs NMS on the {k} best candidates only ({_code(o.sort[2])}); the port "
                        f"runs it on all of them, which differs when more than {k} boxes pass the score threshold", p.site,
                        o.sort[2]))
    if o.min_size is not None and p.min_size is not None and o.min_size != p.min_size:
        out.append(Diff("min_size", f"minimum box size differs: ported {fmt(p.min_size)} px, original {fmt(o.min_size)} px",
                        p.extra.get("min_size_site") or p.site, o.extra.get("min_size_site") or o.site))
    elif (o.min_size is None) != (p.min_size is None) and (o.min_size or p.min_size):
        who, v = ("ported", p.min_size) if p.min_size is not None else ("original", o.min_size)
        out.append(Diff("min_size", f"only the {who} program drops boxes smaller than {fmt(v)} px before NMS",
                        p.extra.get("min_size_site") or p.site, o.extra.get("min_size_site") or o.site))
    if (o.family == fast.FAMILY) != (p.family == fast.FAMILY):
        which = ("original", on, pn) if o.family == fast.FAMILY else ("ported", pn, on)
        out.append(Diff("fast", f"the {which[0]} program runs Fast NMS ({which[1]}), the other a greedy NMS "
                        f"({which[2]}): {fast.NOTE}, so the two keep different boxes from the same candidates",
                        p.site, o.site, "warning",
                        fix=("display-only", "run the same NMS algorithm as the original")))
    # implementation families
    if not out and _semantics(o.family) != _semantics(p.family):
        out.append(Diff("family", _family_message(o, p), p.site, o.site, "warning"))
    return out


def _use(p: Nms, key: str) -> Optional[Site]:
    found = p.exprs.get(key)
    return Site(found[0], found[1]) if found is not None else None


def _offsets_beyond_input(a: float, b: float, ctx) -> bool:
    """A class offset only has to exceed every coordinate: two offsets both larger than the model
    input (boxes live in input pixels) give the same NMS."""
    shape = getattr(ctx, "input_shape", None) if ctx is not None else None
    if not shape or len(shape) < 4:
        return False
    return min(a, b) > 2 * max(shape[2], shape[3])


def _semantics(family: str) -> str:
    """torchvision.ops.nms and a numpy greedy NMS with the same facts (compared above) agree."""
    return "greedy" if family in ("torchvision", "greedy") else family


def _family_message(o: Nms, p: Nms) -> str:
    notes = {
        "cv2": "cv2.dnn.NMSBoxes reads (x, y, w, h), applies its own score filter (score > thr) and breaks ties in "
               "its own order",
        "sail-bmcv": "sail.Bmcv.nms runs on the TPU with +1 in box areas",
        "sail-rotated": "sail.nms_rotated suppresses IoU >= thr on rotated boxes",
        _SAIL_HELPER: "the SAIL helper decodes and suppresses in C++ (class offset 7680, +1e-5 in IoU, and it assumes "
                      "a centred, int-truncated letterbox)",
        "torchvision": "torchvision.ops.nms suppresses IoU > thr on xyxy boxes",
        "greedy": "a hand-written greedy NMS",
        fast.FAMILY: fast.NOTE,
    }
    return (f"NMS implementations differ: ported {p.impl}, original {o.impl}; {notes.get(p.family, p.family)}, "
            "so borderline boxes can be kept or suppressed differently (the precision-alignment guide's "
            "'minor differences')")


def _code(site: Site) -> str:
    text = code(site.file, site.node).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _sort_fix(p: Nms) -> Optional[Fix]:
    call = p.sort[3]
    if type(call) is not cst.Call or call_name(call).startswith("."):
        return None
    sp = span(Site(p.sort[2].file, call))
    if sp is None:
        return None
    edit = TextEdit(p.sort[2].file.display, sp[1], sp[1], "[::-1]")
    return Fix("unsafe", "sort descending before the cut (argsort()[::-1]), as the original", [edit])


# ------------------------------------------------------------------ findings


_USE_NOTE = {"iou": "the IoU threshold is used here", "conf": "the score threshold is used here",
             "max_det": "the detections are cut here", "multi_label": "multi-label is decided here",
             "offset": "the class offset is applied here"}


def _finding(d: Diff, p: Nms, o: Nms, several: bool):
    """The finding of one difference, at the ported line that defines the differing value."""
    primary, related, fix, found = d.ported, [], None, None
    if d.setting is not None and d.ported is not None and p.prog is not None:
        found = origin(p.prog, d.ported.file, d.ported.node, files=None)
        if found is not None:
            primary = found.site
            related = found.related(d.ported, _USE_NOTE.get(d.setting, "used here"))
            fix = _value_fix(d, found)
    if fix is None and isinstance(d.fix, tuple):
        fix = Fix(d.fix[0], d.fix[1] + _why_display(d), []) if d.fix[0] == "display-only" else None
        if fix is None and d.fix[0] == "unsafe":
            why = f" (display-only: {found.what}; change it there)" if found is not None and found.on_command_line else \
                " (the value is computed, not written as a literal here)"
            fix = Fix("display-only", d.fix[1] + why, [])
    elif isinstance(d.fix, Fix):
        fix = d.fix
    if o.program and several:
        related.append((o.site, f"compared with the original program {o.program}"))
    finding = RULE.finding(d.message, primary, d.original, severity=d.severity, fix=fix, related=related)
    if several or o.extra.get("static"):
        finding.program = o.program
    return finding


def _why_display(d: Diff) -> str:
    return {"given_centre": " (display-only: the conversion and the NMS's reading change together)",
            "per_class": " (display-only: where the class ids come from depends on the code around the NMS)",
            "multi_label": " (display-only: the candidate matrix has to be rebuilt)",
            "max_det": " (display-only: the cut has to be added where the NMS result is indexed)",
            "fast": " (display-only: the two algorithms are written differently; an exact port of the original's is code, not an edit of a value)"}.get(d.key, "")


def _value_fix(d: Diff, found: Origin) -> Optional[Fix]:
    if not found.literal or d.target is None or not isinstance(d.fix, tuple) or d.fix[0] != "unsafe":
        return None
    sp = span(found.site)
    if sp is None:
        return None
    text = str(d.target) if isinstance(d.target, bool) else fmt(d.target)
    where = f" ({found.what})" if found.option else ""
    return Fix("unsafe", d.fix[1] + where, [TextEdit(found.site.file.display, sp[0], sp[1], text)])


# ------------------------------------------------------------------ rule entry point


def _task(text: str) -> str:
    parts = text.replace("\\", "/").split("/")
    return parts[-2] if len(parts) >= 2 else ""


def _originals(facts: SideFacts) -> list[Nms]:
    """Every NMS of the original side: the ones its programs ran, then those read from the calls
    the interpreter did not reach."""
    found = []
    covered = set()
    for prog in facts.programs():
        items = collect(facts, prog)
        if items:
            covered.add(prog.display)
            found.append(items[0])
    found.extend(static_contexts(facts, covered))
    found.extend(_static_fast(facts, covered | {o.program for o in found}))
    several = classes.several_classes(facts)
    for o in found:
        o.extra["several_classes"] = several
    return found


def _mode_programs(facts: SideFacts) -> set:
    """The modes the original side's programs are in by their names (an eval program whose NMS is
    not known still says the port's evaluation settings have nothing to be compared with)."""
    return {_mode_by_name(p.display) for p in facts.programs()} - {None}


def _port_mode(p: Nms) -> Optional[str]:
    return p.mode


def _same_mode(p: Nms, originals: list[Nms], modes: set) -> list[Nms]:
    if p.mode is None:
        return originals
    same = [o for o in originals if o.mode == p.mode]
    if same:
        return same
    return [] if p.mode in modes else originals


def _one_task(p: Nms, originals: list[Nms], ctx) -> list[Nms]:
    """A library holds the NMS of several tasks (detect/, segment/, pose/ in ultralytics): the
    port is compared with the task whose NMS differs least from it."""
    if not all(o.extra.get("library") for o in originals):
        return originals
    groups: dict = {}
    for o in originals:
        groups.setdefault(_task(o.program), []).append(o)
    if len(groups) <= 1:
        return originals
    hint = _port_task(p)
    best = min(groups.items(), key=lambda kv: (kv[0] != hint, sum(len(differences(o, p, ctx)) for o in kv[1]) / len(kv[1])))
    return best[1]


def _port_task(p: Nms) -> str:
    text = p.site.file.text if p.site is not None else ""
    if re.search(r"proto|process_mask|masks_in", text):
        return "segment"
    if re.search(r"kpt|keypoint", text):
        return "pose"
    return "detect"


@guarded
def check(pair) -> list:
    original, ported = pair.original, pair.ported
    collected = [(prog, collect(ported, prog)) for prog in ported.programs()]
    findings = topk.findings(pair, RULE, [prog for prog, found in collected if not found], EVAL_CONF, _mode_by_name)
    originals = _originals(original)
    if not originals:
        return findings
    modes = _mode_programs(original)
    for prog, ported_nms in collected:
        if not ported_nms:
            continue
        p = ported_nms[0]
        p.extra["several_classes"] = classes.several_classes(ported)
        pool = _one_task(p, originals, pair.ctx)
        findings.extend(_compare(p, pool, _same_mode(p, pool, modes), pair.ctx))
    return findings


def _compare(p: Nms, pool: list[Nms], same_mode: list[Nms], ctx) -> list:
    """Mode-bound differences against the closest original of the port's mode; the others against
    every original, each reported once, naming the program it differs from."""
    several = len({o.program for o in pool}) > 1
    out, done = [], set()
    if same_mode:
        best = min(same_mode, key=lambda o: len([d for d in differences(o, p, ctx) if d.key in MODE_KEYS]))
        for d in differences(best, p, ctx):
            if d.key in MODE_KEYS:
                done.add(d.key)
                out.append(_finding(d, p, best, several))
    order = sorted(pool, key=lambda o: (o.mode != p.mode,))
    for o in order:
        for d in differences(o, p, ctx):
            if d.key in ALL_KEYS and d.key not in done:
                done.add(d.key)
                out.append(_finding(d, p, o, several))
    return out
