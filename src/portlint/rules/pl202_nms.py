"""PL202 nms: the non-maximum suppression of each program, identified and compared.

Recognised: torchvision.ops.nms / batched_nms, cv2.dnn.NMSBoxes, SAIL's Bmcv.nms, nms_rotated and
yolov5 post-processing helpers (NmsCall facts, recorded by apis/post_api.py), and hand-written
numpy NMS found by its structure (a loop over an argsort, intersections with np.maximum/np.minimum,
an overlap ratio compared with a threshold). Around each NMS call, the function that calls it
(ultralytics' non_max_suppression, sophon-demo's PostProcess) gives the score filter, the top-k
cut before NMS and its sort order, the class offset (max_wh) or agnostic flag, multi-label and
max_det.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.events import FunctionCall, NmsCall, Scope
from portlint.analysis.facts import ProgramFacts, SideFacts
from portlint.analysis.syntax import call_name, code, params_of, walk
from portlint.rules.common import closest_original, fmt, guarded, number, origin_edit
from portlint.rules.base import RuleMeta
from portlint.analysis.tree import compound_statements
from portlint.findings import Fix, TextEdit

RULE = RuleMeta("PL202", "nms", "warning", ("unsafe",),
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

_CONF_NAME = re.compile(r"conf|score|thres|thresh", re.I)
_NOT_CONF = re.compile(r"iou|nms|overlap", re.I)
_MAX_DET = re.compile(r"max_det|keep_top_k|top_k|topk|max_num|max_out", re.I)
_OFFSET = re.compile(r"max_wh|max_coordinate|class_offset", re.I)
_MIN_SIZE = re.compile(r"min_wh|min_size|min_box", re.I)
_CLASS_LOOP = re.compile(r"cls|class|unique|label", re.I)


@dataclass
class Nms:
    impl: str
    family: str
    prog: ProgramFacts
    site: Site
    iou: Optional[float] = None
    iou_arg: Any = None
    suppress: Optional[str] = None  # "gt": IoU > thr suppressed, "ge": IoU >= thr
    plus_one: Optional[bool] = None
    reads: Optional[str] = None  # box format the implementation reads
    given_xyxy: bool = False  # evidence that xyxy boxes are passed
    conf: Optional[float] = None
    conf_arg: Any = None
    sort: Optional[tuple] = None  # (descending, k, Site of the argsort cut, call node)
    greedy_ascending: Optional[Site] = None
    per_class: Optional[bool] = None
    offset: Optional[float] = None
    offset_site: Optional[Site] = None
    multi_label: Optional[bool] = None
    max_det: Optional[float] = None
    max_det_site: Optional[Site] = None
    min_size: Optional[float] = None
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------ recognising hand-written NMS


def _ratio_names(fn) -> set:
    names = set()
    for n in walk(fn):
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
            if any(isinstance(x, cst.BinaryOperation) and isinstance(x.operator, cst.Divide) for x in walk(n.value)):
                names.add(n.targets[0].target.value)
    return names


def _base_name(node) -> Optional[str]:
    while isinstance(node, (cst.Subscript, cst.Attribute, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node.value if isinstance(node, cst.Name) else None


_FLIP = {cst.LessThan: cst.GreaterThan, cst.LessThanEqual: cst.GreaterThanEqual,
         cst.GreaterThan: cst.LessThan, cst.GreaterThanEqual: cst.LessThanEqual}


def _iou_test(fn, ratios: set):
    """(comparison node, threshold expr, suppress op) of `ovr <= thr` style tests."""
    for n in walk(fn):
        if not isinstance(n, cst.Comparison) or len(n.comparisons) != 1:
            continue
        target = n.comparisons[0]
        op = type(target.operator)
        if op not in _FLIP:
            continue
        left, right = n.left, target.comparator
        if _base_name(left) in ratios:
            thr = right
        elif _base_name(right) in ratios:
            thr, op = left, _FLIP[op]
        else:
            continue
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
    return sort and inter and bool(_ratio_names(fn))


def _plus_one(fn) -> bool:
    for n in walk(fn):
        if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Add):
            one = [s for s in (n.left, n.right) if isinstance(s, cst.Integer) and s.value == "1"]
            other = n.right if one and one[0] is n.left else n.left
            if one and any(isinstance(x, cst.BinaryOperation) and isinstance(x.operator, cst.Subtract) for x in walk(other)):
                return True
    return False


def _argsort_direction(facts: SideFacts, node, scope) -> Optional[bool]:
    """True if the argsort expression `node` sorts descending, False ascending, None if not an argsort."""
    if isinstance(node, cst.Subscript):
        inner = _argsort_direction(facts, node.value, scope)
        if inner is None:
            return None
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Slice):
            s = node.slice[0].slice
            if s.lower is None and s.upper is None and isinstance(s.step, cst.UnaryOperation) and code_of_int(s.step) == -1:
                return not inner
        return None
    if not isinstance(node, cst.Call) or not call_name(node).endswith("argsort"):
        return None
    desc = False
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == "descending":
            desc = facts.evaluate(arg.value, scope) is True
    name = call_name(node)
    if not name.startswith(".") and node.args and node.args[0].keyword is None:
        data = node.args[0].value
        if isinstance(data, cst.UnaryOperation) and isinstance(data.operator, cst.Minus):
            desc = not desc
    elif isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.UnaryOperation) and isinstance(node.func.value.operator, cst.Minus):
        desc = not desc
    return desc


def code_of_int(node) -> Optional[int]:
    if isinstance(node, cst.Integer):
        return int(node.value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) and isinstance(node.expression, cst.Integer):
        return -int(node.expression.value)
    return None


def _greedy_order_ascending(facts: SideFacts, fn, scope) -> Optional[cst.CSTNode]:
    """The argsort that orders a hand-written NMS, if it visits the lowest score first."""
    uses_last = any(isinstance(n, cst.Subscript) and len(n.slice) == 1 and isinstance(n.slice[0].slice, cst.Index)
                    and code_of_int(n.slice[0].slice.value) == -1 for n in walk(fn))
    for n in walk(fn):
        if isinstance(n, cst.Assign):
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
        if t is not cst.Comparison and t is not cst.Subscript and t is not cst.BinaryOperation \
                and t is not cst.If and t is not cst.IfExp:
            continue
        if n in skip:
            continue
        if t is cst.Comparison and len(n.comparisons) == 1 and info.conf is None:
            op = type(n.comparisons[0].operator)
            if op in _FLIP:
                for thr, data, flip in ((n.comparisons[0].comparator, n.left, False), (n.left, n.comparisons[0].comparator, True)):
                    text = code(src, thr)
                    if _CONF_NAME.search(text) and not _NOT_CONF.search(text) and not _MIN_SIZE.search(text):
                        v = number(facts.evaluate(thr, scope))
                        if v is not None and 0 <= v < 1:
                            info.conf = v
                            info.extra["conf_site"] = Site(src, n)
                            break
        if isinstance(n, cst.Comparison) and len(n.comparisons) == 1 and info.min_size is None:
            for side in (n.left, n.comparisons[0].comparator):
                if _MIN_SIZE.search(code(src, side)):
                    v = number(facts.evaluate(side, scope))
                    if v is not None:
                        info.min_size = v
                        info.extra["min_size_site"] = Site(src, n)
        if isinstance(n, cst.Subscript) and n.slice and isinstance(n.slice[0].slice, cst.Slice):
            s = n.slice[0].slice
            if s.lower is None and s.upper is not None and s.step is None:
                d = _argsort_direction(facts, n.value, scope)
                k = number(facts.evaluate(s.upper, scope))
                if d is not None and info.sort is None:
                    info.sort = (d, k, Site(src, n), n.value)
                elif d is None and _MAX_DET.search(code(src, s.upper)) and info.max_det is None and k is not None:
                    info.max_det, info.max_det_site = k, Site(src, n)
        if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Multiply) and info.offset is None:
            for side in (n.left, n.right):
                if _OFFSET.search(code(src, side)):
                    v = number(facts.evaluate(side, scope))
                    if v is not None:
                        info.offset, info.offset_site = v, Site(src, n)
                        break
        if isinstance(n, (cst.If, cst.IfExp)) and info.multi_label is None and "multi_label" in code(src, n.test):
            v = facts.evaluate(n.test, scope)
            if isinstance(v, bool):
                info.multi_label = v
    if nms_call is not None and info.per_class is None:
        from portlint.analysis.syntax import ancestors
        for a in ancestors(src, nms_call):
            if a is host:
                break
            if isinstance(a, cst.For) and _CLASS_LOOP.search(code(src, a.target) + " " + code(src, a.iter)):
                info.per_class = True
                break


def _finish(info: Nms) -> None:
    if info.per_class is None:
        if info.offset is not None:
            info.per_class = info.offset != 0
        else:
            info.per_class = False


def _xyxy_evidence(src, host) -> bool:
    """The boxes were made xyxy (an xywh2xyxy conversion) and never turned back to xywh."""
    names = [call_name(n).lower() for n in walk(host) if isinstance(n, cst.Call)]
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
        if isinstance(n, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name for t in n.targets):
            value = n.value
    if value is None:
        return False
    for n in walk(value, skip_functions=False):
        if isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Subtract):
            return True
        if isinstance(n, cst.Call) and any(k in call_name(n).lower() for k in ("xywh", "ltwh", "tlwh")) and "2xyxy" not in call_name(n).lower():
            return True
    return False


def _library_nms(facts: SideFacts, prog: ProgramFacts, p: NmsCall) -> Nms:
    impl = p.impl
    family, suppress, plus_one, reads = _LIBRARY.get(impl, (_SAIL_HELPER, "gt", False, None))
    site = p.site
    info = Nms(impl=impl, family=family, prog=prog, site=site, suppress=suppress, plus_one=plus_one, reads=reads,
               iou=number(p.iou), iou_arg=p.iou_arg, conf=number(p.conf), conf_arg=p.conf_arg)
    if p.per_class:
        info.per_class = True
    if isinstance(p.multi_label, bool):
        info.multi_label = p.multi_label
    if impl.startswith("cv2"):
        k = number(p.top_k)
        if k:
            info.max_det, info.max_det_site = k, site
    src = site.file
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
    info = Nms(impl=f"hand-written NMS {f.name}()", family="greedy", prog=prog, site=site)
    test = _iou_test(fn, _ratio_names(fn))
    if test is not None:
        node, thr, info.suppress = test
        info.iou = number(facts.evaluate(thr, scope))
        info.extra["iou_test"] = Site(f.file, node)
        # the threshold's origin at the call site: the argument passed for that parameter
        if isinstance(thr, cst.Name) and thr.value in params_of(fn) and isinstance(site.node, cst.Call):
            pos = params_of(fn).index(thr.value) - (1 if f.self_obj is not None else 0)
            positional = [a for a in site.node.args if a.keyword is None]
            named = [a for a in site.node.args if a.keyword is not None and a.keyword.value == thr.value]
            info.iou_arg = named[0] if named else (positional[pos] if 0 <= pos < len(positional) else None)
    info.plus_one = _plus_one(fn)
    greedy = _greedy_order_ascending(facts, fn, scope)
    if greedy is not None:
        info.greedy_ascending = Site(f.file, greedy)
    _host_facts(facts, info, f.file, fn, scope, skip=(test[0],) if test else ())
    host, hscope = prog.host_scope(site.file, site.node, p.index)
    if host is not None and host is not fn:
        _host_facts(facts, info, site.file, host, hscope, nms_call=site.node)
    _finish(info)
    return info


def collect(facts: SideFacts, prog: ProgramFacts) -> list[Nms]:
    out = []
    # candidates: the defs this program called (only its calls are looked up below), in files that
    # sort with argsort as a hand-written numpy NMS does; no walk of the files' other functions
    numpy_fns, looked_at = {}, set()
    for call in prog.of(FunctionCall):
        fn = call.func.node
        if type(fn) is not cst.FunctionDef or id(fn) in looked_at:
            continue
        looked_at.add(id(fn))
        if "argsort" in call.func.file.text and facts.executed(fn) and _is_numpy_nms(fn):
            numpy_fns[id(fn)] = fn
    seen = set()
    for event in prog.events:
        if type(event) is NmsCall:
            key = id(event.site.node)
            if key not in seen:
                seen.add(key)
                out.append(_library_nms(facts, prog, event))
        elif type(event) is FunctionCall and id(event.func.node) in numpy_fns and isinstance(event.site.node, cst.Call):
            key = id(event.site.node)
            if key not in seen:
                seen.add(key)
                out.append(_numpy_nms(facts, prog, event, numpy_fns[id(event.func.node)]))
    return out


# ------------------------------------------------------------------ comparison

_SUPPRESS_TEXT = {"gt": "IoU > thr", "ge": "IoU >= thr"}


def _describe(n: Nms) -> str:
    return n.impl


def _threshold_fix(n: Nms, value, pattern, arg) -> Optional[Fix]:
    edit = origin_edit(n.prog, value, pattern, arg, n.site.file) if value is not None else None
    return edit


def differences(o: Nms, p: Nms) -> list:
    """Findings (not yet built) as (message, ported site, original site, severity, fix)."""
    out = []
    pn, on = _describe(p), _describe(o)
    # sort order of the top-k cut before NMS
    if p.sort is not None and p.sort[0] is False and p.sort[1] is not None:
        k = fmt(p.sort[1])
        o_desc = o.sort is not None and o.sort[0]
        o_text = (f"the original keeps the {fmt(o.sort[1])} highest (descending sort)" if o_desc and o.sort[1] is not None
                  else "the original keeps the highest-scoring ones" if o_desc else "the original has no such cut")
        out.append((f"ported sorts the NMS candidates ascending before cutting to {k} ({_code(p.sort[2])}): "
                    f"when more than {k} boxes pass the score threshold it keeps the {k} lowest-scoring ones and drops "
                    f"the best; {o_text}", p.sort[2], o.sort[2] if o.sort else o.site, "error", _sort_fix(p)))
    if p.greedy_ascending is not None:
        out.append((f"{pn} visits boxes in ascending score order ({_code(p.greedy_ascending)}): the lowest-scoring "
                    "box suppresses its neighbours; the original keeps the highest-scoring box of each cluster",
                    p.greedy_ascending, o.site, "error", None))
    # thresholds
    if o.iou is not None and p.iou is not None and abs(o.iou - p.iou) > 1e-9:
        fix = _threshold_fix(p, p.iou, r"nms|iou", p.iou_arg)
        out.append((f"NMS IoU threshold differs: ported {fmt(p.iou)} ({pn}), original {fmt(o.iou)} ({on}); boxes "
                    f"overlapping with IoU between {fmt(min(o.iou, p.iou))} and {fmt(max(o.iou, p.iou))} are "
                    f"{'kept' if p.iou > o.iou else 'suppressed'} by the port only", p.site, o.site, None,
                    _fix("unsafe", f"use the original's IoU threshold {fmt(o.iou)}", fix, o.iou)))
    if o.conf is not None and p.conf is not None and abs(o.conf - p.conf) > 1e-9:
        fix = _threshold_fix(p, p.conf, r"conf|score", p.conf_arg)
        out.append((f"score threshold before NMS differs: ported {fmt(p.conf)}, original {fmt(o.conf)}; the port "
                    f"{'drops' if p.conf > o.conf else 'keeps'} detections scoring between {fmt(min(o.conf, p.conf))} "
                    f"and {fmt(max(o.conf, p.conf))}", p.extra.get("conf_site") or p.site,
                    o.extra.get("conf_site") or o.site, None,
                    _fix("unsafe", f"use the original's score threshold {fmt(o.conf)}", fix, o.conf)))
    if o.suppress and p.suppress and o.suppress != p.suppress:
        out.append((f"{pn} suppresses boxes with {_SUPPRESS_TEXT[p.suppress]}, {on} only with "
                    f"{_SUPPRESS_TEXT[o.suppress]}: a box overlapping exactly at the threshold is "
                    f"{'removed' if p.suppress == 'ge' else 'kept'} by the port only", p.extra.get("iou_test") or p.site,
                    o.extra.get("iou_test") or o.site, None, None))
    if o.plus_one is not None and p.plus_one is not None and o.plus_one != p.plus_one:
        which = "ported" if p.plus_one else "original"
        out.append((f"{which} NMS adds +1 to box widths and heights ({pn if p.plus_one else on}): two 10x10 boxes "
                    "shifted by 5 px overlap with IoU 0.375 instead of 0.333, so more boxes are suppressed at the same "
                    "threshold", p.site, o.site, None, None))
    if p.given_xyxy and not o.given_xyxy:
        out.append((f"{pn} reads boxes as (x, y, w, h) but is given (x1, y1, x2, y2): two 10x10 boxes shifted by "
                    "5 px get IoU 0.25 instead of 0.333 and every IoU is computed on the wrong rectangles",
                    p.site, o.site, "error", None))
    # class handling
    if o.per_class is not None and p.per_class is not None and o.per_class != p.per_class:
        desc = {True: "per class (boxes of different classes never suppress each other)",
                False: "class-agnostic (a box can suppress a box of another class)"}
        out.append((f"ported NMS is {desc[p.per_class]}; the original's is {desc[o.per_class]}",
                    p.offset_site or p.site, o.offset_site or o.site, None, None))
    elif o.per_class and p.per_class and o.offset and p.offset and o.offset != p.offset:
        small = min(o.offset, p.offset)
        out.append((f"class offset differs: ported max_wh {fmt(p.offset)}, original {fmt(o.offset)}; boxes with "
                    f"coordinates beyond {fmt(small)} px can overlap boxes of the next class", p.offset_site or p.site,
                    o.offset_site or o.site, None, None))
    if o.multi_label is not None and p.multi_label is not None and o.multi_label != p.multi_label:
        desc = {True: "multi-label (one detection per class above the threshold)", False: "best class only"}
        out.append((f"ported NMS input is {desc[p.multi_label]}, the original's {desc[o.multi_label]}",
                    p.site, o.site, None, None))
    if o.max_det is not None and p.max_det is not None and o.max_det != p.max_det:
        out.append((f"max_det differs: ported keeps up to {fmt(p.max_det)} detections per image, the original "
                    f"{fmt(o.max_det)}", p.max_det_site or p.site, o.max_det_site or o.site, None, None))
    elif (o.max_det is None) != (p.max_det is None) and not (o.family == _SAIL_HELPER or p.family == _SAIL_HELPER):
        who, k, site = ("original", o.max_det, o.max_det_site) if o.max_det is not None else ("ported", p.max_det, p.max_det_site)
        other = "the port" if who == "original" else "the original"
        out.append((f"only the {who} program limits the detections per image after NMS (to {fmt(k)}); {other} keeps "
                    "them all", p.max_det_site or p.site, o.max_det_site or o.site, None, None))
    if o.sort is not None and o.sort[0] and o.sort[1] is not None and p.sort is None and p.family != _SAIL_HELPER:
        k = fmt(o.sort[1])
        out.append((f"the original runs NMS on the {k} best candidates only ({_code(o.sort[2])}); the port runs it on all "
                    f"of them, which differs when more than {k} boxes pass the score threshold", p.site, o.sort[2],
                    None, None))
    if o.min_size is not None and p.min_size is not None and o.min_size != p.min_size:
        out.append((f"minimum box size differs: ported {fmt(p.min_size)} px, original {fmt(o.min_size)} px",
                    p.extra.get("min_size_site") or p.site, o.extra.get("min_size_site") or o.site, None, None))
    elif (o.min_size is None) != (p.min_size is None) and (o.min_size or p.min_size):
        who, v = ("ported", p.min_size) if p.min_size is not None else ("original", o.min_size)
        out.append((f"only the {who} program drops boxes smaller than {fmt(v)} px before NMS",
                    p.extra.get("min_size_site") or p.site, o.extra.get("min_size_site") or o.site, None, None))
    # implementation families
    if not out and _semantics(o.family) != _semantics(p.family):
        out.append((_family_message(o, p), p.site, o.site, "warning", None))
    return out


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
    }
    return (f"NMS implementations differ: ported {p.impl}, original {o.impl}; {notes.get(p.family, p.family)}, "
            "so borderline boxes can be kept or suppressed differently (the precision-alignment guide's "
            "'minor differences')")


def _code(site: Site) -> str:
    text = code(site.file, site.node).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _sort_fix(p: Nms) -> Optional[Fix]:
    call = p.sort[3]
    if not isinstance(call, cst.Call) or call_name(call).startswith("."):
        return None
    sp = span(Site(p.sort[2].file, call))
    if sp is None:
        return None
    edit = TextEdit(p.sort[2].file.display, sp[1], sp[1], "[::-1]")
    return Fix("unsafe", "sort descending before the cut (argsort()[::-1]), as the original", [edit])


def _fix(applicability, description, edit_factory, value) -> Optional[Fix]:
    if edit_factory is None:
        return None
    return Fix(applicability, description, [edit_factory(value)])


# ------------------------------------------------------------------ rule entry point


@guarded
def check(pair) -> list:
    original, ported = pair.original, pair.ported
    o_progs = [(prog, collect(original, prog)) for prog in original.programs()]
    o_progs = [(prog, found) for prog, found in o_progs if found]
    if not o_progs:
        return []
    findings = []
    for prog in ported.programs():
        ported_nms = collect(ported, prog)
        if not ported_nms:
            continue
        findings.extend(closest_original(RULE, o_progs, ported_nms[0], differences))
    return findings
