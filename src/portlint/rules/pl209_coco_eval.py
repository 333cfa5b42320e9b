"""PL209 coco-eval: what a port's evaluation script does to the results before COCOeval.

sophon-demo's programs write a results json and a separate evaluation script (tools/eval_coco.py)
reads it back, converts each record and hands the list to COCOeval. The original evaluates what
its validator wrote (ultralytics' pred_to_json, then eval_json): every detection kept at its
evaluation threshold, each with its detection confidence as the score. Two things the script can
do on the way are compared here:

- a score filter: `if res["score"] < 0.5: continue` (or `if score >= t: out.append(...)`, or a
  comprehension's `if r["score"] > t`) on a record read back from the json. Reported when no
  function of the original filters its records' score at the same threshold (DirectMHP's MAE code
  drops heads below 0.7 on both sides) and the threshold is above the evaluation range (0.1,
  rules/pl202_nms.py EVAL_CONF: below it the filter keeps the low-score tail COCO AP needs).
- the score written: `data["score"] = mean(keypoint confidences) + res["score"]`, computed with
  arithmetic (or sum/mean/max) from the record's fields instead of copying its score, where the
  original's COCO records write one value (`round(p[4], 5)`). COCOeval ranks the detections by
  that score, so the precision/recall curve changes.

An evaluation program is a ported program whose code calls COCOeval (or COCO's loadRes) and reads
a json back (json.load); only the functions it ran are read, so a branch for another --ann_type
(the keypoint converter of a detection script) is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.syntax import call_name, code, functions, walk
from portlint.findings import Fix, TextEdit
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt, guarded, number, ran_functions
from portlint.rules.pl202_nms import EVAL_CONF
from portlint.rules import pl203_coco_rounding as coco
from portlint.rules.pl203_coco_rounding import _key

RULE = RuleMeta("PL209", "other", "warning", ("safe", "display-only"),
                "evaluation script filters or rescores the results before COCOeval")

SCORE_KEYS = ("score", "scores", "conf", "confidence")
# calls that combine several values into one (a re-scoring), as opposed to the casts/roundings of one
_COMBINING = ("sum", "max", "min", "mean", "np.mean", "numpy.mean", "np.sum", "np.max", "np.prod", "math.prod")
_ONE_VALUE = ("float", "round", "np.round", "numpy.round", "int", "np.float32", "np.float64")


# ------------------------------------------------------------------ reading the code


def field_key(node) -> Optional[str]:
    """The key of a record field read: `res["score"]`, `res.get("score", 0)`."""
    if type(node) is cst.Subscript and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return _key(node.slice[0].slice.value)
    if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value == "get" and node.args:
        return _key(node.args[0].value)
    return None


def score_read(node):
    """`res["score"]`, `res.get("score")` (through float()/round()): a record's score read by key."""
    while type(node) is cst.Call and call_name(node) in _ONE_VALUE and node.args:
        node = node.args[0].value
    return node if field_key(node) in SCORE_KEYS else None


def _record_values(fn) -> set:
    """Names in `fn` holding values read from a record's fields (`kpts = res["keypoints"]`,
    `score = kpts[i * 3 + 2]`, `score_list.append(score)`), to a fixed point."""
    tainted: set = set()

    def reads(node) -> bool:
        return any(field_key(x) is not None or (type(x) is cst.Name and x.value in tainted)
                   for x in walk(node, skip_functions=False))

    changed = True
    while changed:
        changed = False
        for n in walk(fn.body):
            target, value = None, None
            if type(n) is cst.Assign and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
                target, value = n.targets[0].target.value, n.value
            elif type(n) is cst.Call and type(n.func) is cst.Attribute and n.func.attr.value == "append" and \
                    type(n.func.value) is cst.Name and n.args:
                target, value = n.func.value.value, n.args[0].value
            elif type(n) is cst.For and type(n.target) is cst.Name:
                target, value = n.target.value, n.iter
            if target is not None and target not in tainted and reads(value):
                tainted.add(target)
                changed = True
    return tainted


def _assignments(fn) -> dict:
    """name -> the values assigned to it in `fn`'s own body (plain `name = value`), in order."""
    out: dict = {}
    for n in walk(fn.body):
        if type(n) is cst.Assign and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
            out.setdefault(n.targets[0].target.value, []).append(n.value)
    return out


