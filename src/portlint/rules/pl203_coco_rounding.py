"""PL203 coco-rounding: how each program writes its detections to a COCO results json.

A detection record is a dict with a 'bbox' key (`{'bbox': [...], 'score': ...}` as in
ultralytics' save_one_json, or `bbox_dict['bbox'] = [...]` as in sophon-demo) in a program that
calls json.dump/json.dumps. Compared: rounding of the box values and of the score (the
precision-alignment guide asks for float(round(x, 3)) and float(round(score, 5))), `int()`
truncation of boxes, and the box format written ([x, y, w, h] vs [x1, y1, x2, y2]).
Facts (docs/facts.md, tests/test_api_facts.py): int() truncates toward zero; round() and np.round
round halves to even; round(np.float32, 3) stays float32, so float() of it is written with float32
noise, which is why the fix casts first: round(float(v), 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis import tree
from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.events import FunctionCall, JsonDump
from portlint.analysis.facts import ProgramFacts
from portlint.analysis.syntax import call_name, code, functions, walk
from portlint.rules.common import closest_original, guarded
from portlint.rules.base import RuleMeta
from portlint.findings import Fix, TextEdit

RULE = RuleMeta("PL203", "coco-rounding", "warning", ("safe", "unsafe"), "COCO json detections rounded or formatted differently")

_XYXY_NAMES = re.compile(r"^(x2|y2|x_?max|y_?max|right|bottom|xmax|ymax)$", re.I)
_WH_NAMES = re.compile(r"^(w|h|width|height|bw|bh|box_w|box_h)$", re.I)


@dataclass
class Record:
    prog: ProgramFacts
    src: Any
    scope: Any  # FunctionDef or Module
    bbox: Optional[cst.BaseExpression] = None
    score: Optional[cst.BaseExpression] = None
    bbox_round: Optional[tuple] = None
    score_round: Optional[tuple] = None
    fmt: Optional[str] = None
    extra: dict = field(default_factory=dict)


def _int_value(node) -> Optional[int]:
    if type(node) is cst.Integer:
        return int(node.value)
    return None


def rounding(src, node, scope=None, depth=0) -> tuple:
    """('round', digits, digits node) / ('int',) / ('raw',) for one written value."""
    if type(node) is cst.Call:
        name = call_name(node)
        args = [a for a in node.args]
        if name == "float" and args:
            return rounding(src, args[0].value, scope, depth)
        if name in ("round", "np.round", "numpy.round", "np.around", "numpy.around", "torch.round") and args:
            digits = next((a for a in args[1:] if a.keyword is None or a.keyword.value in ("ndigits", "decimals")), None)
            return ("round", _int_value(digits.value) if digits is not None else 0, digits)
        if name.endswith(".round") and type(node.func) is cst.Attribute:
            digits = next((a for a in args if a.keyword is None or a.keyword.value == "decimals"), None)
            return ("round", _int_value(digits.value) if digits is not None else 0, digits)
        if name == "int" and args:
            return ("int",)
        if name.endswith((".tolist", ".item")) and type(node.func) is cst.Attribute:
            return rounding(src, node.func.value, scope, depth)
        return ("raw",)
    if type(node) is cst.BinaryOperation and type(node.operator) is cst.Divide:
        # round(x * 10) / 10: COCO's "nearest 10th" (yolact's add_bbox)
        inner, scale = node.left, _int_value(node.right)
        if type(inner) is cst.Call and call_name(inner) == "round" and len(inner.args) == 1 and scale in (10, 100, 1000):
            prod = inner.args[0].value
            if type(prod) is cst.BinaryOperation and type(prod.operator) is cst.Multiply and \
                    scale in (_int_value(prod.left), _int_value(prod.right)):
                return ("round", len(str(scale)) - 1, None)
    if type(node) is cst.Name and scope is not None and depth < 2:
        value = _assigned(scope, node.value, node)
        if value is not None:
            return rounding(src, value, scope, depth + 1)
    return ("raw",)


def _assigned(scope, name: str, before) -> Optional[cst.BaseExpression]:
    found = None
    for n in walk(scope.body if type(scope) is cst.FunctionDef else scope):
        if n is before:
            break
        if type(n) is cst.Assign and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name) and \
                n.targets[0].target.value == name:
            found = n.value
    return found


def _list_rounding(src, node, scope) -> tuple:
    if type(node) in (cst.List, cst.Tuple) and node.elements:
        kinds = [rounding(src, e.value, scope) for e in node.elements]
        return kinds[0]
    if type(node) in (cst.ListComp, cst.GeneratorExp):
        return rounding(src, node.elt, scope)
    if type(node) is cst.Call and call_name(node) in ("list", "tuple") and node.args:
        return _list_rounding(src, node.args[0].value, scope)
    return rounding(src, node, scope)


def _subtracts(node) -> bool:
    return any(type(n) is cst.BinaryOperation and type(n.operator) is cst.Subtract for n in walk(node, skip_functions=False))


def _core_name(node) -> Optional[str]:
    while type(node) is cst.Call and node.args:
        node = node.args[0].value
    return node.value if type(node) is cst.Name else None


def box_format(src, node, scope) -> Optional[str]:
    if type(node) in (cst.List, cst.Tuple) and len(node.elements) == 4:
        third, fourth = node.elements[2].value, node.elements[3].value
        if _subtracts(third) and _subtracts(fourth):
            return "xywh"
        names = [_core_name(e.value) for e in node.elements]
        if names[2] and names[3]:
            if _XYXY_NAMES.match(names[2]) and _XYXY_NAMES.match(names[3]):
                return "xyxy"
            if _WH_NAMES.match(names[2]) and _WH_NAMES.match(names[3]):
                return "xywh"
        return None
    calls = [call_name(n).lower() for n in walk(scope) if type(n) is cst.Call]
    if any("xyxy2xywh" in c for c in calls):
        shifted = any(type(n) is cst.AugAssign and type(n.operator) is cst.SubtractAssign and "/ 2" in code(src, n.value)
                      for n in walk(scope))
        return "xywh" if shifted else "cxcywh"
    if any("xyxy2ltwh" in c or "tlwh" in c for c in calls):
        return "xywh"
    return None


def _key(node) -> Optional[str]:
    if type(node) is cst.SimpleString:
        try:
            return node.evaluated_value
        except Exception:
            return None
    return None


def collect(prog: ProgramFacts) -> list[Record]:
    """Detection records in the program's files (its entry and the modules it ran code from), if
    the program writes json. Not only executed code: ultralytics writes its COCO json only under
    --save-json, whose default is False."""
    files = {id(c.func.file): c.func.file for c in prog.of(FunctionCall)}
    files[id(prog.entry)] = prog.entry
    if not prog.of(JsonDump) and not any(_dumps_json(src) for src in files.values()):
        return []
    out = []
    for src in files.values():
        for scope in _scopes_with_bbox(src):
            out.extend(_records(prog, src, scope))
    return out


_BBOX_SCOPES: dict = {}


def _scopes_with_bbox(src) -> list:
    """Functions (and the module) whose own code mentions 'bbox' (cached per parsed module)."""
    found = _BBOX_SCOPES.get(src.module)
    if found is None:
        found = []
        if "bbox" in src.text:
            owners = _bbox_string_owners(src.module)
            found = [scope for scope in list(functions(src)) + [src.module] if id(scope) in owners]
        _BBOX_SCOPES[src.module] = found
    return found


def _bbox_string_owners(module) -> set:
    """ids of the scopes whose own code (walk(scope): nested defs, classes and lambdas left out)
    holds a string mentioning 'bbox': one pass over the module's index instead of a walk per function."""
    idx = tree.module_index(module)
    order, par = idx.order, idx.par
    owners = set()
    for i in idx.positions_of(cst.SimpleString):
        if "bbox" in order[i].value:
            j = par[i]
            while j >= 0 and type(order[j]) not in tree.DEFINITIONS:
                j = par[j]
            owner = order[j] if j >= 0 else module
            if type(owner) is not cst.ClassDef and type(owner) is not cst.Lambda:
                owners.add(id(owner))
    return owners


