"""PL107 normalize: mean/std, /255, SAIL `convert_to` alpha/beta with `input_scale`, in any
spelling. Every normalisation is reduced to value = a*raw + b per channel and solved back to
mean/std: std = 1/(255 a), mean = -b/(255 a)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.analysis.ops import Normalize
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt_num, last_op, site_of
from portlint.rules.fixkit import contains, edit, import_alias, input_scale_name, node_code, num_text

RULE = RuleMeta("PL107", "normalize", "error", ("safe",),
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
    return [RULE.finding(msg, site_of(op_p, site_of(last_op(p, "dtype", "layout"))), site_of(op_o),
                         fix=normalize_fix(o, p))]


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
    first = chain[-1]
    node = first.site.node
    if not isinstance(node, cst.BinaryOperation):
        return None
    img_node = node.left if first.image_left else node.right
    layout = first.layout or ""
    np_name = import_alias(last.site.file, "numpy") or "np"
    shape = "(3, 1, 1)" if layout.replace("N", "") == "CHW" else "(1, 1, 3)"
    means = [(-b / a) / 255.0 for a, b in target]
    stds = [1.0 / (255.0 * a) for a, b in target]
    img_code = node_code(last.site, img_node)
    if isinstance(img_node, cst.BinaryOperation):
        img_code = f"({img_code})"
    new = (f"({img_code} / 255.0 - {np_name}.array([{', '.join(num_text(m) for m in means)}]).reshape({shape})) / "
           f"{np_name}.array([{', '.join(num_text(s) for s in stds)}]).reshape({shape})")
    e = edit(last.site, last.site.node, new)
    imports = [] if import_alias(last.site.file, "numpy") else ["import numpy as np"]
    return Fix("safe", "normalise with the original's mean/std, in the ported channel order", [e], imports) if e else None
