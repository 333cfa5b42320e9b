"""PL207 mask-threshold: where each program binarises its masks, compared in logit space.

YOLOv5/v8/v9-seg build masks as `coefficients @ prototypes`, a logit, then `.sigmoid()` and keep
pixels `> 0.5`; sophon-demo's ports drop the sigmoid and keep `np.greater(masks, 0.5)`, which is
logit > 0.5, i.e. probability > 0.62. SAM/SAM2 binarise their decoder's logits at
`mask_threshold = 0.0`; the port's `mask > 0.5` is the same shift. A threshold t after a sigmoid
is the logit threshold log(t / (1 - t)) (0 for 0.5), so the two sides are compared as logits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.syntax import call_name, code, functions, params_of, walk
from portlint.findings import Fix, TextEdit
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt, guarded, ran_functions
from portlint.rules import pl207_mask_order as mask_order
from portlint.rules import pl207_mask_unpad as mask_unpad
from portlint.rules.pl207_masks import proto_product, resample_in

RULE = RuleMeta("PL207", "other", "warning", ("safe", "unsafe", "display-only"), "masks binarised at a different threshold")


@dataclass
class Cut:
    """One binarisation of masks: `node` compares against the number `value` (`number` its node);
    `sigmoid` says whether the masks were made probabilities first."""

    src: object
    node: cst.CSTNode
    number: Optional[cst.CSTNode]
    value: float
    sigmoid: bool
    resampled: bool = False  # its function resizes or interpolates the masks before the cut

    @property
    def logit(self) -> Optional[float]:
        if not self.sigmoid:
            return self.value
        if 0 < self.value < 1:
            return math.log(self.value / (1 - self.value))
        return None


def _num(node) -> Optional[float]:
    if type(node) in (cst.Integer, cst.Float):
        return float(node.value)
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus and type(node.expression) in (cst.Integer, cst.Float):
        return -float(node.expression.value)
    return None


def _maskish(node, loop_masks: set) -> bool:
    text = code(None, node) if type(node) in (cst.Name, cst.Attribute) else ""
    if type(node) is cst.Subscript:
        return _maskish(node.value, loop_masks)
    return "mask" in text.lower() or text in loop_masks


def _loop_masks(fn) -> set:
    """`for m in masks[0, :, :, :]:` -> {'m'}: names bound to one mask of a mask array."""
    out = set()
    for n in walk(fn.body):
        if type(n) is cst.For and type(n.target) is cst.Name:
            it = n.iter.value if type(n.iter) is cst.Subscript else n.iter
            if type(it) in (cst.Name, cst.Attribute) and "mask" in code(None, it).lower():
                out.add(n.target.value)
    return out


def _sigmoid_in(src, fn) -> bool:
    for n in walk(fn.body):
        if type(n) is cst.Call:
            name = call_name(n).lower()
            if name.endswith("sigmoid") or name.endswith("sigmoid_") or name in ("np.exp", "numpy.exp", "torch.exp", "math.exp"):
                return True
    return False


def cuts_in(src, fn) -> list[Cut]:
    """The mask binarisations of one function: `x > t`, `np.greater(x, t)`, `x.gt(t)`/`.gt_(t)`."""
    loops = _loop_masks(fn)
    sig = _sigmoid_in(src, fn)
    resampled = resample_in(src, fn)
    out = []
    for n in walk(fn.body):
        if type(n) is cst.Comparison and len(n.comparisons) == 1 and isinstance(n.comparisons[0].operator, (cst.GreaterThan, cst.GreaterThanEqual)):
            comp = n.comparisons[0].comparator
            v = _num(comp)
            if v is not None and (_maskish(n.left, loops)):
                out.append(Cut(src, n, comp, v, sig, resampled))
        elif type(n) is cst.Call and n.args:
            name = call_name(n)
            last = name.rsplit(".", 1)[-1]
            if last == "greater" and len(n.args) == 2 and _num(n.args[1].value) is not None and (
                    _maskish(n.args[0].value, loops)):
                out.append(Cut(src, n, n.args[1].value, _num(n.args[1].value), sig, resampled))
            elif last in ("gt", "gt_") and type(n.func) is cst.Attribute and _num(n.args[0].value) is not None and (
                    _maskish(n.func.value, loops)):
                out.append(Cut(src, n, n.args[0].value, _num(n.args[0].value), sig, resampled))
    return out


def proto_cuts(src, fn) -> list[Cut]:
    """Binarisations in a function that builds masks from prototypes (whatever the masks' name)."""
    return cuts_in(src, fn) if proto_product(src, fn) else []


def original_cuts(facts) -> tuple[list[Cut], list[Cut]]:
    """(prototype-mask cuts, logit thresholds named mask_threshold) in the original side's files."""
    protos, named = [], []
    for src in facts.side.files.values():
        if src.module is None or "mask" not in src.text:
            continue
        has_proto = "proto" in src.text
        for fn in functions(src):
            if has_proto:
                protos.extend(proto_cuts(src, fn))
            if "mask_threshold" in params_of(fn):
                default = _param_default(fn, "mask_threshold")
                if default is not None and _num(default) is not None:
                    named.append(Cut(src, default, default, _num(default), False))
    return protos, named


def _param_default(fn, name):
    p = fn.params
    for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        if param.name.value == name:
            return param.default
    return None


def _fix(cut: Cut, ref: Cut) -> Optional[Fix]:
    """Safe when it is exact pixel by pixel: the original thresholds logits too, or no resize sits
    between a sigmoid and a cut on either side (sigmoid-then-bilinear is not bilinear-then-sigmoid:
    tests/test_fix_post_replay.py measures 16198 of 89054 mask pixels on YOLOv8-seg)."""
    sp = span(Site(cut.src, cut.number))
    if not sp:
        return None
    exact = not ref.sigmoid or not (ref.resampled or cut.resampled)
    why = "" if exact else ("; not exact: the original resizes after its sigmoid, and a resize of probabilities "
                            "is not a resize of logits")
    return Fix("safe" if exact else "unsafe",
               f"compare the logits with {fmt(ref.logit)} (the original's threshold in logit space){why}",
               [TextEdit(cut.src.display, sp[0], sp[1], fmt(ref.logit))])


def _message(p: Cut, o: Cut) -> str:
    ported = f"ported binarises its masks with {code(p.src, p.node).strip()}"
    ported += " after a sigmoid" if p.sigmoid else " on the logits (no sigmoid)"
    if o.sigmoid:
        orig = f"the original at {fmt(o.value)} after a sigmoid, i.e. logit > {fmt(o.logit)}"
    else:
        orig = f"the original at logit > {fmt(o.value)}"
    return (f"{ported}; {orig}: pixels with a logit between {fmt(min(o.logit, p.logit))} and "
            f"{fmt(max(o.logit, p.logit))} fall on different sides, so the masks differ along every edge")


def _from_outside(src, fn, cut: Cut) -> bool:
    """The binarised masks come into the function (a parameter, one item of a parameter, or a
    value computed from one), not made inside it (`np.zeros(...)` filled with polygons)."""
    node = cut.node.left if type(cut.node) is cst.Comparison else (
        cut.node.args[0].value if call_name(cut.node).rsplit(".", 1)[-1] == "greater" else cut.node.func.value)
    while type(node) in (cst.Subscript, cst.Attribute):
        node = node.value
    if type(node) is not cst.Name:
        return False
    params = set(params_of(fn))
    name = node.value
    for _ in range(3):
        if name in params:
            return True
        source = None
        for n in walk(fn.body):  # the last binding of the name: a loop over, or an assignment from
            if type(n) is cst.For and type(n.target) is cst.Name and n.target.value == name:
                source = n.iter
            if type(n) is cst.Assign and any(type(t.target) is cst.Name and t.target.value == name for t in n.targets):
                source = n.value
        first = next((x for x in walk(source) if type(x) is cst.Name), None) if source is not None else None
        if first is None or first.value == name:
            return False
        name = first.value
    return False


def _reported(cut: Cut, ref: Cut) -> bool:
    """Compared in logit space; a port thresholding after a sigmoid against an original whose
    activation is not read here (yolact's cfg.mask_proto_mask_activation) is left alone."""
    if cut.logit is None or ref.logit is None or abs(cut.logit - ref.logit) < 1e-9:
        return False
    return not (cut.sigmoid and not ref.sigmoid)


@guarded
def check(pair) -> list:
    return mask_order.findings(pair, RULE) + mask_unpad.findings(pair, RULE) + _threshold_findings(pair)


def _threshold_findings(pair) -> list:
    o_protos, o_named = original_cuts(pair.original)
    if not o_protos and not o_named:
        return []
    findings, done = [], set()
    for prog in pair.ported.programs():
        fns = list(ran_functions(prog))
        any_sigmoid = any(_sigmoid_in(src, fn) for src, fn in fns)
        files = {id(src): src for src, _ in fns}
        for src, fn in fns:
            if o_protos and proto_product(src, fn):
                cuts, ref = proto_cuts(src, fn), o_protos[0]
            else:
                continue
            findings.extend(_findings(src, cuts, ref, done))
        if o_named and not any_sigmoid and not any(o_protos and proto_product(src, fn) for src, fn in fns):
            for src in files.values():  # the helpers of the files it ran, run or not (a dataset-mode json writer)
                for fn in functions(src):
                    cuts = [c for c in cuts_in(src, fn) if _from_outside(src, fn, c)]
                    findings.extend(_findings(src, cuts, o_named[0], done))
    return findings


def _findings(src, cuts, ref, done) -> list:
    out = []
    for cut in cuts:
        if id(cut.node) in done or not _reported(cut, ref):
            continue
        done.add(id(cut.node))
        fix = _fix(cut, ref) if not cut.sigmoid else None
        out.append(RULE.finding(_message(cut, ref), Site(src, cut.node), Site(ref.src, ref.node), fix=fix))
    return out
