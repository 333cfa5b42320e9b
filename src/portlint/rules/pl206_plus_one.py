"""PL206, box size: a port that turns a box's width or height into pixels with `+ 1`.

`boxes[:, 2] = boxes[:, 2] * img_w + 1` (yolact's sophon-demo port) makes every box 1 px wider and
taller than the original's `w * img_w`: the old "inclusive pixel" convention (x2 - x1 + 1) applied
to a width that is already a length. COCO's bbox is (x, y, w, h) with no +1 (its own area and IoU
code uses w * h), so each box of the json moves by one pixel on two sides; small boxes lose IoU
(a 10x10 box against its 11x11 copy: IoU 100/121 = 0.83). Reported when the original never scales a
box column with a `+ 1`; the fix drops the `+ 1`.
"""

from __future__ import annotations

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.syntax import code, functions, walk
from portlint.findings import Fix, TextEdit
from portlint.rules.common import ran_functions


def _plus_one_scale(value):
    """`x * size + 1` / `1 + x * size`: the Multiply and the `1` literal, else None."""
    if type(value) is not cst.BinaryOperation or type(value.operator) is not cst.Add:
        return None
    for one, other in ((value.right, value.left), (value.left, value.right)):
        if type(one) is cst.Integer and one.value == "1" and type(other) is cst.BinaryOperation and \
                type(other.operator) is cst.Multiply:
            return other, one
    return None


def _size_columns(target, box_columns) -> bool:
    """`boxes[:, 2]` / `boxes[:, 3]` (a width or a height of an (x, y, w, h) array)."""
    if not box_columns(target):
        return False
    last = target.slice[-1].slice
    return type(last) is cst.Index and type(last.value) is cst.Integer and last.value.value in ("2", "3")


def plus_one_sizes(src, fn, box_columns) -> list:
    out = []
    for n in walk(fn.body):
        if type(n) is cst.Assign and len(n.targets) == 1 and _size_columns(n.targets[0].target, box_columns):
            got = _plus_one_scale(n.value)
            if got is not None:
                out.append((src, n, got[0]))
    return out


def original_has_plus_one(facts, box_columns) -> bool:
    for src in facts.side.files.values():
        if src.module is None or "+ 1" not in src.text and "+1" not in src.text:
            continue
        for fn in functions(src):
            if plus_one_sizes(src, fn, box_columns):
                return True
    return False


def findings(pair, rule, box_columns) -> list:
    if original_has_plus_one(pair.original, box_columns):
        return []
    out, done = [], set()
    for prog in pair.ported.programs():
        for src, fn in ran_functions(prog):
            for s, stmt, scaled in plus_one_sizes(src, fn, box_columns):
                if id(stmt) in done:
                    continue
                done.add(id(stmt))
                wider = code(s, stmt.targets[0].target.slice[-1]).strip().startswith("2")
                msg = (f"ported converts the box size to pixels with + 1 ({code(s, stmt).strip()}); the original "
                       f"scales widths and heights with no + 1: every box comes out 1 px {'wider' if wider else 'taller'} "
                       "(a 10x10 box against its 11x11 copy has IoU 100/121 = 0.83)")
                fix = None
                whole = span(Site(s, stmt.value))
                if whole:
                    # unsafe: the original compared writes no pixel box sizes, so no end-to-end replay
                    # shows the edited stage exact (tests/test_fix_post_replay.py covers safe fixes)
                    fix = Fix("unsafe", "drop the + 1, as the original",
                              [TextEdit(s.display, whole[0], whole[1], code(s, scaled).strip())])
                out.append(rule.finding(msg, Site(s, stmt), None, fix=fix))
    return out