def _score_of(node, assigned: dict):
    """The record score `node` stands for: a score read, or a name assigned only one."""
    found = score_read(node)
    if found is None and type(node) is cst.Name:
        values = assigned.get(node.value, [])
        reads = [score_read(v) for v in values]
        if len(values) == 1 and reads[0] is not None:
            found = reads[0]
    return found


@dataclass
class Filter:
    """A record dropped when its score is below `threshold` (a node, `value` its number)."""

    src: object
    fn: object
    stmt: cst.CSTNode  # the If (or the comprehension) doing it
    score: cst.BaseExpression  # the record's score read
    threshold: cst.BaseExpression
    value: Optional[float] = None
    drops: bool = True  # `if ...: continue` (the statement can go); False: a keep-branch
    at_threshold: bool = False  # a score equal to the threshold is dropped too


_LESS = (cst.LessThan, cst.LessThanEqual)
_MORE = (cst.GreaterThan, cst.GreaterThanEqual)


def _compared(test, assigned: dict, below: bool):
    """(score, threshold, whether a score equal to the threshold is dropped) when `test` holds for
    scores below a threshold (`s < t`, `t > s`; below=False: above it, `s > t`, `t < s`)."""
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    op, right, left = test.comparisons[0].operator, test.comparisons[0].comparator, test.left
    first, second = (_LESS, _MORE) if below else (_MORE, _LESS)
    equal = type(op) in (cst.LessThanEqual, cst.GreaterThanEqual)  # the comparison holds at s == t
    s = _score_of(left, assigned)
    if s is not None and isinstance(op, first):
        return s, right, equal == below
    s = _score_of(right, assigned)
    if s is not None and isinstance(op, second):
        return s, left, equal == below
    return None


def _only_continue(body) -> bool:
    stmts = body.body if type(body) is cst.IndentedBlock else [body]
    flat = [s for st in stmts for s in (st.body if type(st) is cst.SimpleStatementLine else [st])]
    return len(flat) == 1 and type(flat[0]) is cst.Continue


def _appends(body) -> bool:
    return any(type(n) is cst.Call and call_name(n).endswith(".append") for n in walk(body))


def filters_in(src, fn) -> list[Filter]:
    """The score filters of one function: `if s < t: continue`, `if s > t: out.append(...)`,
    `[r for r in records if r["score"] > t]`."""
    assigned = _assignments(fn)
    out = []
    for n in walk(fn.body):
        if type(n) is cst.If and not n.orelse:
            hit = _compared(n.test, assigned, below=True)
            if hit is not None and _only_continue(n.body):
                out.append(Filter(src, fn, n, hit[0], hit[1], at_threshold=hit[2]))
                continue
            hit = _compared(n.test, assigned, below=False)
            if hit is not None and _appends(n.body):
                out.append(Filter(src, fn, n, hit[0], hit[1], drops=False, at_threshold=hit[2]))
        elif type(n) in (cst.ListComp, cst.GeneratorExp):
            for f in n.for_in.ifs if n.for_in is not None else ():
                hit = _compared(f.test, assigned, below=False)
                if hit is not None:
                    out.append(Filter(src, fn, n, hit[0], hit[1], drops=False, at_threshold=hit[2]))
    return out


def score_stores(fn):
    """The values stored as a record's "score" in `fn`'s own body: `d["score"] = v`,
    `{"score": v}`, `dict(..., score=v)`."""
    for n in walk(fn.body):
        t = type(n)
        if t is cst.Assign and len(n.targets) == 1 and field_key(n.targets[0].target) == "score" and \
                type(n.targets[0].target) is cst.Subscript:
            yield n.value
        elif t is cst.Dict:
            for e in n.elements:
                if type(e) is cst.DictElement and _key(e.key) == "score":
                    yield e.value
        elif t is cst.Call and call_name(n) == "dict":
            for a in n.args:
                if a.keyword is not None and a.keyword.value == "score":
                    yield a.value