_DUMPS: dict = {}


def _dumps_json(src) -> bool:
    found = _DUMPS.get(src.module)
    if found is None:
        found = _DUMPS[src.module] = _scan_dumps(src)
    return found


def _scan_dumps(src) -> bool:
    if "dump" not in src.text:  # json.dump / json.dumps: no walk needed
        return False
    return any(type(n) is cst.Call and call_name(n) in ("json.dump", "json.dumps") for n in walk(src.module, skip_functions=False))


def _records(prog, src, scope) -> list[Record]:
    out = []
    stores: list = []  # (key, target code, value) in source order
    for n in walk(scope.body if type(scope) is cst.FunctionDef else scope):
        t = type(n)  # exact types (libcst has no subclasses of these): isinstance goes through ABCMeta
        if t is not cst.Dict and t is not cst.Assign and t is not cst.Call:
            continue
        if t is cst.Dict:
            fields = {_key(e.key): e.value for e in n.elements if type(e) is cst.DictElement}
            if "bbox" in fields:
                out.append(_record(prog, src, scope, fields["bbox"], fields.get("score")))
        if t is cst.Assign and len(n.targets) == 1:
            t = n.targets[0].target
            if type(t) is cst.Subscript and len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index):
                k = _key(t.slice[0].slice.value)
                if k in ("bbox", "score"):
                    stores.append((k, code(src, t.value), n.value))
        if t is cst.Call and call_name(n) == "dict" and any(a.keyword is not None and a.keyword.value == "bbox" for a in n.args):
            fields = {a.keyword.value: a.value for a in n.args if a.keyword is not None}
            out.append(_record(prog, src, scope, fields["bbox"], fields.get("score")))
    for i, (k, target, value) in enumerate(stores):
        if k != "bbox":
            continue
        score = None
        for k2, target2, value2 in stores[i + 1:]:
            if target2 == target and k2 == "bbox":
                break
            if target2 == target and k2 == "score":
                score = value2
                break
        out.append(_record(prog, src, scope, value, score))
    return out


