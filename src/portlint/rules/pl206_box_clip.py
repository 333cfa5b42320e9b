"""PL206 box-clip: how each program clamps its boxes to the image after scaling them back.

sophon-demo's YOLO post-processing clips with `coords[:, [0, 2]].clip(0, org_w - 1)`, where
ultralytics' and YOLOv5's `clip_boxes`/`clip_coords` clamp to `[0, w]` (`.clamp(0, shape[1])`):
a box touching the right or bottom border comes out 1 px narrower in the port. Some originals do
not clip at all (bubbliiiing's `yolo_correct_boxes`), so the port's clip moves every box that
reaches past the border. And a clip whose result is thrown away (`np.where(boxes[:, 0] < 0, 0,
boxes[:, 0])` as a statement) clips nothing.

Box coordinates are recognised by their subscript (`boxes[:, [0, 2]]`, `coords[..., 1]`,
`x[:, 0:4:2]`) or a name mentioning box/coord; keypoints and masks are left alone.
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
from portlint.rules.common import guarded, ran_functions
from portlint.rules import pl206_plus_one as plus_one

RULE = RuleMeta("PL206", "other", "warning", ("safe", "unsafe"), "boxes clipped to the image differently")

_CLIP_METHODS_NAMES = ("clip", "clamp", "clamp_", "clip_")
_CLIP_FUNCS = ("np.clip", "numpy.clip", "torch.clamp", "torch.clip")
_WHERE_FUNCS = ("np.where", "numpy.where", "np.clip", "numpy.clip", "np.minimum", "np.maximum", "numpy.minimum", "numpy.maximum")
_BOXY = ("box", "coord", "bbox")


@dataclass
class Clip:
    """One clamp of box coordinates: the statement, the upper-bound node and its style."""

    src: object
    stmt: cst.CSTNode
    upper: Optional[cst.BaseExpression]
    style: str  # "size" (to w / h), "minus-one" (to w - 1 / h - 1), "discarded" (result thrown away)
    fn: object = None  # the function holding it


def _rank(clip: Clip) -> int:
    """A clamp inside a helper named like one (clip_boxes, clip_coords) is the one to cite."""
    name = clip.fn.name.value.lower() if type(clip.fn) is cst.FunctionDef else ""
    named = "clip" in name or "clamp" in name
    return 0 if named and any(w in name for w in _BOXY) else 1 if named else 2


def _index_ints(node) -> list:
    if type(node) is cst.Integer:
        return [int(node.value)]
    if type(node) in (cst.List, cst.Tuple):
        return [v for e in node.elements for v in _index_ints(e.value)]
    return []


def box_columns(node) -> bool:
    """`boxes[:, [0, 2]]`, `coords[..., 1]`, `x[:, 0:4:2]`, `boxes[:, 3]`: coordinates of a box
    array (the last index is a column within 0..3 of an array whose name says box/coord, or a
    pair of columns [0, 2] / [1, 3])."""
    if type(node) is not cst.Subscript or not node.slice:
        return False
    last = node.slice[-1].slice
    base = code(None, node.value) if type(node.value) in (cst.Name, cst.Attribute) else ""
    boxy = any(w in base.lower() for w in _BOXY)
    if type(last) is cst.Index:
        cols = _index_ints(last.value)
        if sorted(cols) in ([0, 2], [1, 3]):
            return True
        return boxy and len(node.slice) >= 2 and len(cols) == 1 and 0 <= cols[0] <= 3
    if type(last) is cst.Slice:
        return boxy and type(last.upper) is cst.Integer and last.upper.value == "4"
    return False


def _minus_one(node) -> bool:
    return type(node) is cst.BinaryOperation and type(node.operator) is cst.Subtract and \
        type(node.right) is cst.Integer and node.right.value == "1"


def _upper(call: cst.Call, method: bool) -> Optional[cst.BaseExpression]:
    """The upper bound of a clip/clamp call: the `max=` keyword or the positional after the low one."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value in ("max", "a_max"):
            return a.value
    pos = [a.value for a in call.args if a.keyword is None]
    i = 1 if method else 2
    return pos[i] if len(pos) > i else None


def _clipped(call: cst.Call) -> Optional[tuple]:
    """(clipped expression, upper bound) of a clip/clamp call, else None."""
    name = call_name(call)
    if name in _CLIP_FUNCS:
        return (call.args[0].value, _upper(call, False)) if call.args else None
    if type(call.func) is cst.Attribute and call.func.attr.value in _CLIP_METHODS_NAMES:
        return call.func.value, _upper(call, True)
    return None


def _boxy_name(node) -> bool:
    return type(node) is cst.Name and any(w in node.value.lower() for w in _BOXY)


def clips_in(src, fn) -> list[Clip]:
    """The box clamps a function's own code makes."""
    out = []
    for n in walk(fn.body if type(fn) is cst.FunctionDef else fn):
        if type(n) is cst.Assign and len(n.targets) == 1 and type(n.value) is cst.Call:
            got = _clipped(n.value)
            target = n.targets[0].target
            if got and (box_columns(target) or box_columns(got[0]) or _boxy_name(target)):
                out.append(Clip(src, n, got[1], "minus-one" if _minus_one(got[1]) else "size", fn))
        elif type(n) is cst.Expr and type(n.value) is cst.Call:
            name = call_name(n.value)
            got = _clipped(n.value)
            if got and name.endswith("_") and (box_columns(got[0]) or _boxy_name(got[0])):
                out.append(Clip(src, n, got[1], "minus-one" if _minus_one(got[1]) else "size", fn))
            elif name in _WHERE_FUNCS and any(box_columns(a.value) for a in n.value.args):
                out.append(Clip(src, n, None, "discarded", fn))
    return out


