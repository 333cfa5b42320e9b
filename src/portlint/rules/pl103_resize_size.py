"""PL103 resize-size: a different target size or size semantics: torchvision `Resize(int)`
(shorter side, aspect kept) vs a fixed size, (w, h) vs (h, w), keep-ratio vs stretch, rounding.
Sizes are compared numerically at the sample image sizes (rules/common.SAMPLES); two keep-ratio sizes
are also compared over a sweep of image sizes (rules/size_sweep.py), where truncation vs rounding
shows. After the model, `check` compares the size of a dense prediction (rules/pl103_dense_output.py):
the original resizes its segmentation logits to the image's size, the port keeps the network's."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.analysis.ops import Resize
from portlint.analysis.locate import span
from portlint.analysis.values import UNKNOWN, Sym, sym_vars
from portlint.findings import Fix
from portlint.rules.assumed import at_candidate_strides
from portlint.rules.base import RuleMeta
from portlint.rules import pl103_dense_output as dense_output
from portlint.rules.common import guarded, samples, eval_pair, first_or_start, fmt_num, fmt_size, ops_of, site_of
from portlint.rules.fixkit import edit, from_import, import_alias, insert_after_imports, node_code
from portlint.rules.resize import describe, resize_pairs
from portlint.rules.size_sweep import sweep

RULE = RuleMeta("PL103", "resize-size", "error", ("safe", "display-only"),
                "Resize target size or size semantics differ (shorter side, (w,h) vs (h,w), keep-ratio vs stretch)")


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    o_res, p_res = ops_of(o, "resize"), ops_of(p, "resize")
    if o_res and not p_res:
        op = o_res[0]
        return [RULE.finding(
            f"original resizes ({describe(op, ctx.env(*samples(ctx)[0]))} for a {samples(ctx)[0][1]}x{samples(ctx)[0][0]} image); "
            "the ported program never resizes before the model", site_of(first_or_start(p, "decode")), op.site)]
    findings = []
    for ro, rp in resize_pairs(o, p):
        findings.extend(compare_pair(ro, rp, ctx))
    return findings


@guarded
def check(pair) -> list:
    """After the model: the dense prediction's size (rules/pl103_dense_output.py)."""
    return dense_output.findings(pair, RULE)


def fixes_call(ro: Resize, rp: Resize, ctx: PairContext) -> bool:
    """Whether this rule's fix for the pair rewrites the ported resize call itself (PL101 then
    leaves the call to it: the shorter-side resize it inserts antialiases too)."""
    start = _call_start(rp)
    return any(f.fix is not None and f.fix.edits and f.fix.edits[0].start == start for f in compare_pair(ro, rp, ctx))


def _call_start(op: Resize):
    sp = span(op.site) if op.site is not None else None
    return sp[0] if sp else None


def compare_pair(ro: Resize, rp: Resize, ctx: PairContext) -> list:
    found = _compare_pair(ro, rp, ctx)
    if found:
        return found
    # sizes computed from the model's stride: compared at the strides detectors have, said so
    return at_candidate_strides(ctx, (ro.out, ro.in_, rp.out, rp.in_), lambda c: _compare_pair(ro, rp, c))


