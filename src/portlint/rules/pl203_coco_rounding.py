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

RULE = RuleMeta("PL203", "coco-rounding", "warning", ("safe",), "COCO json detections rounded or formatted differently")

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
    if isinstance(node, cst.Integer):
        return int(node.value)
    return None


def rounding(src, node, scope=None, depth=0) -> tuple:
    """('round', digits, digits node) / ('int',) / ('raw',) for one written value."""
    if isinstance(node, cst.Call):
        name = call_name(node)
        args = [a for a in node.args]
        if name == "float" and args:
            return rounding(src, args[0].value, scope, depth)
        if name in ("round", "np.round", "numpy.round", "np.around", "numpy.around", "torch.round") and args:
            digits = next((a for a in args[1:] if a.keyword is None or a.keyword.value in ("ndigits", "decimals")), None)
            return ("round", _int_value(digits.value) if digits is not None else 0, digits)
        if name.endswith(".round") and isinstance(node.func, cst.Attribute):
            digits = next((a for a in args if a.keyword is None or a.keyword.value == "decimals"), None)
            return ("round", _int_value(digits.value) if digits is not None else 0, digits)
        if name == "int" and args:
            return ("int",)
        if name.endswith((".tolist", ".item")) and isinstance(node.func, cst.Attribute):
            return rounding(src, node.func.value, scope, depth)
        return ("raw",)
    if isinstance(node, cst.Name) and scope is not None and depth < 2:
        value = _assigned(scope, node.value, node)
        if value is not None:
            return rounding(src, value, scope, depth + 1)
    return ("raw",)


def _assigned(scope, name: str, before) -> Optional[cst.BaseExpression]:
    found = None
    for n in walk(scope.body if isinstance(scope, cst.FunctionDef) else scope):
        if n is before:
            break
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name) and \
                n.targets[0].target.value == name:
            found = n.value
    return found


def _list_rounding(src, node, scope) -> tuple:
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
        kinds = [rounding(src, e.value, scope) for e in node.elements]
        return kinds[0]
    if isinstance(node, (cst.ListComp, cst.GeneratorExp)):
        return rounding(src, node.elt, scope)
    if isinstance(node, cst.Call) and call_name(node) in ("list", "tuple") and node.args:
        return _list_rounding(src, node.args[0].value, scope)
    return rounding(src, node, scope)


def _subtracts(node) -> bool:
    return any(isinstance(n, cst.BinaryOperation) and isinstance(n.operator, cst.Subtract) for n in walk(node, skip_functions=False))


def _core_name(node) -> Optional[str]:
    while isinstance(node, cst.Call) and node.args:
        node = node.args[0].value
    return node.value if isinstance(node, cst.Name) else None


def box_format(src, node, scope) -> Optional[str]:
    if isinstance(node, (cst.List, cst.Tuple)) and len(node.elements) == 4:
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
    calls = [call_name(n).lower() for n in walk(scope) if isinstance(n, cst.Call)]
    if any("xyxy2xywh" in c for c in calls):
        shifted = any(isinstance(n, cst.AugAssign) and isinstance(n.operator, cst.SubtractAssign) and "/ 2" in code(src, n.value)
                      for n in walk(scope))
        return "xywh" if shifted else "cxcywh"
    if any("xyxy2ltwh" in c or "tlwh" in c for c in calls):
        return "xywh"
    return None


def _key(node) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
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
    return any(isinstance(n, cst.Call) and call_name(n) in ("json.dump", "json.dumps") for n in walk(src.module, skip_functions=False))


def _records(prog, src, scope) -> list[Record]:
    out = []
    stores: list = []  # (key, target code, value) in source order
    for n in walk(scope.body if isinstance(scope, cst.FunctionDef) else scope):
        t = type(n)  # exact types (libcst has no subclasses of these): isinstance goes through ABCMeta
        if t is not cst.Dict and t is not cst.Assign and t is not cst.Call:
            continue
        if t is cst.Dict:
            fields = {_key(e.key): e.value for e in n.elements if isinstance(e, cst.DictElement)}
            if "bbox" in fields:
                out.append(_record(prog, src, scope, fields["bbox"], fields.get("score")))
        if t is cst.Assign and len(n.targets) == 1:
            t = n.targets[0].target
            if isinstance(t, cst.Subscript) and len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index):
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


def _record(prog, src, scope, bbox, score) -> Record:
    r = Record(prog, src, scope, bbox, score)
    r.bbox_round = _list_rounding(src, bbox, scope)
    r.score_round = rounding(src, score, scope) if score is not None else None
    r.fmt = box_format(src, bbox, scope)
    return r


# ------------------------------------------------------------------ fixes


def _rounded(src, node, digits: int) -> str:
    """Code for `node` rounded to `digits` decimals, cast to a Python float first."""
    if isinstance(node, cst.Call) and call_name(node) in ("int", "float") and node.args:
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
    if isinstance(node, cst.Call) and call_name(node) == "float" and node.args:
        return _round_call(node.args[0].value)
    if isinstance(node, cst.Call) and call_name(node) in ("round", "np.round", "numpy.round"):
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
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
        for e in node.elements:
            edits.extend(_element_edits(src, e.value, digits))
    elif isinstance(node, (cst.ListComp, cst.GeneratorExp)):
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
    return "unrounded"


def differences(o: Record, p: Record) -> list:
    out = []
    ob, pb = o.bbox_round, p.bbox_round
    if ob and pb and ob[:2] != pb[:2]:
        msg = f"COCO json boxes differ: ported {_describe(pb, 'bbox')}, original {_describe(ob, 'bbox')}"
        if pb[0] == "int":
            msg += " (int() truncates toward zero: each edge moves by up to 1 px, always the same way, so boxes shrink)"
        elif ob[0] == "round" and pb[0] == "raw":
            msg += " (the precision-alignment guide writes float(round(x, 3)); unrounded values make the two json files differ)"
        fix = _bbox_fix(p, ob[1]) if ob[0] == "round" and isinstance(ob[1], int) and ob[1] > 0 else None
        out.append((msg, Site(p.src, p.bbox), Site(o.src, o.bbox), None, fix))
    os_, ps = o.score_round, p.score_round
    if os_ and ps and os_[:2] != ps[:2]:
        msg = f"COCO json scores differ: ported {_describe(ps, 'score')}, original {_describe(os_, 'score')}"
        fix = _score_fix(p, os_[1]) if os_[0] == "round" and isinstance(os_[1], int) and os_[1] > 0 else None
        out.append((msg, Site(p.src, p.score), Site(o.src, o.score), None, fix))
    if o.fmt and p.fmt and o.fmt != p.fmt:
        names = {"xywh": "[x, y, w, h] (top-left corner, COCO's format)", "xyxy": "[x1, y1, x2, y2]",
                 "cxcywh": "[cx, cy, w, h] (box centre, not COCO's top-left)"}
        out.append((f"COCO json box format differs: ported writes {names[p.fmt]}, the original {names[o.fmt]}; every "
                    "box is evaluated at the wrong place", Site(p.src, p.bbox), Site(o.src, o.bbox), "error", None))
    return out


@guarded
def check(pair) -> list:
    o_records = [(prog, recs) for prog in pair.original.programs() for recs in [collect(prog)] if recs]
    if not o_records:
        return []
    findings = []
    done = set()
    for prog in pair.ported.programs():
        for p in collect(prog):
            if id(p.bbox) in done:
                continue
            done.add(id(p.bbox))
            findings.extend(closest_original(RULE, o_records, p, differences))
    return findings
