"""PL107 normalize: mean/std, /255, SAIL `convert_to` alpha/beta with `input_scale`, in any
spelling. Every normalisation is reduced to value = a*raw + b per channel and solved back to
mean/std: std = 1/(255 a), mean = -b/(255 a)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img, Site
from portlint.analysis.ops import Normalize
from portlint.findings import Fix, TextEdit
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt_num, last_op, site_of
from portlint.rules.fixkit import contains, edit, import_alias, input_scale_name, node_code, num_text

RULE = RuleMeta("PL107", "normalize", "error", ("safe", "display-only"),
                "Normalisation (mean, std, /255 scale, convert_to alpha/beta, input_scale) differs")


def mean_std(a: float, b: float):
    if a == 0:
        return None
    std = 1.0 / (255.0 * a)
    return -b * std, std


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    ao, ap = o.state.affine, p.state.affine
    co, cp = o.state.channels, p.state.channels
    if not ao or not ap or not co or not cp or len(ao) != len(ap) or len(co) != len(cp):
        return []
    # compare by colour when the orders agree; by position when channel-order already differs
    if co == cp or set(co) != set(cp):
        pairs = [(co[i], ao[i], ap[i]) for i in range(len(co))]
    else:
        pairs = [(f"{co[i]} (position {i})", ao[i], ap[i]) for i in range(len(co))]
    diffs = []
    worst = 0.0
    for colour, (a1, b1), (a2, b2) in pairs:
        delta = max(abs(b1 - b2), abs((a1 - a2) * 255 + (b1 - b2)))
        scale = max(abs(a1) * 255, abs(b1), 1e-6)
        if delta > 1e-3 * scale + 1e-6:
            diffs.append((colour, (a1, b1), (a2, b2)))
            worst = max(worst, delta)
    if not diffs:
        return []
    colour, (a1, b1), (a2, b2) = diffs[0]
    ms1, ms2 = mean_std(a1, b1), mean_std(a2, b2)
    ratio = a2 / a1 if a1 else None
    if ms1 and ratio and abs(ratio - 255) < 0.5 and a2:
        detail = (f"original normalises channel {colour} with mean {fmt_num(round(ms1[0], 4))} std {fmt_num(round(ms1[1], 4))} "
                  f"after dividing by 255; ported applies mean {fmt_num(round(-b2 / a2, 4))} std {fmt_num(round(1 / a2, 4))} to raw 0-255 pixels")
    elif ms1 and ms2:
        detail = (f"original normalises channel {colour} with mean {fmt_num(round(ms1[0], 4))} std {fmt_num(round(ms1[1], 4))}; "
                  f"ported with mean {fmt_num(round(ms2[0], 4))} std {fmt_num(round(ms2[1], 4))}")
    else:
        detail = f"original maps channel {colour} as {fmt_num(a1)}*x{b1:+.4g}, ported as {fmt_num(a2)}*x{b2:+.4g}"
    hint = ""
    if ratio and abs(ratio - 255) < 0.5:
        hint = " (ported skips the /255)"
    elif ratio and abs(ratio - 1 / 255) < 1e-5:
        hint = " (ported divides by 255 once more)"
    others = f" ({len(diffs) - 1} more channel{'s differ' if len(diffs) > 2 else ' differs'})" if len(diffs) > 1 else ""
    msg = f"{detail}{hint}{others}: model inputs differ by up to {worst:.3g}"
    op_p, op_o = last_op(p, "normalize"), last_op(o, "normalize")
    where, related = _defined(ctx, op_p, site_of(op_p, site_of(last_op(p, "dtype", "layout"))))
    return [RULE.finding(msg, where, site_of(op_o), fix=normalize_fix(o, p), related=related)]


def _defined(ctx: PairContext, op, use):
    """(primary site, related) of the finding: a SAIL convert_to's alpha/beta are usually computed
    once in `__init__` (`self.ab = [x * self.input_scale for x in [...]]`) and indexed at the call;
    the finding points at that definition, with the call as a related place."""
    from portlint.rules.origin import defined_at

    if not isinstance(op, Normalize) or op.library != "sail" or op.node is None or use is None:
        return use, []
    found = defined_at(ctx.ported_facts, Site(use.file, op.node.value))
    if found is None:
        return use, []
    return found.site, found.related(use, "convert_to applies alpha/beta here")


def normalize_fix(o: Img, p: Img) -> Optional[Fix]:
    """Rewrite the ported normalisation from the original's per-channel maps: the convert_to
    alpha/beta tuple (times the program's input_scale), or a numpy expression chain."""
    ao = o.state.affine
    co, cp = o.state.channels, p.state.channels
    if not ao or not co or not cp or set(co) != set(cp):
        return None
    target = [ao[co.index(c)] for c in cp]  # the original's map for each ported memory channel
    norm_ops = [op for op in p.state.ops if isinstance(op, Normalize)]
    if not norm_ops:
        return None
    last = norm_ops[-1]
    if last.library == "sail" and last.node is not None:  # convert_to
        if len(norm_ops) > 1:  # chained convert_to (or numpy before it): rewriting the last one
            return _advice(p, target, sail=True)  # alone would apply the earlier steps twice
        return _convert_to_fix(last, target)
    return _numpy_fix(p, norm_ops, target)


def _convert_to_fix(op: Normalize, target) -> Optional[Fix]:
    site = op.site
    scale = input_scale_name(site.file)
    mul = f" * {scale}" if scale else ""
    pairs = ", ".join(f"({num_text(a)}{mul}, {num_text(b)}{mul})" for a, b in target)
    node = op.node.value
    e = edit(site, node, pairs if getattr(node, "lpar", None) else f"({pairs})")
    return Fix("safe", "alpha/beta solved from the original's mean/std" + (f", scaled by {scale}" if scale else ""), [e]) if e else None


def _numpy_fix(p: Img, norm_ops, target) -> Optional[Fix]:
    """A safe fix must make the normalisation exact, so it rewrites every op of the chain: one
    expression holding them all, or several statements (`img = img - mean`, then
    `img = img * scale`): the first becomes the whole normalisation, the later ones are removed.
    A chain it cannot rewrite whole gets advice only (display-only): rewriting one link of it
    would apply the mean twice (issue 15.3)."""
    ops = p.state.ops
    last = norm_ops[-1]
    # the chain of numpy normalisation ops nested in the last op's expression
    chain = []
    for op in reversed(ops[: ops.index(last) + 1]):
        if not isinstance(op, Normalize) or op.arith is None or op.site is None or op.site.file is not last.site.file:
            break
        if not contains(last.site, op.site.node):
            break
        chain.append(op)
    if not chain:
        return None
    if chain[-1] is not norm_ops[0]:  # earlier normalisation ops outside this expression
        return _statements_fix(p, norm_ops, target) or _advice(p, target)
    return _rewrite(last, chain[-1], target, [])


def _expression(first: Normalize, img_code: str, target, np_name: str) -> str:
    layout = first.layout or ""
    shape = "(3, 1, 1)" if layout.replace("N", "") == "CHW" else "(1, 1, 3)"
    means = [(-b / a) / 255.0 for a, b in target]
    stds = [1.0 / (255.0 * a) for a, b in target]
    return (f"({img_code} / 255.0 - {np_name}.array([{', '.join(num_text(m) for m in means)}]).reshape({shape})) / "
            f"{np_name}.array([{', '.join(num_text(s) for s in stds)}]).reshape({shape})")


def _rewrite(outer: Normalize, first: Normalize, target, more_edits: list) -> Optional[Fix]:
    """Replace `outer`'s expression by the whole normalisation of `first`'s image operand."""
    node = first.site.node
    if type(node) is not cst.BinaryOperation:
        return None
    img_node = node.left if first.image_left else node.right
    np_name = import_alias(outer.site.file, "numpy") or "np"
    img_code = node_code(outer.site, img_node)
    if type(img_node) is cst.BinaryOperation:
        img_code = f"({img_code})"
    e = edit(outer.site, outer.site.node, _expression(first, img_code, target, np_name))
    if e is None or any(m is None for m in more_edits):
        return None
    imports = [] if import_alias(outer.site.file, "numpy") else ["import numpy as np"]
    return Fix("safe", "normalise with the original's mean/std, in the ported channel order", [e, *more_edits], imports)


def _statements_fix(p: Img, norm_ops, target) -> Optional[Fix]:
    """`T = <ops on X>` then `T = <ops on T>` ..., sibling statements of one block with nothing
    but normalisation between them in the pipeline: the first statement is rewritten whole from
    X, the later ones deleted. None when the chain has any other shape."""
    from portlint.analysis.locate import span
    from portlint.analysis.image import Site
    from portlint.analysis.tree import module_index

    ops = p.state.ops
    i0, i1 = ops.index(norm_ops[0]), ops.index(norm_ops[-1])
    if any(not isinstance(op, Normalize) for op in ops[i0:i1 + 1]):
        return None  # a transpose, cast or resize in between: not one affine chain to rewrite
    src = norm_ops[0].site.file if norm_ops[0].site else None
    if src is None or any(op.arith is None or op.site is None or op.site.file is not src for op in norm_ops):
        return None
    index = module_index(src.module)

    def statement(node):
        """(SimpleStatementLine, Assign) holding `node`, or None."""
        child, up = node, index.parent(node)
        while up is not None and type(up) is not cst.Assign:
            if isinstance(up, (cst.BaseSuite, cst.BaseCompoundStatement, cst.FunctionDef, cst.Lambda)):
                return None
            child, up = up, index.parent(up)
        line = index.parent(up) if up is not None else None
        if type(line) is not cst.SimpleStatementLine or len(line.body) != 1:
            return None
        return line, up

    groups: list = []  # [(line, assign, [ops in it])] in pipeline order
    for op in norm_ops:
        found = statement(op.site.node)
        if found is None:
            return None
        if groups and groups[-1][0] is found[0]:
            groups[-1][2].append(op)
        else:
            groups.append((found[0], found[1], [op]))
    if len(groups) < 2 or len({id(index.parent(g[0])) for g in groups}) != 1:
        return None  # one statement (handled by the caller) or statements in different blocks
    names = set()
    for line, assign, group in groups:
        if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
            return None
        if assign.value is not group[-1].site.node:
            return None  # the statement does more than normalise (np.clip(...), a call around it)
        names.add(assign.targets[0].target.value)
    if len(names) != 1:
        return None
    name = names.pop()
    for _, _, group in groups[1:]:
        first = group[0]
        operand = first.site.node.left if first.image_left else first.site.node.right
        if type(operand) is not cst.Name or operand.value != name:
            return None  # a later statement does not transform the variable the first one set
    deletions = []
    for line, _, _ in groups[1:]:
        sp = span(Site(src, line))
        deletions.append(None if sp is None else TextEdit(src.display, (sp[0][0], 1), (sp[1][0] + 1, 1), ""))
    first_group = groups[0][2]
    return _rewrite(first_group[-1], first_group[0], target, deletions)


def _advice(p: Img, target, sail: bool = False) -> Fix:
    if sail:
        pairs = ", ".join(f"({num_text(round(a, 8))}, {num_text(round(b, 8))})" for a, b in target)
        return Fix("display-only", f"normalise with one convert_to, alpha_beta ({pairs}) times input_scale in plane "
                                   "order, replacing every step of the current normalisation")
    means = ", ".join(num_text(round((-b / a) / 255.0, 6)) for a, b in target)
    stds = ", ".join(num_text(round(1.0 / (255.0 * a), 6)) for a, b in target)
    return Fix("display-only", f"normalise once, as (img / 255.0 - mean) / std with mean [{means}] and std [{stds}] "
                               "in the ported channel order, replacing every step of the current normalisation")