def _copied(src, node, scope, key: str) -> bool:
    """`data['bbox'] = bboxes[i]['bbox']` (or through a name: `b = res['bbox']`): the value is read
    from a record someone else wrote (a results json loaded back), so its rounding is that writer's."""
    if type(node) is cst.Name and scope is not None:
        value = _assigned(scope, node.value, node)
        if value is not None:
            node = value
    while type(node) is cst.Call and call_name(node) in ("float", "list", "tuple") and node.args:
        node = node.args[0].value
    if type(node) is cst.Subscript and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return _key(node.slice[0].slice.value) in (key, key + "es", key + "s")
    return False


def _record(prog, src, scope, bbox, score) -> Record:
    r = Record(prog, src, scope, bbox, score)
    r.extra["copied"] = _copied(src, bbox, scope, "bbox") and (score is None or _copied(src, score, scope, "score"))
    r.bbox_round = _list_rounding(src, bbox, scope)
    r.score_round = rounding(src, score, scope) if score is not None else None
    r.fmt = box_format(src, bbox, scope)
    return r


# ------------------------------------------------------------------ fixes


def _rounded(src, node, digits: int) -> str:
    """Code for `node` rounded to `digits` decimals, cast to a Python float first."""
    if type(node) is cst.Call and call_name(node) in ("int", "float") and node.args:
        inner = node.args[0].value
        return f"round(float({code(src, inner)}), {digits})"
    return f"round(float({code(src, node)}), {digits})"


