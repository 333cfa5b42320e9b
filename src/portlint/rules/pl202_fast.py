"""Fast NMS (YOLACT's, also in SOLO/YOLACT++ derivatives), recognised from its structure.

Fast NMS does not loop: it sorts the candidates by score, computes the pairwise IoU matrix of the
top k, keeps its strict upper triangle (`iou.triu_(diagonal=1)`, `np.triu(iou, k=1)`: row i,
column j holds IoU(box i, box j) for i scoring above j) and keeps box j when the column's maximum
is <= the threshold. A box is therefore removed when any higher-scoring box overlaps it, even one
that was itself removed: greedy NMS would have let that box suppress nothing, so Fast NMS keeps
fewer boxes than greedy NMS at the same threshold (checked: on 200 random sets of 150 overlapping
boxes, 197 keep a different set than cv2.dnn.NMSBoxes at IoU 0.5).

Two forms: per class (the class x box score matrix sorted along the boxes, `scores.sort(1,
descending=True)` then `idx[:, :top_k]`: every class of a box is a candidate, i.e. multi-label),
and cross-class (`scores, classes = scores.max(dim=0)` first: the best class only, class-agnostic).

An NMS like this in a network's forward (yolact's Detect, called from Yolact.forward) is not run
by the interpreter when the program's images are not known; it is then read from its call sites
(`static_fast_contexts`): the method holding the call runs on the instance the program built
(its attributes as the program set them: `net.detect.use_fast_nms = args.fast_nms`), and a call
under an `if` whose test is known to be false there is not the program's NMS.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.events import FunctionCall, Scope
from portlint.analysis.facts import ProgramFacts, SideFacts
from portlint.analysis.image import Site
from portlint.analysis.objects import Instance
from portlint.analysis.syntax import ancestors, call_name, functions, last_name, walk
from portlint.rules.common import number

FAMILY = "fast"
NOTE = ("Fast NMS (sort, IoU matrix, upper triangle, column max <= thr) removes a box when any higher-scoring "
        "box overlaps it, even one that was itself removed")

_FLIP = {cst.LessThan: cst.GreaterThan, cst.LessThanEqual: cst.GreaterThanEqual,
         cst.GreaterThan: cst.LessThan, cst.GreaterThanEqual: cst.LessThanEqual}
_SUPPRESS = {cst.LessThanEqual: "gt", cst.LessThan: "ge", cst.GreaterThan: "gt", cst.GreaterThanEqual: "ge"}
_CACHE: dict = {}


def _target_names(target) -> list:
    if type(target) is cst.Name:
        return [target.value]
    if type(target) in (cst.Tuple, cst.List):
        return [e.value.value if type(e.value) is cst.Name else None for e in target.elements]
    return []


def _assigns(fn):
    for n in walk(fn):
        if type(n) is cst.Assign and len(n.targets) == 1:
            yield n, _target_names(n.targets[0].target)


def _base(node) -> Optional[str]:
    while type(node) in (cst.Subscript, cst.Attribute, cst.Call):
        node = node.func if type(node) is cst.Call else node.value
    return node.value if type(node) is cst.Name else None


def _iou_max_test(fn):
    """(comparison, threshold expr, suppress) of `iou_max <= thr`, where iou_max is assigned from
    a max over the matrix."""
    maxed = set()
    for a, names in _assigns(fn):
        if type(a.value) is cst.Call and last_name(a.value.func) in ("max", "amax") and names and names[0]:
            maxed.add(names[0])
    for n, thr, op in ratio_tests(fn, maxed):
        if op in (cst.LessThanEqual, cst.LessThan):  # kept when the column max is at most thr
            return n, thr, _SUPPRESS[op]
    return None


def ratio_tests(fn, names: set, inline: bool = False):
    """(comparison, threshold expr, operator type) of every `name <op> thr` test in `fn` on one of
    `names` (and, with `inline`, on a quotient written in place), the operator oriented as written
    with the name on the left (`thr > ovr` -> `<`)."""
    if not names and not inline:
        return
    for n in walk(fn):
        if type(n) is not cst.Comparison or len(n.comparisons) != 1:
            continue
        op = type(n.comparisons[0].operator)
        if op not in _FLIP:
            continue
        left, right = n.left, n.comparisons[0].comparator
        if _base(left) in names or (inline and _quotient(left)):
            yield n, right, op
        elif _base(right) in names or (inline and _quotient(right)):
            yield n, left, _FLIP[op]


def _quotient(node) -> bool:
    return type(node) is cst.BinaryOperation and type(node.operator) is cst.Divide


def has_inline_ratio_test(fn) -> bool:
    """A comparison of a quotient written inline (`inter / (a + b - inter) <= thr`)."""
    return any(type(n) is cst.Comparison and len(n.comparisons) == 1 and type(n.comparisons[0].operator) in _FLIP
               and (_quotient(n.left) or _quotient(n.comparisons[0].comparator)) for n in walk(fn))


def is_fast_nms(fn) -> bool:
    found = _CACHE.get(id(fn))
    if found is None or found[0] is not fn:
        ok = type(fn) is cst.FunctionDef and any(
            type(n) is cst.Call and last_name(n.func) in ("triu", "triu_") for n in walk(fn)) and \
            _iou_max_test(fn) is not None
        found = _CACHE[id(fn)] = (fn, ok)
    return found[1]


def _sort_index(fn):
    """(descending, index name, sort call) of the score sort: `scores, idx = scores.sort(1,
    descending=True)`, `idx = scores.argsort(descending=True)`, `idx = np.argsort(-scores)`."""
    for a, names in _assigns(fn):
        v = a.value
        if type(v) is cst.Subscript:
            v = v.value
        if type(v) is not cst.Call:
            continue
        name = last_name(v.func)
        if name not in ("sort", "argsort"):
            continue
        desc = any(arg.keyword is not None and arg.keyword.value == "descending" and
                   type(arg.value) is cst.Name and arg.value.value == "True" for arg in v.args)
        module_call = call_name(v).split(".")[0] in ("np", "numpy", "torch")  # np.argsort(-s), not s.argsort()
        data = v.args[0].value if module_call and v.args and v.args[0].keyword is None else None
        if type(data) is cst.UnaryOperation and type(data.operator) is cst.Minus:
            desc = not desc
        if type(a.value) is cst.Subscript and _reversed(a.value):
            desc = not desc
        index = names[1] if name == "sort" and len(names) == 2 else names[0] if len(names) == 1 else None
        dim = v.args[0].value if name == "sort" and v.args and v.args[0].keyword is None else None
        for arg in v.args:
            if arg.keyword is not None and arg.keyword.value in ("dim", "axis"):
                dim = arg.value
        return desc, index, v, dim, a.value
    return None


def _cut(fn, index: str):
    """(cut subscript, k expr, 2-D) of the first `idx[:k]` / `idx[:, :k]` of the sorted index."""
    for n in walk(fn):
        if type(n) is cst.Subscript and type(n.value) is cst.Name and n.value.value == index:
            found = _cut_of(n)
            if found is not None:
                return found
    return None


def _cut_of(node):
    """`np.argsort(-scores, axis=1)[:, :top_k]`: the cut written on the sort itself."""
    if type(node) is cst.Subscript and node.slice:
        last = node.slice[-1].slice
        if type(last) is cst.Slice and last.lower is None and last.upper is not None and last.step is None:
            return node, last.upper, len(node.slice) == 2
    return None


def _reversed(node: cst.Subscript) -> bool:
    """`x[::-1]`."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
        return False
    sl = node.slice[0].slice
    step = sl.step
    return sl.lower is None and sl.upper is None and type(step) is cst.UnaryOperation and \
        type(step.operator) is cst.Minus and type(step.expression) is cst.Integer and step.expression.value == "1"


