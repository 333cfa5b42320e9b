"""Channel order and normalisation. Normalisation in any spelling (Normalize, numpy arithmetic,
convert_to alpha/beta with input_scale, blobFromImage) is reduced to value = a*raw + b per
channel and solved back to mean/std: std = 1/(255 a), mean = -b/(255 a)."""

from __future__ import annotations

from portlint.engine.compare.base import PairContext, fmt_num, last_op, make_finding, site_of
from portlint.analysis.image import Img

_NAMES = {("R", "G", "B"): "RGB", ("B", "G", "R"): "BGR"}


def _order(ch):
    return _NAMES.get(ch, "".join(ch) if ch else "unknown")


def compare_channels(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    co, cp = o.state.channels, p.state.channels
    if not co or not cp or len(co) != 3 or len(cp) != 3 or co == cp or set(co) != set(cp):
        return []
    op_p = last_op(p, "colour") or last_op(p, "decode")
    op_o = last_op(o, "colour") or last_op(o, "decode")
    how = f"converts to {_order(cp)} here" if op_p is not None and op_p.stage == "colour" else f"decodes {_order(cp)} here and never converts"
    msg = (f"original feeds the model {_order(co)}, ported feeds {_order(cp)} (it {how}): channels 0 and 2 are swapped, "
           f"so red and blue trade places in every input (mean |diff| 32-71 grey levels on real photos, see PL106)")
    return [make_finding("channel-order", msg, site_of(op_p), site_of(op_o), fix=fixes.channel_order(o, p))]


def mean_std(a: float, b: float):
    if a == 0:
        return None
    std = 1.0 / (255.0 * a)
    return -b * std, std


def compare_normalize(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    ao, ap = o.state.affine, p.state.affine
    co, cp = o.state.channels, p.state.channels
    if not ao or not ap or not co or not cp or len(ao) != len(ap) or len(co) != len(cp):
        return []
    # compare by colour when the orders agree; by position when channel-order already differs
    pairs = []
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
    return [make_finding("normalize", msg, site_of(op_p, site_of(last_op(p, "dtype", "layout"))), site_of(op_o),
                         fix=fixes.normalize(o, p, diffs))]