def _value_edits(src, node, kind: tuple, digits: int) -> list:
    """Edits that make one written value round to `digits` decimals."""
    if kind[0] == "round":
        d = kind[2]
        if d is not None:
            sp = span(Site(src, d.value))
            return [TextEdit(src.display, sp[0], sp[1], str(digits))] if sp else []
        sp = span(Site(src, node))
        return [TextEdit(src.display, sp[0], sp[1], _rounded(src, node, digits))] if sp else []
    sp = span(Site(src, node))
    return [TextEdit(src.display, sp[0], sp[1], _rounded(src, node, digits))] if sp else []


def _round_call(node) -> Optional[cst.Call]:
    """The round(...) call inside `float(round(...))`, if any."""
    if type(node) is cst.Call and call_name(node) == "float" and node.args:
        return _round_call(node.args[0].value)
    if type(node) is cst.Call and call_name(node) in ("round", "np.round", "numpy.round"):
        return node
    return None


def _element_edits(src, node, digits: int) -> list:
    kind = rounding(src, node)
    if kind[0] == "round" and kind[2] is None:
        call = _round_call(node)
        if call is not None:  # round(x) -> round(x, digits)
            sp = span(Site(src, call.args[0]))
            return [TextEdit(src.display, sp[1], sp[1], f", {digits}")] if sp else []
    return _value_edits(src, node, kind, digits)


def _bbox_fix(r: Record, digits: int) -> Optional[Fix]:
    src, node = r.src, r.bbox
    edits = []
    if type(node) in (cst.List, cst.Tuple) and node.elements:
        for e in node.elements:
            edits.extend(_element_edits(src, e.value, digits))
    elif type(node) in (cst.ListComp, cst.GeneratorExp):
        edits.extend(_element_edits(src, node.elt, digits))
    else:
        sp = span(Site(src, node))
        if sp:
            edits.append(TextEdit(src.display, sp[0], sp[1], f"[round(float(v), {digits}) for v in {code(src, node)}]"))
    if not edits:
        return None
    return Fix("safe", f"round the box values to {digits} decimals as the original (cast to float first)", edits)


def _score_fix(r: Record, digits: int) -> Optional[Fix]:
    edits = _element_edits(r.src, r.score, digits)
    return Fix("safe", f"round the score to {digits} decimals as the original (cast to float first)", edits) if edits else None


# ------------------------------------------------------------------ comparison


def _describe(kind: Optional[tuple], what: str) -> str:
    if kind is None:
        return "not written"
    if kind[0] == "round":
        return f"rounded to {kind[1]} decimals" if kind[1] is not None else "rounded"
    if kind[0] == "int":
        return "truncated with int()"
    if kind[0] == "whole":
        return f"as whole pixels ({kind[1]} before the json is written)"
    return "unrounded"


def _guide_rounding(p: tuple, o: tuple, digits: int) -> bool:
    """The port rounds to the guide's decimals (3 for boxes, 5 for scores) or finer where the
    original writes raw floats: the values differ by at most half a unit of that decimal
    (5e-4 px, 5e-6 score), below what COCOeval resolves, and the port follows the alignment
    guide's own recipe (precision-alignment-method.md §3). Not reported."""
    return o[0] == "raw" and p[0] == "round" and isinstance(p[1], int) and p[1] >= digits


