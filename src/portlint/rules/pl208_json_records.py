"""PL208 other: the records a program writes to its results json, compared with the original's writer.

A record is a dict appended to a list that the program dumps with json.dump/json.dumps: a literal
(`results.append({'image_id': ..., 'score': ...})`, `dict(score=...)`) or a dict filled key by key
(`rec = dict()`, `rec['score'] = ...`, `rec['keypoints'].append(x)`, then `results.append(rec)`).
Two things are reported on the port:

- fields: two records appended to the same list in one function where one lacks a key the other
  writes and the original's json writer writes too (sophon-demo's pose ports build the last,
  partial batch's record without 'score'): a reader of the json (COCOeval, which ranks by score)
  fails or evaluates those images wrongly;
- a literal score filter: a value written into the records comes from rows filtered by a score
  comparison with a number literal (`det_draw = det[det[:, 4] > 0.25]`, the drawing filter), while
  the program's own score threshold is a parameter the filter does not follow, and the original's
  writer has no such filter (it writes every detection its NMS kept).

The original's records are read the same way, in the functions of the original side that write
json (the library writers such as ultralytics' `pred_to_json`, whether a program ran them or not).
Both fixes are display-only: which value a missing field takes, and which rows a record loop
indexes, need reading the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import call_name, code, functions, walk
from portlint.findings import Fix
from portlint.rules import pl202_nms
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt, guarded, ran_functions
from portlint.rules.pl203_coco_rounding import _dumps_json, _key

RULE = RuleMeta("PL208", "other", "warning", ("display-only",), "results json records written differently from the original's")

_MAX_STEPS = 40


@dataclass
class Rec:
    src: Any
    scope: Any
    node: Any  # where the record is made: the dict literal/call, or the `rec = dict()` statement
    keys: dict = field(default_factory=dict)  # key -> the node writing it
    values: list = field(default_factory=list)  # the expressions written into the record
    target: str = ""  # code of the list it is appended to
    append: Any = None


def _is_dict(node) -> bool:
    return type(node) is cst.Dict or (type(node) is cst.Call and call_name(node) == "dict" and
                                      all(a.keyword is not None for a in node.args))


def _literal_fields(node) -> dict:
    if type(node) is cst.Dict:
        return {k: e.value for e in node.elements if type(e) is cst.DictElement for k in [_key(e.key)] if k}
    return {a.keyword.value: a.value for a in node.args if a.keyword is not None}


def _store_key(target) -> Optional[tuple]:
    """`rec['score']` -> ('rec', 'score')."""
    if type(target) is cst.Subscript and type(target.value) is cst.Name and len(target.slice) == 1 and \
            isinstance(target.slice[0].slice, cst.Index):
        k = _key(target.slice[0].slice.value)
        if k:
            return target.value.value, k
    return None


def records(src, scope) -> list[Rec]:
    """The dicts appended to a list in `scope` (a def or a module), in source order."""
    body = scope.body if type(scope) is cst.FunctionDef else scope
    building: dict = {}  # name -> Rec being filled
    out = []
    for n in walk(body):
        t = type(n)
        if t is cst.Assign and len(n.targets) == 1:
            tgt = n.targets[0].target
            if type(tgt) is cst.Name:
                if _is_dict(n.value):
                    fields = _literal_fields(n.value)
                    building[tgt.value] = Rec(src, scope, n, dict(fields), list(fields.values()))
                else:
                    building.pop(tgt.value, None)
                continue
            sk = _store_key(tgt)
            if sk and sk[0] in building:
                building[sk[0]].keys.setdefault(sk[1], n)
                building[sk[0]].values.append(n.value)
        elif t is cst.Call and type(n.func) is cst.Attribute and n.func.attr.value in ("append", "extend") and n.args:
            owner, arg = n.func.value, n.args[0].value
            sk = _store_key(owner)
            if sk and sk[0] in building:  # rec['keypoints'].append(x)
                building[sk[0]].values.append(arg)
                continue
            if n.func.attr.value != "append":
                continue
            if _is_dict(arg):
                fields = _literal_fields(arg)
                out.append(Rec(src, scope, arg, dict(fields), list(fields.values()), code(src, owner), n))
            elif type(arg) is cst.Name and arg.value in building:
                rec = building[arg.value]
                if rec.append is None:
                    rec.target, rec.append = code(src, owner), n
                    out.append(rec)
    return out


_DUMPED: dict = {}


def _dumped(src, target: str) -> bool:
    """`json.dump(target, ...)` / `json.dumps(target)` somewhere in the file."""
    if not _dumps_json(src):
        return False
    found = _DUMPED.get(id(src.module))
    if found is None or found[0] is not src.module:
        names = {code(src, n.args[0].value) for n in walk(src.module, skip_functions=False)
                 if type(n) is cst.Call and n.args and call_name(n) in ("json.dump", "json.dumps")}
        found = _DUMPED[id(src.module)] = (src.module, names)
    return target in found[1]


def original_writers(facts) -> list[Rec]:
    """The records of the original side's json writers (functions named like json, or in a file
    that dumps json), whether a program ran them or not: ultralytics writes its COCO json only
    in validation, which `yolo predict` does not run."""
    out = []
    for src in facts.side.files.values():
        if src.module is None or "append" not in src.text:
            continue
        dumps = _dumps_json(src)
        for fn in functions(src):
            if not dumps and "json" not in fn.name.value.lower():
                continue
            out.extend(r for r in records(src, fn) if len(r.keys) >= 2)
    return out


def _writer_for(rec: Rec, originals: list[Rec]) -> Optional[Rec]:
    """The original record sharing most keys with `rec` (at least two)."""
    best, best_n = None, 1
    for o in originals:
        n = len(set(o.keys) & set(rec.keys))
        if n > best_n:
            best, best_n = o, n
    return best


# ------------------------------------------------------------------ fields


def _field_findings(ported: list[Rec], originals: list[Rec]) -> list:
    out = []
    groups: dict = {}
    for r in ported:
        groups.setdefault((id(r.scope), r.target), []).append(r)
    for recs in groups.values():
        for r in recs:
            for other in recs:
                if other is r:
                    continue
                o = _writer_for(other, originals)
                missing = [k for k in other.keys if k not in r.keys and o is not None and k in o.keys]
                if not missing:
                    continue
                names = ", ".join(repr(k) for k in missing)
                line = _line(other)
                msg = (f"this record appended to {r.target} has no {names}, which the record built at line {line} "
                       f"(appended to the same list) writes and the original's writer writes too "
                       f"({_writer_name(o)}: {', '.join(repr(k) for k in o.keys)}); a reader of the json that "
                       f"needs {names} (COCOeval ranks detections by 'score') fails or misjudges these records")
                fix = Fix("display-only", f"write {names} in this record as the record at line {line} does; which "
                          "value it takes (and whether each detection is one record) needs reading the code")
                out.append(RULE.finding(msg, Site(r.src, r.node), Site(o.src, o.keys[missing[0]]), fix=fix,
                                        related=[(Site(other.src, other.keys[missing[0]]), f"{names} written here")]))
                break
    return out


def _line(rec: Rec) -> str:
    from portlint.analysis.locate import locate
    loc = locate(Site(rec.src, rec.node))
    return str(loc.line) if loc is not None else "?"


def _writer_name(o: Rec) -> str:
    return o.scope.name.value if type(o.scope) is cst.FunctionDef else "its json writer"


# ------------------------------------------------------------------ literal score filter


def _number(node) -> Optional[float]:
    if type(node) in (cst.Float, cst.Integer):
        try:
            return float(node.value)
        except ValueError:
            return None
    return None


def _score_filter(node) -> Optional[tuple]:
    """(literal, comparison) for `rows[rows[:, k] > 0.25]` / `rows[cond, :]` / a comprehension
    `[d for d in rows if d[4] >= 0.25]`: rows kept by a score above a number literal."""
    comp = None
    if type(node) is cst.Subscript and node.slice and isinstance(node.slice[0].slice, cst.Index):
        comp = node.slice[0].slice.value
    elif type(node) in (cst.ListComp, cst.GeneratorExp) and node.for_in.ifs:
        comp = node.for_in.ifs[0].test
    if type(comp) is not cst.Comparison or len(comp.comparisons) != 1:
        return None
    c = comp.comparisons[0]
    op, right = type(c.operator), c.comparator
    if op in (cst.GreaterThan, cst.GreaterThanEqual) and _number(right) is not None and _number(comp.left) is None:
        return _number(right), comp
    if op in (cst.LessThan, cst.LessThanEqual) and _number(comp.left) is not None and _number(right) is None:
        return _number(comp.left), comp
    return None


def _definitions(scope) -> tuple:
    """(position of each node, {name: [(position, value node, statement)]}) in `scope`."""
    body = scope.body if type(scope) is cst.FunctionDef else scope
    pos, defs = {}, {}
    for i, n in enumerate(walk(body)):
        pos[id(n)] = i
        if type(n) is cst.Assign:
            for t in n.targets:
                names = [t.target] if type(t.target) is cst.Name else \
                    [e.value for e in t.target.elements] if type(t.target) in (cst.Tuple, cst.List) else []
                for name in names:
                    if type(name) is cst.Name:
                        defs.setdefault(name.value, []).append((i, n.value, n))
        elif type(n) is cst.For and type(n.target) is cst.Name:
            defs.setdefault(n.target.value, []).append((i, n.iter, n))
    return pos, defs


def _filters_feeding(rec: Rec, pos: dict, defs: dict) -> list:
    """The score-filter assignments the record's values are computed from: each name is followed
    to its last assignment before the use (source order), up to _MAX_STEPS assignments."""
    found, seen = [], set()
    work = [(v, pos.get(id(v), 0)) for v in rec.values]
    steps = 0
    while work and steps < _MAX_STEPS:
        expr, at = work.pop()
        for n in walk(expr):
            if type(n) is not cst.Name:
                continue
            before = [d for d in defs.get(n.value, []) if d[0] < at]
            if not before:
                continue
            p, value, stmt = before[-1]
            if id(stmt) in seen:
                continue
            seen.add(id(stmt))
            steps += 1
            hit = _score_filter(value)
            if hit is not None:
                found.append((stmt, value, hit))
            work.append((value, p))
    return found


def _has_score_filter(o: Rec) -> bool:
    fn = o.scope
    return any(type(n) is cst.Comparison and any(_number(c.comparator) is not None and
                                                  type(c.operator) in (cst.GreaterThan, cst.GreaterThanEqual)
                                                  for c in n.comparisons) for n in walk(fn))


def _parameter_threshold(pair, prog) -> Optional[tuple]:
    """(value or None, code) of the program's score threshold before NMS when it is not a literal
    (an option, an attribute): the threshold the user sets."""
    for info in pl202_nms.collect(pair.ported, prog):
        expr = info.exprs.get("conf")
        if info.conf_filter and expr is not None and _number(expr[1]) is None:
            return info.conf, code(expr[0], expr[1]).strip()
    return None


def _filter_findings(pair, prog, ported: list[Rec], originals: list[Rec], done: set) -> list:
    out = []
    threshold = None
    for r in ported:
        # a record missing fields (the case above) is matched through its list's other records
        o = _writer_for(r, originals) or next((w for x in ported if x.target == r.target and x.scope is r.scope
                                               for w in [_writer_for(x, originals)] if w is not None), None)
        if o is None or _has_score_filter(o):
            continue
        pos, defs = _definitions(r.scope)
        for stmt, value, (literal, comp) in _filters_feeding(r, pos, defs):
            if id(stmt) in done:
                continue
            if threshold is None:
                threshold = _parameter_threshold(pair, prog) or ()
            if not threshold:
                return out
            conf, conf_code = threshold
            if conf is not None and literal < conf:
                continue
            done.add(id(stmt))
            above = "at or above" if type(comp.comparisons[0].operator) in (cst.GreaterThanEqual, cst.LessThanEqual) else "above"
            now = f", {fmt(conf)} here" if conf is not None else ""
            msg = (f"the records written to {r.target} come from rows kept by a literal score filter "
                   f"({code(r.src, stmt).strip()}), not by the program's score threshold ({conf_code}{now}): "
                   f"a run with a lower threshold (a COCO evaluation) still writes only detections scoring {above} "
                   f"{fmt(literal)}; the original's writer ({_writer_name(o)}) writes every detection its NMS kept")
            fix = Fix("display-only", "write the records from the rows before this filter (keep the filter for "
                      "drawing only); not automatic: the record's other fields must index the same rows")
            out.append(RULE.finding(msg, Site(r.src, stmt), Site(o.src, o.node), fix=fix,
                                    related=[(Site(r.src, r.node), "the record is built here")]))
    return out


@guarded
def check(pair) -> list:
    originals = original_writers(pair.original)
    if not originals:
        return []
    findings, seen, done = [], set(), set()
    for prog in pair.ported.programs():
        ported = []
        for src, fn in ran_functions(prog):
            if id(fn) in seen or "append" not in src.text:
                continue
            seen.add(id(fn))
            ported.extend(r for r in records(src, fn) if _dumped(src, r.target))
        if not ported:
            continue
        findings.extend(_field_findings(ported, originals))
        findings.extend(_filter_findings(pair, prog, ported, originals, done))
    return findings