def _compare_pair(ro: Resize, rp: Resize, ctx: PairContext) -> list:
    evaluated = False
    for h, w in samples(ctx):
        env = ctx.env(h, w)
        oo, op_ = eval_pair(ro.out, env), eval_pair(rp.out, env)
        if oo is None or op_ is None:
            continue
        evaluated = True
        if abs(oo[0] - op_[0]) < 0.5 and abs(oo[1] - op_[1]) < 0.5:
            continue
        if abs(oo[0] - op_[1]) < 0.5 and abs(oo[1] - op_[0]) < 0.5:
            msg = (f"ported resize swaps width and height: the original resizes a {w}x{h} image to {fmt_size(oo)} (w x h), "
                   f"the ported one to {fmt_size(op_)}; {'cv2.resize and PIL take (width, height)' if rp.order == 'wh' else 'torchvision takes (height, width)'}")
            return [RULE.finding(msg, rp.site, ro.site, fix=swap_fix(ro, rp))]
        if _swapped_bmodel_dims(rp.out):
            expected = "(width, height)" if rp.order == "wh" else "(height, width)"
            msg = (f"ported resize passes the bmodel's height and width in the wrong order for an API taking {expected}: "
                   f"it resizes to {fmt_size(op_)} (w x h) where the model takes {fmt_size(op_[::-1])}; the original resizes to {fmt_size(oo)}")
            return [RULE.finding(msg, rp.site, ro.site, fix=swap_fix(ro, rp))]
        sem_o, sem_p = _semantics(ro), _semantics(rp)
        same = sem_o == sem_p
        severity, swept_note = None, ""
        if same and sem_o == KEEP_RATIO and abs(oo[0] - op_[0]) <= 1 and abs(oo[1] - op_[1]) <= 1:
            swept = sweep(ro.out, rp.out, env)
            if swept is not None and not swept.reportable():
                return []  # exact ties or float representation only (rules/size_sweep.py)
            if swept is not None:
                severity, swept_note = "warning", f"; {swept.describe()}"
        msg = (f"for a {w}x{h} image the original resizes to {fmt_size(oo)}, the ported program to {fmt_size(op_)}"
               + (f" (both {sem_o}; {_how_rounded(ro, rp)})" if same else f" ({sem_o} vs {sem_p})") + swept_note)
        where, related = rp.site, []
        if (sem_o, sem_p) == ("fixed size", "keep the aspect ratio"):
            where, related, note = _decision(ctx, rp)
            msg += f"; {note}" if note else ""
        elif same:
            where, related = _size_defined(ctx, rp)
        return [RULE.finding(msg, where, ro.site, severity=severity, fix=shorter_side_fix(ro, rp, ctx), related=related)]
    if evaluated and _semantics(ro) == _semantics(rp) == KEEP_RATIO:
        found = _swept_difference(ro, rp, ctx)
        if found:
            return found
    # semantics, knowable without numbers: shorter-side resize vs a size independent of the image
    out = rp.out
    if ro.mode == "shorter" and isinstance(out, tuple) and len(out) == 2 and not any(
            {"H", "W"} & sym_vars(v) for v in out) and all(v is not UNKNOWN for v in out):
        target = ro.size_arg
        msg = (f"original resizes the shorter side to {fmt_num(target) if isinstance(target, (int, float)) else target} keeping "
               "the aspect ratio; the ported program resizes every image to one fixed size, stretching it")
        return [RULE.finding(msg, rp.site, ro.site, fix=shorter_side_fix(ro, rp, ctx))]
    # symbolic (w, h) order check when the ported size comes from the bmodel at run time
    if not evaluated and _swapped_bmodel_dims(out):
        expected = "(width, height)" if rp.order == "wh" else "(height, width)"
        given = "(net_h, net_w)" if rp.order == "wh" else "(net_w, net_h)"
        msg = (f"ported resize passes {given} where {expected} is expected: the image gets the model's height as its "
               "width; aligned only if the bmodel input is square (give --input-shape or --bmodel to know)")
        return [RULE.finding(msg, rp.site, ro.site, severity="warning", fix=swap_fix(ro, rp))]
    return []


def _swept_difference(ro: Resize, rp: Resize, ctx: PairContext) -> list:
    """Keep-ratio sizes that agree at every sample size but differ on other image sizes
    (truncation vs rounding): found by sweeping a grid of sizes (rules/size_sweep.py). Not when the
    user gave the image sizes of their data (--image-size): those are compared exactly already."""
    if getattr(ctx, "image_sizes", None):
        return []
    swept = sweep(ro.out, rp.out, ctx.env(*samples(ctx)[0]))
    if swept is None or not swept.reportable():
        return []
    h, w = swept.size
    sizes = ", ".join(f"{sw}x{sh}" for sh, sw in samples(ctx))
    msg = (f"for a {w}x{h} image the original resizes to {fmt_size(swept.original)}, the ported program to "
           f"{fmt_size(swept.ported)} (both {KEEP_RATIO}; {_how_rounded(ro, rp)}); {swept.describe()} "
           f"(the sample sizes {sizes} happen to agree)")
    where, related = _size_defined(ctx, rp)
    return [RULE.finding(msg, where, ro.site, severity="warning" if swept.max_diff <= 1 else None, related=related)]