def differences(o: Record, p: Record) -> list:
    out = []
    ob, pb = o.bbox_round, p.bbox_round
    if ob and pb and ob[:2] != pb[:2] and not _guide_rounding(pb, ob, 3):
        msg = f"COCO json boxes differ: ported {_describe(pb, 'bbox')}, original {_describe(ob, 'bbox')}"
        if pb[0] == "int":
            msg += " (int() truncates toward zero: each edge moves by up to 1 px, always the same way, so boxes shrink)"
        elif ob[0] == "round" and pb[0] == "raw":
            msg += " (the precision-alignment guide writes float(round(x, 3)); unrounded values make the two json files differ)"
        fix = _bbox_fix(p, ob[1]) if ob[0] == "round" and isinstance(ob[1], int) and ob[1] > 0 else None
        out.append((msg, Site(p.src, p.bbox), Site(o.src, o.bbox), None, fix))
    os_, ps = o.score_round, p.score_round
    if os_ and ps and os_[:2] != ps[:2] and not _guide_rounding(ps, os_, 5):
        msg = f"COCO json scores differ: ported {_describe(ps, 'score')}, original {_describe(os_, 'score')}"
        fix = _score_fix(p, os_[1]) if os_[0] == "round" and isinstance(os_[1], int) and os_[1] > 0 else None
        out.append((msg, Site(p.src, p.score), Site(o.src, o.score), None, fix))
    if o.fmt and p.fmt and o.fmt != p.fmt:
        names = {"xywh": "[x, y, w, h] (top-left corner, COCO's format)", "xyxy": "[x1, y1, x2, y2]",
                 "cxcywh": "[cx, cy, w, h] (box centre, not COCO's top-left)"}
        out.append((f"COCO json box format differs: ported writes {names[p.fmt]}, the original {names[o.fmt]}; every "
                    "box is evaluated at the wrong place", Site(p.src, p.bbox), Site(o.src, o.bbox), "error", None))
    return out


def library_records(facts) -> list:
    """[(program label, records)] when no program of the side writes COCO records (a library such
    as ultralytics, whose validators no program runs): the records of the functions that write
    detections to json (`pred_to_json`, `save_one_json`), one program per file."""
    out = []
    for src in facts.side.files.values():
        if src.module is None or "bbox" not in src.text:
            continue
        recs = []
        for scope in _scopes_with_bbox(src):
            name = scope.name.value if type(scope) is cst.FunctionDef else ""
            if "json" in name.lower() or _dumps_json(src):
                recs.extend(_records(None, src, scope))
        recs = [r for r in recs if not r.extra.get("copied")]
        if recs:
            out.append((_Label(src.display), recs))
    return out


@dataclass
class _Label:
    display: str


_WHOLE_PIXELS = ("round", "rint", "around")


def _whole_pixels(node) -> bool:
    """`coords.round()`, `np.round(boxes)` (no decimals), `np.rint(...)`, `x.astype(np.int32)`."""
    if type(node) is not cst.Call:
        return False
    name = call_name(node)
    last = name.rsplit(".", 1)[-1]
    if last in _WHOLE_PIXELS:
        method = name.startswith(".") or (type(node.func) is cst.Attribute and not name.startswith(("np.", "numpy.", "torch.")))
        decimals = [a for a in node.args if a.keyword is not None and a.keyword.value == "decimals"] or \
            (node.args[0:] if method else node.args[1:])
        return not decimals
    if last == "astype" and node.args:
        return "int" in code_of(node.args[0].value)
    return False


def code_of(node) -> str:
    from portlint.analysis.syntax import dotted
    return dotted(node) or (node.value if type(node) is cst.SimpleString else "")


def _box_columns(target) -> bool:
    """`det[:, :4]` / `boxes[:, 0:4]`: the four box columns."""
    if type(target) is not cst.Subscript or len(target.slice) != 2:
        return False
    s = target.slice[1].slice
    return type(s) is cst.Slice and type(s.upper) is cst.Integer and s.upper.value == "4" and (
        s.lower is None or (type(s.lower) is cst.Integer and s.lower.value == "0"))


def _integer_boxes(prog, o_records, done: set) -> list:
    """The port's post-processing rounds the boxes to whole pixels (`det[:, :4] = coords.round()`)
    before they are written to json, where the original writes them unrounded: each corner moves
    by up to 0.5 px, and the writer's round(x, 3) cannot undo it."""
    if not o_records or not collect(prog):
        return []
    first = o_records[0][1][0]
    if first.bbox_round is None or first.bbox_round[0] == "int" or (first.bbox_round[0] == "round" and first.bbox_round[1] == 0):
        return []
    out = []
    for call in prog.of(FunctionCall):
        fn = call.func.node
        if type(fn) is not cst.FunctionDef or id(fn) in done:
            continue
        done.add(id(fn))
        src = call.func.file
        for n in walk(fn.body):
            if type(n) is cst.Assign and len(n.targets) == 1 and _box_columns(n.targets[0].target) and _whole_pixels(n.value):
                o_desc = _describe(first.bbox_round, "bbox")
                msg = (f"ported rounds the boxes to whole pixels before they are written to json ({code(src, n).strip()}); "
                       f"the original writes them {o_desc}: every corner moves by up to 0.5 px, and the json's "
                       "round(x, 3) cannot undo it")
                fix = _drop_rounding(src, n.value)
                out.append(RULE.finding(msg, Site(src, n), Site(first.src, first.bbox), fix=fix))
    return out