def builds_records(src, fn) -> bool:
    """The function makes the records COCOeval gets: it stores a 'score' into a record or dumps a
    json (a filter in an error metric that only reads the records is not on the way to COCOeval)."""
    if any(type(n) is cst.Call and call_name(n) in ("json.dump", "json.dumps") for n in walk(fn.body)):
        return True
    return next(score_stores(fn), None) is not None


def _literal(node, assigned: dict) -> Optional[float]:
    if type(node) in (cst.Integer, cst.Float):
        return float(node.value)
    if type(node) is cst.Name:
        values = assigned.get(node.value, [])
        if len(values) == 1 and type(values[0]) in (cst.Integer, cst.Float):
            return float(values[0].value)
    return None


def _value(facts, prog, flt: Filter) -> Optional[float]:
    v = _literal(flt.threshold, _assignments(flt.fn))
    if v is None and prog is not None:
        scope = prog.scope_at(flt.fn)
        if scope is not None:
            v = number(facts.evaluate(flt.threshold, scope))
    return v


@dataclass
class Rescore:
    """A score stored into a COCO record, computed from several values."""

    src: object
    fn: object
    value: cst.BaseExpression  # the expression stored
    reads: list  # the record score reads inside it


def _combines(node) -> bool:
    while type(node) is cst.Call and call_name(node) in _ONE_VALUE and node.args:
        node = node.args[0].value
    for n in walk(node, skip_functions=False):
        if type(n) is cst.BinaryOperation:
            return True
        if type(n) is cst.Call and call_name(n) in _COMBINING:
            return True
    return False


def rescores_in(src, fn) -> list[Rescore]:
    """The scores stored into records (score_stores) computed with arithmetic from fields of a
    record read back from the results json."""
    out, tainted = [], None
    for value in score_stores(fn):
        if not _combines(value):
            continue
        tainted = _record_values(fn) if tainted is None else tainted
        if not any(field_key(x) is not None or (type(x) is cst.Name and x.value in tainted)
                   for x in walk(value, skip_functions=False)):
            continue  # computed from the model's outputs, not re-scored from a record read back
        reads = [x for x in walk(value, skip_functions=False) if score_read(x) is x]
        out.append(Rescore(src, fn, value, reads))
    return out


def evaluation_programs(facts) -> list:
    """The side's programs that read a json back and call COCOeval (or loadRes) in their files."""
    out = []
    for prog in facts.programs():
        text = prog.entry.text or ""
        if ("COCOeval" in text or "loadRes" in text) and "json.load" in text:
            out.append(prog)
    return out


# ------------------------------------------------------------------ the original side


def _reads_score_key(text: str) -> bool:
    return any(f'"{k}"' in text or f"'{k}'" in text for k in SCORE_KEYS)


def original_filters(facts) -> list[Filter]:
    """Every score filter in the original side's files (run or not: a validator no program ran)."""
    out = []
    for src in facts.side.files.values():
        if src.module is None or not _reads_score_key(src.text):
            continue
        for fn in functions(src):
            for flt in filters_in(src, fn):
                flt.value = _literal(flt.threshold, _assignments(fn))
                if flt.value is None:
                    flt.value = number(facts.evaluate(flt.threshold, src))
                out.append(flt)
    return out


def original_records(facts) -> list:
    """The original's COCO records (rules/pl203_coco_rounding.py): those its programs write, else
    the library's json writers (pred_to_json)."""
    recs = [r for prog in facts.programs() for r in coco.collect(prog) if not r.extra.get("copied")]
    if not recs:
        recs = [r for _, rs in coco.library_records(facts) for r in rs]
    return [r for r in recs if r.score is not None]


def _closest_record(records: list, keys: set):
    """The record written by the writer that also writes the port record's other fields
    (keypoints, segmentation): where the finding points on the original side."""
    def cost(r):
        text = code(r.src, r.scope) if r.scope is not None else ""
        return -sum(1 for k in keys if f'"{k}"' in text or f"'{k}'" in text)
    return min(records, key=cost) if records else None


def _record_keys(src, fn) -> set:
    keys = set()
    for n in walk(fn.body):
        if type(n) is cst.Assign and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Subscript):
            t = n.targets[0].target
            if len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index):
                k = _key(t.slice[0].slice.value)
                if k in ("keypoints", "segmentation", "bbox"):
                    keys.add(k)
    return keys