def _how_rounded(ro: Resize, rp: Resize) -> str:
    """`the original truncates (int(x)), the ported program rounds (int(round(x)))` when the size
    expressions say so, else the general words."""
    o, p = _rounding(ro.out), _rounding(rp.out)
    if o and p and o != p:
        return f"the original {o}, the ported program {p}"
    return "the sizes are computed or rounded differently"


_ROUNDINGS = {"int": "truncates (int(x))", "round": "rounds (round(x))", "floor": "floors (math.floor)",
              "ceil": "rounds up (math.ceil)"}


def _rounding(value) -> Optional[str]:
    """How an (h, w) size expression turns its product into whole pixels: the first rounding
    operator met from the top (through min/max and conditionals)."""
    if isinstance(value, tuple):
        return next((r for r in map(_rounding, value) if r), None)
    if not isinstance(value, Sym):
        return None
    if value.op == "int" and value.args and isinstance(value.args[0], Sym):
        inner = value.args[0]
        if inner.op == "round":
            return "rounds (int(round(x)))"
        if inner.op == "add" and any(a == 0.5 for a in inner.args if isinstance(a, float)):
            return "rounds half up (int(x + 0.5))"
    if value.op in _ROUNDINGS:
        return _ROUNDINGS[value.op]
    if value.op in ("min", "max", "ifelse"):
        args = value.args[1:] if value.op == "ifelse" else value.args
        return next((r for r in map(_rounding, args) if r), None)
    return None


def _size_defined(ctx: PairContext, rp: Resize):
    """Sizes computed or rounded differently: the finding points at the statement that computes
    the ported size (`new_unpad = int(round(w * r)), ...`), with the resize as a related place."""
    from portlint.analysis.image import Site
    from portlint.rules.origin import defined_at

    if rp.site is None:
        return rp.site, []
    for use in _size_uses(rp):
        found = defined_at(ctx.ported_facts, use, unique=True)
        if found is not None and not found.literal:
            return found.site, found.related(rp.site, "the resize uses the size here")
        rounded = _rounding_assignment(use)
        if rounded is not None:
            return rounded, [(rp.site, "the resize uses the size here")]
    return rp.site, []


def _size_uses(rp: Resize) -> list:
    """Where the resize reads its size: the size argument, or for a SAIL padding resize the
    `attr.set_w(tw)` / `attr.set_h(th)` arguments."""
    from portlint.analysis.image import Site

    if rp.size_node is not None:
        return [Site(rp.site.file, rp.size_node.value)]
    return [s for s in (rp.size_sites or {}).values() if s is not None]


def _rounding_assignment(use):
    """A size name assigned several times in its function (`new_unpad = int(round(w * r)), ...`
    and, in a `scaleFill` branch, `new_unpad = (new_shape[1], new_shape[0])`): the one assignment
    before the use that rounds a computed number (int/round/math.floor/ceil), if there is one."""
    from portlint.analysis.image import Site
    from portlint.analysis.syntax import enclosing_function, walk

    node = use.node
    if type(node) is not cst.Name:
        return None
    fn = enclosing_function(use.file, node)
    if type(fn) is not cst.FunctionDef:
        return None
    rounded = []
    for n in walk(fn.body):
        if n is node:
            break
        if type(n) is cst.Assign and any(type(t.target) is cst.Name and t.target.value == node.value for t in n.targets):
            if any(type(c) is cst.Call and type(c.func) is cst.Name and c.func.value in ("int", "round")
                   or type(c) is cst.Call and type(c.func) is cst.Attribute and c.func.attr.value in ("floor", "ceil")
                   for c in walk(n.value)):
                rounded.append(n.value)
    return Site(use.file, rounded[0]) if len(rounded) == 1 else None


def _decision(ctx: PairContext, rp: Resize):
    """A port that letterboxes where the original stretches chose the letterbox somewhere: a
    switch (`self.use_resize_padding = True`) or the call of its letterbox helper. The finding
    points there, with the resize as a related place."""
    from portlint.rules.origin import decision_site

    found = decision_site(ctx.ported_facts, rp.site)
    if found is None:
        return rp.site, [], ""
    site, note = found
    return site, [(rp.site, "the keep-ratio resize is here")], note