def _drop_rounding(src, call: cst.Call) -> Optional[Fix]:
    """`coords.round()` -> `coords`."""
    if type(call.func) is cst.Attribute and not call.args:
        sp, inner = span(Site(src, call)), span(Site(src, call.func.value))
        if sp and inner:
            return Fix("unsafe", "keep the boxes as floats (drop the rounding), as the original",
                       [TextEdit(src.display, sp[0], sp[1], code(src, call.func.value))])
    return None


def _box_target(target) -> bool:
    return _box_columns(target) or (type(target) is cst.Name and "box" in target.value.lower())


def _whole_assignment(fn):
    for n in walk(fn.body):
        if type(n) is cst.Assign and len(n.targets) == 1 and _box_target(n.targets[0].target) and \
                (_whole_pixels(n.value) or (type(n.value) is cst.Call and call_name(n.value).endswith((".long", ".int")))):
            return n
    return None


def whole_pixels_upstream(facts, record) -> Optional[Site]:
    """Where the original makes its boxes whole pixels before `record` writes them: in a function
    that calls the record's writer, or in a function that caller calls (yolact: prep_metrics calls
    postprocess, whose `boxes = boxes.long()` truncates, then add_bbox writes the boxes)."""
    writer = record.scope
    if type(writer) is not cst.FunctionDef:
        return None
    name = writer.name.value
    defs: dict = {}
    for src in facts.side.files.values():
        if src.module is None:
            continue
        for fn in functions(src):
            defs.setdefault(fn.name.value, []).append((src, fn))
    for src in facts.side.files.values():
        if src.module is None or name + "(" not in src.text:
            continue
        for caller in functions(src):
            if caller is writer or not any(type(n) is cst.Call and _last(n) == name for n in walk(caller.body)):
                continue
            hit = _whole_assignment(caller)
            if hit is not None:
                return Site(src, hit)
            for n in walk(caller.body):
                if type(n) is cst.Call:
                    for dsrc, d in defs.get(_last(n), [])[:1]:
                        hit = _whole_assignment(d)
                        if hit is not None:
                            return Site(dsrc, hit)
    return None


def _last(call) -> str:
    return call_name(call).rsplit(".", 1)[-1]


def _with_upstream(facts, groups: list) -> list:
    for _, recs in groups:
        for r in recs:
            if r.bbox_round and (r.bbox_round[0] == "raw" or (r.bbox_round[0] == "round" and (r.bbox_round[1] or 0) <= 1)):
                site = whole_pixels_upstream(facts, r)
                if site is not None:
                    r.bbox_round = ("whole", code(site.file, site.node).strip())
                    r.extra["whole_site"] = site
    return groups


@guarded
def check(pair) -> list:
    o_records = [(prog, recs) for prog in pair.original.programs()
                 for recs in [[r for r in collect(prog) if not r.extra.get("copied")]] if recs]
    if not o_records:
        o_records = library_records(pair.original)
    if not o_records:
        return []
    o_records = _with_upstream(pair.original, o_records)
    findings = []
    done = set()
    for prog in pair.ported.programs():
        for p in collect(prog):
            if id(p.bbox) in done or p.extra.get("copied"):
                continue
            done.add(id(p.bbox))
            findings.extend(closest_original(RULE, o_records, p, differences))
        findings.extend(_integer_boxes(prog, o_records, done))
    return findings
