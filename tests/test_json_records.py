"""PL208's readers on small functions: the record spellings (a literal appended, dict(...), a dict
filled key by key), the literal score filters, and which assignment a written value comes from."""

from __future__ import annotations

import textwrap

import libcst as cst

from portlint.analysis.syntax import code, functions
from portlint.rules import pl208_json_records as pl208


class _Src:
    def __init__(self, text: str):
        self.text = textwrap.dedent(text)
        self.module = cst.parse_module(self.text)
        self.display = "x.py"


def _fn(text: str):
    src = _Src(text)
    return src, next(functions(src))


def _filters(text: str) -> list:
    src, fn = _fn(text)
    pos, defs = pl208._definitions(fn)
    return [[code(src, s).strip() for s, _, _ in pl208._filters_feeding(r, pos, defs)] for r in pl208.records(src, fn)]


def test_record_spellings():
    src, fn = _fn("""
    def save(self, det, name):
        self.results.append({"image_id": name, "score": float(det[0, 4])})
        self.results.append(dict(image_id=name, keypoints=det[0, 5:].tolist()))
        rec = {}
        rec["image_id"] = name
        rec["keypoints"] = []
        rec["keypoints"].extend(det[1, 5:].tolist())
        results.append(rec)
    """)
    recs = pl208.records(src, fn)
    assert [(sorted(r.keys), r.target) for r in recs] == [
        (["image_id", "score"], "self.results"), (["image_id", "keypoints"], "self.results"),
        (["image_id", "keypoints"], "results")]
    assert [code(src, v) for v in recs[2].values] == ["name", "[]", "det[1, 5:].tolist()"]


def test_score_filter_spellings():
    for expr, literal in (("det[det[:, 4] > 0.25]", 0.25), ("det[det[:, -2] >= 0.3, :]", 0.3),
                          ("[d for d in det if d[4] > 0.5]", 0.5), ("det[0.25 < det[:, 4]]", 0.25)):
        hit = pl208._score_filter(cst.parse_expression(expr))
        assert hit is not None and hit[0] == literal, expr
    for expr in ("det[det[:, 4] > conf]", "det[:, 5:]", "det[det[:, 4] < 0.25]", "[d for d in det]"):
        assert pl208._score_filter(cst.parse_expression(expr)) is None, expr


def test_written_values_follow_their_last_assignment():
    # the filter feeds the json through kpts and x; the drawing filter of `shown` feeds nothing written
    assert _filters("""
    def main(det, name, results_list):
        shown = det[det[:, 4] > 0.5]
        det_draw = det[det[:, 4] > 0.25]
        kpts = det_draw[:, 5:]
        for n in range(kpts.shape[0]):
            x, y, s = kpts[n, 0:3]
            results_list.append({"image_name": name, "score": det[n, 4], "keypoints": [x, y, s]})
    """) == [["det_draw = det[det[:, 4] > 0.25]"]]
    # reassigned from the unfiltered rows before the record: the filter no longer reaches it
    assert _filters("""
    def main(det, name, results_list):
        kpts = det[det[:, 4] > 0.25]
        draw(kpts)
        kpts = det[:, 5:]
        for n in range(kpts.shape[0]):
            results_list.append({"image_name": name, "score": det[n, 4], "keypoints": kpts[n].tolist()})
    """) == [[]]