def _swapped_bmodel_dims(out) -> bool:
    """The resize target (h, w) is literally the bmodel's (W, H)."""
    if isinstance(out, tuple) and len(out) == 2 and all(isinstance(v, Sym) and v.op == "var" for v in out):
        return (out[0].args[0], out[1].args[0]) == ("bmodel.input.d3", "bmodel.input.d2")
    return False


KEEP_RATIO = "keep the aspect ratio"


def _semantics(op: Resize) -> str:
    if op.mode == "shorter":
        return "resize the shorter side"
    out = op.out
    if isinstance(out, tuple) and any({"H", "W"} & sym_vars(v) for v in out):
        return KEEP_RATIO
    return "fixed size"


# ------------------------------------------------------------------ fixes

def swap_fix(ro: Resize, rp: Resize) -> Optional[Fix]:
    node = rp.size_node
    if node is None:
        return None
    site = rp.site
    if type(node.value) in (cst.Tuple, cst.List) and len(node.value.elements) == 2:
        a, b = node.value.elements
        ca, cb = node_code(site, a.value), node_code(site, b.value)
        open_, close = ("(", ")") if type(node.value) is cst.Tuple else ("[", "]")
        new = f"{open_}{cb}, {ca}{close}"
    elif type(node.value) in (cst.Name, cst.Attribute, cst.Subscript):
        code = node_code(site, node.value)
        new = f"({code}[1], {code}[0])"
    else:
        return None
    order = "(width, height)" if rp.order == "wh" else "(height, width)"
    e = edit(site, node.value, new)
    return Fix("safe", f"swap to {order}", [e]) if e else None


HELPER = '''

def {name}(img, size, crop):
    """torchvision Resize(size) + CenterCrop(crop) on an HWC uint8 array (inserted by portlint fix)."""
    h, w = img.shape[:2]
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_w, new_h = int(size * w / h), size
    img = np.asarray(Image.fromarray(img).resize((new_w, new_h), Image.BILINEAR))
    top = int(round((new_h - crop[0]) / 2.0))
    left = int(round((new_w - crop[1]) / 2.0))
    return img[top:top + crop[0], left:left + crop[1]]
'''


def shorter_side_fix(ro: Resize, rp: Resize, ctx) -> Optional[Fix]:
    """Original Resize(int) [+ CenterCrop]: replace the ported fixed-size cv2/PIL resize by a
    shorter-side resize (PIL bilinear, as torchvision on PIL images) and a centre crop to the
    size the ported program resized to, through a helper inserted after the imports."""
    if ro.mode != "shorter" or ro.library != "pil" or rp.site is None:
        return None
    short = ro.size_arg
    short = short[0] if isinstance(short, (list, tuple)) and len(short) == 1 else short
    if not isinstance(short, int):
        return None
    call = rp.site.node
    node = rp.size_node
    if type(call) is not cst.Call or node is None or rp.through is not None or rp.library not in ("cv2", "pil"):
        return None
    src = rp.site.file
    if rp.library == "cv2":
        img_code = node_code(rp.site, call.args[0].value)
    else:
        if type(call.func) is not cst.Attribute:
            return None
        img_code = f"np.asarray({node_code(rp.site, call.func.value)})"
    size_code = node_code(rp.site, node.value)
    if type(node.value) in (cst.Tuple, cst.List) and len(node.value.elements) == 2:
        w_code, h_code = (node_code(rp.site, e.value) for e in node.value.elements)
        crop = f"({h_code}, {w_code})"
    else:
        crop = f"({size_code}[1], {size_code}[0])"
    helper_name = "resize_shorter_center_crop"
    call_text = f"{helper_name}({img_code}, {short}, {crop})"
    edits = [e for e in (edit(rp.site, call, call_text), insert_after_imports(src, HELPER.format(name=helper_name))) if e]
    if len(edits) != 2 or helper_name in src.text:
        return None
    imports = []
    if import_alias(src, "numpy") != "np":
        imports.append("import numpy as np")
    if from_import(src, "PIL", "Image") != "Image":
        imports.append("from PIL import Image")
    return Fix("safe", f"resize the shorter side to {short} (PIL bilinear, as torchvision) and centre-crop to the model size",
               edits, imports)