def _best_class(fn) -> Optional[cst.Call]:
    """`scores, classes = scores.max(dim=0)`: one class per box before the sort (cross-class)."""
    for a, names in _assigns(fn):
        if type(a.value) is cst.Call and last_name(a.value.func) in ("max", "amax") and len(names) == 2 and \
                names[1] and ("cls" in names[1] or "class" in names[1] or "label" in names[1]):
            return a.value
    return None


def fill(facts: SideFacts, info, src, fn, scope) -> list:
    """Set the fast NMS's facts on `info` (a pl202_nms.Nms); returns the nodes already read (the
    caller's generic scan skips them)."""
    skip = []
    test = _iou_max_test(fn)
    if test is not None:
        node, thr, info.suppress = test
        info.iou = number(facts.evaluate(thr, scope))
        info.extra["iou_test"] = Site(src, node)
        info.exprs["iou"] = (src, thr)
        skip.append(node)
    sort = _sort_index(fn)
    if sort is not None:
        desc, index, call, dim, a_value = sort
        cut = _cut_of(a_value) if a_value is not None else None
        if cut is None and index:
            cut = _cut(fn, index)
        k = number(facts.evaluate(cut[1], scope)) if cut else None
        if cut is not None:
            info.sort = (desc, k, Site(src, cut[0]), call)
            skip.append(cut[0])
        best = _best_class(fn)
        row_sort = (cut is not None and cut[2]) or (type(dim) is cst.Integer and dim.value == "1")
        if best is not None:
            info.per_class, info.multi_label, info.best_class = False, False, Site(src, best)
            info.has_classes = True
            info.exprs["multi_label"] = (src, best)
        elif row_sort:  # the class x box matrix sorted per class row: every class of a box competes
            info.per_class, info.multi_label, info.has_classes = True, True, True
            info.exprs["multi_label"] = (src, call)
    return skip