def original_clips(facts) -> tuple[list[Clip], bool]:
    """Every box clamp in the original side's files, and whether any helper named like a box clip
    (`clip_boxes_to_image`, a `max_shape=` decode) is called, which clamps in a way not read here."""
    found, other = [], False
    for src in facts.side.files.values():
        if src.module is None or ("clip" not in src.text and "clamp" not in src.text):
            continue
        for fn in functions(src):
            found.extend(c for c in clips_in(src, fn) if c.style != "discarded")
        if "clip_boxes_to_image" in src.text or "max_shape=" in src.text:
            other = True
    found.sort(key=_rank)
    return found, other


def ported_clips(prog) -> list[list[Clip]]:
    """The box clamps of each function the ported program ran, grouped per function."""
    out = []
    for src, fn in ran_functions(prog):
        clips = clips_in(src, fn)
        if clips:
            out.append(clips)
    return out


def _size_fix(clips: list[Clip]) -> Optional[Fix]:
    edits = []
    for c in clips:
        if c.style != "minus-one":
            continue
        sp = span(Site(c.src, c.upper))
        if not sp:
            return None
        edits.append(TextEdit(c.src.display, sp[0], sp[1], code(c.src, c.upper.left)))
    return Fix("safe", "clip to the image width/height as the original ([0, w] x [0, h])", edits) if edits else None


def _findings(group: list[Clip], o_clips: list[Clip], o_other: bool) -> list:
    out = []
    minus = [c for c in group if c.style == "minus-one"]
    o_size = [c for c in o_clips if c.style == "size"]
    o_minus = [c for c in o_clips if c.style == "minus-one"]
    if minus and not o_minus:
        first = minus[0]
        related = [(Site(c.src, c.stmt), "also clipped to the size minus one here") for c in minus[1:]]
        if o_size:
            msg = ("ported clips the boxes to [0, w-1] x [0, h-1] (" + code(first.src, first.stmt).strip() +
                   "); the original clamps them to [0, w] x [0, h]: a box touching the right or bottom border "
                   "comes out 1 px smaller")
            out.append(RULE.finding(msg, Site(first.src, first.stmt), Site(o_size[0].src, o_size[0].stmt),
                                    fix=_size_fix(minus), related=related))
        elif not o_other:
            msg = ("ported clips the boxes to [0, w-1] x [0, h-1] (" + code(first.src, first.stmt).strip() +
                   "); the original does not clip its boxes: every box reaching past the image border is saved "
                   "differently")
            out.append(RULE.finding(msg, Site(first.src, first.stmt), None, related=related))
    discarded = [c for c in group if c.style == "discarded"]
    if discarded and (o_clips or o_other):
        first = discarded[0]
        related = [(Site(c.src, c.stmt), "result discarded here too") for c in discarded[1:]]
        msg = ("ported clips the boxes with " + code(first.src, first.stmt).strip() + " and throws the result away: "
               "its boxes are never clipped, the original's are")
        osite = Site(o_clips[0].src, o_clips[0].stmt) if o_clips else None
        out.append(RULE.finding(msg, Site(first.src, first.stmt), osite, related=related))
    return out


def _last(call) -> str:
    return call_name(call).rsplit(".", 1)[-1]


def max_shape_decodes(facts) -> dict:
    """{helper name: (file, call)} for the original's box decodes that clamp through `max_shape=`
    (mmdet's `distance2bbox(points, pred, max_shape=img_shape)`)."""
    out = {}
    for src in facts.side.files.values():
        if src.module is None or "max_shape=" not in src.text:
            continue
        for n in walk(src.module, skip_functions=False):
            if type(n) is cst.Call and any(a.keyword is not None and a.keyword.value == "max_shape" for a in n.args):
                out.setdefault(_last(n), (src, n))
    return out


def _unclamped_decodes(prog, decodes: dict, done: set) -> list:
    """The port calls the same decode helper without `max_shape` (and without a third positional
    argument): its boxes are not clamped to the image, the original's are."""
    out = []
    if not decodes:
        return out
    for src, fn in ran_functions(prog):
        for n in walk(fn.body):
            if type(n) is not cst.Call or id(n) in done:
                continue
            hit = decodes.get(_last(n))
            if hit is None or any(a.keyword is not None and a.keyword.value == "max_shape" for a in n.args) or \
                    len([a for a in n.args if a.keyword is None]) >= 3:
                continue
            done.add(id(n))
            msg = (f"ported decodes boxes with {code(src, n).strip()} without max_shape; the original passes "
                   f"max_shape ({code(hit[0], hit[1]).strip()}), clamping every box to the image: boxes of objects "
                   "cut by the border extend outside it in the port")
            out.append(RULE.finding(msg, Site(src, n), Site(hit[0], hit[1])))
    return out


@guarded
def check(pair) -> list:
    o_clips, o_other = original_clips(pair.original)
    decodes = max_shape_decodes(pair.original)
    findings, done = [], set()
    for prog in pair.ported.programs():
        for group in ported_clips(prog):
            key = id(group[0].stmt)
            if key in done:
                continue
            done.add(key)
            findings.extend(_findings(group, o_clips, o_other))
        findings.extend(_unclamped_decodes(prog, decodes, done))
    findings.extend(plus_one.findings(pair, RULE, box_columns))
    return findings