# ------------------------------------------------------------------ fixes


def _drop_fix(flt: Filter) -> Fix:
    """Delete `if s < t: continue` (its whole lines) when its block keeps other statements."""
    reason = "evaluate every record of the results json, as the original evaluates every detection its validator wrote"
    sp = span(Site(flt.src, flt.stmt))
    block = _block_of(flt.fn, flt.stmt)
    if flt.drops and sp and block is not None and len(block.body) > 1:
        (l0, _), (l1, c1) = sp
        end = (l1 + 1, 1) if c1 > 1 else (l1, 1)
        return Fix("safe", f"remove the score filter: {reason}", [TextEdit(flt.src.display, (l0, 1), end, "")])
    return Fix("display-only", f"remove the score filter ({reason})")


def _block_of(fn, stmt):
    for n in walk(fn, skip_functions=False):
        if type(n) is cst.IndentedBlock and any(s is stmt for s in n.body):
            return n
    return None


def _copy_fix(r: Rescore) -> Fix:
    if len(r.reads) == 1:
        sp = span(Site(r.src, r.value))
        if sp:
            return Fix("safe", "write the record's own score (the detection confidence), as the original does",
                       [TextEdit(r.src.display, sp[0], sp[1], code(r.src, r.reads[0]))])
    return Fix("display-only", "write the detection's own confidence as the score, as the original does")


# ------------------------------------------------------------------ the rule


def _filter_findings(pair, prog, fns, o_records) -> list:
    out, o_filters = [], None  # the original's filters, read only when the port has one to compare
    for src, fn in fns:
        o = _closest_record(o_records, _record_keys(src, fn))
        o_site = Site(o.src, o.scope) if o is not None and type(o.scope) is cst.FunctionDef else None
        if not builds_records(src, fn):
            continue
        for flt in filters_in(src, fn):
            flt.value = _value(pair.ported, prog, flt)
            if flt.value is None or flt.value < EVAL_CONF:
                continue
            o_filters = o_filters if o_filters is not None else original_filters(pair.original)
            same = [o for o in o_filters if o.value is not None and abs(o.value - flt.value) < 1e-9]
            if same:
                continue
            t = fmt(flt.value)
            others = sorted({fmt(o.value) for o in o_filters if o.value is not None})
            what = (f"the original's score filters are at {', '.join(others)} only" if others else
                    "it evaluates every detection its validator kept")
            cut = f"at or below {t}" if flt.at_threshold else f"below {t}"
            msg = (f"the evaluation script drops every result whose score is {cut} before COCOeval "
                   f"({code(src, flt.stmt.test if type(flt.stmt) is cst.If else flt.stmt).strip()}); no code of the "
                   f"original drops its records below {t}: {what}. The kept "
                   "detections rank as before and the low-score tail of the precision/recall curve is cut, so recall "
                   "and AP can only drop")
            out.append(RULE.finding(msg, Site(src, flt.stmt), o_site, fix=_drop_fix(flt)))
    return out


def _rescore_findings(prog, fns, o_records) -> list:
    if not o_records:
        return []
    out = []
    for src, fn in fns:
        for r in rescores_in(src, fn):
            o = _closest_record(o_records, _record_keys(src, fn))
            if o is None or _combines(o.score):
                continue
            msg = (f"the evaluation script gives COCOeval a score computed from the record's fields "
                   f"({code(src, r.value).strip()}), not the detection's confidence; the original writes "
                   f"{code(o.src, o.score).strip()}. COCOeval ranks detections by score, so the precision/recall "
                   "curve and AP change")
            out.append(RULE.finding(msg, Site(src, r.value), Site(o.src, o.score), fix=_copy_fix(r)))
    return out


@guarded
def check(pair) -> list:
    progs = evaluation_programs(pair.ported)
    if not progs:
        return []
    o_records = original_records(pair.original)
    findings = []
    for prog in progs:
        fns = list(ran_functions(prog))
        findings.extend(_filter_findings(pair, prog, fns, o_records))
        findings.extend(_rescore_findings(prog, fns, o_records))
    return findings