# ------------------------------------------------------------------ read from the call sites


def _fast_defs(facts: SideFacts) -> dict:
    out: dict = {}
    for src in facts.side.files.values():
        if src.module is None or "triu" not in src.text:
            continue
        for fn in functions(src):
            if is_fast_nms(fn):
                out.setdefault(fn.name.value, []).append((src, fn))
    return out


def _owner_class(src, fn):
    for a in ancestors(src, fn):
        if type(a) is cst.ClassDef:
            return a
        if type(a) is cst.FunctionDef:
            return None
    return None


def instance_scope(prog: ProgramFacts, src, cfn) -> Optional[Scope]:
    """A scope for the method `cfn` on the instance of its class the program built (its __init__
    ran): `self` with the attributes the program set."""
    cls = _owner_class(src, cfn)
    if cls is None:
        return None
    for call in prog.of(FunctionCall):
        f = call.func
        if f.name == "__init__" and isinstance(f.self_obj, Instance) and _owner_class(f.file, f.node) is cls:
            return Scope(src, {"self": f.self_obj}, {}, f.globals)
    return None


def reachable(facts: SideFacts, src, call, cfn, scope) -> bool:
    """False when an `if` around `call` inside `cfn` is known to take the other branch, or an `if`
    before it in the same block is known to take a branch that returns."""
    child = call
    for a in ancestors(src, call):
        if a is cfn:
            return True
        if type(a) is cst.If:
            v = facts.evaluate(a.test, scope)
            if isinstance(v, bool):
                in_body = child is a.body
                if in_body != v:
                    return False
        if type(a) is cst.IndentedBlock and child in a.body:
            for stmt in a.body[:a.body.index(child)]:
                if type(stmt) is cst.If and _returns_when_known(facts, stmt, scope):
                    return False
        child = a
    return True


def _returns_when_known(facts: SideFacts, stmt: cst.If, scope) -> bool:
    """`if flag: ... return x` with flag known true (or an else that returns, flag known false)."""
    v = facts.evaluate(stmt.test, scope)
    if not isinstance(v, bool):
        return False
    branch = stmt.body if v else (stmt.orelse.body if type(stmt.orelse) is cst.Else else None)
    if branch is None or type(branch) is not cst.IndentedBlock or not branch.body:
        return False
    last = branch.body[-1]
    return type(last) is cst.SimpleStatementLine and any(type(x) in (cst.Return, cst.Raise) for x in last.body)


def call_sites(facts: SideFacts, name: str, wfn) -> list:
    out = []
    for src in facts.side.files.values():
        if src.module is None or (name + "(") not in src.text:
            continue
        for fn in functions(src):
            if fn is wfn:
                continue
            for n in walk(fn.body):
                if type(n) is cst.Call and last_name(n.func) == name:
                    out.append((src, fn, n))
    return out


def static_sites(facts: SideFacts, covered: set) -> list:
    """(prog, caller file, caller def, caller scope, call, def file, def) of every fast NMS call
    a program reaches (its caller ran, or runs on an instance the program built)."""
    out = []
    for name, defs in _fast_defs(facts).items():
        if len(defs) != 1:
            continue
        wsrc, wfn = defs[0]
        for csrc, cfn, call in call_sites(facts, name, wfn):
            for prog in facts.programs():
                if prog.display in covered:
                    continue
                scope = prog.scope_at(cfn) or instance_scope(prog, csrc, cfn)
                if scope is None or not reachable(facts, csrc, call, cfn, scope):
                    continue
                out.append((prog, csrc, cfn, scope, call, wsrc, wfn))
    return out

