"""Geometry: resize (antialias, interpolation, size and (w,h) order), crop, padding and
static vs dynamic model input size, compared numerically at sample image sizes."""

from __future__ import annotations

from typing import Optional

from portlint.engine.compare.base import (
    SAMPLES, PairContext, depends_on_bmodel, evaluate, fmt_num, fmt_size, make_finding, site_of,
)
from portlint.analysis.image import Img, Op
from portlint.analysis.values import UNKNOWN, Sym, sym_vars

_LIB_NAMES = {"pil": "PIL", "torch": "torchvision (tensor)", "cv2": "cv2.resize", "sail": "SAIL bmcv"}


def _ops(img: Img, stage: str) -> list[Op]:
    return [op for op in img.state.ops if op.stage == stage]


def _eval_pair(pair, env):
    if not isinstance(pair, tuple) or len(pair) != 2:
        return None
    a, b = evaluate(pair[0], env), evaluate(pair[1], env)
    if a is None or b is None:
        return None
    return a, b


def _describe_resize(op: Op, env) -> str:
    p = op.params
    out = _eval_pair(p.get("out"), env)
    inp = _eval_pair(p.get("in"), env)
    where = f"{fmt_size(inp)} -> {fmt_size(out)}" if inp and out else (f"to {fmt_size(out)}" if out else "")
    lib = _LIB_NAMES.get(p.get("library"), p.get("library"))
    mode = " (shorter side)" if p.get("mode") == "shorter" else ""
    return f"{lib} {where}{mode}".strip()


def _downscales(op: Op, ctx: PairContext) -> Optional[tuple]:
    for h, w in SAMPLES:
        env = ctx.env(h, w)
        out, inp = _eval_pair(op.params.get("out"), env), _eval_pair(op.params.get("in"), env)
        if out and inp and (out[0] < inp[0] or out[1] < inp[1]):
            return inp, out
    return None


def compare_resize(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    findings = []
    o_res, p_res = _ops(o, "resize"), _ops(p, "resize")
    if o_res and not p_res:
        op = o_res[0]
        findings.append(make_finding(
            "resize-size", f"original resizes ({_describe_resize(op, ctx.env(*SAMPLES[0]))} for a {SAMPLES[0][1]}x{SAMPLES[0][0]} image); "
            "the ported program never resizes before the model", site_of(_first(p, "decode")), op.site))
        return findings
    for ro, rp in zip(o_res, p_res):
        findings.extend(_compare_resize_pair(ro, rp, ctx, fixes))
    return findings


def _first(img: Img, stage: str) -> Optional[Op]:
    for op in img.state.ops:
        if op.stage == stage:
            return op
    return img.state.ops[0] if img.state.ops else None


def _compare_resize_pair(ro: Op, rp: Op, ctx: PairContext, fixes) -> list:
    findings = []
    po, pp = ro.params, rp.params
    size_findings = _compare_sizes(ro, rp, ctx, fixes)
    # the size fix (shorter side + crop, PIL bilinear) also fixes antialiasing: let it win
    size_fixed = any(f.fix is not None and f.fix.edits and f.fix.edits[0].start == _call_start(rp) for f in size_findings)
    # antialias
    down = _downscales(ro, ctx)
    if po.get("antialias") and pp.get("antialias") is False:
        if down:
            (ih, iw), (oh, ow) = down
            factor = max(ih / oh, iw / ow)
            detail = (f"downscaling {fmt_num(iw)}x{fmt_num(ih)} -> {fmt_num(ow)}x{fmt_num(oh)} ({factor:.1f}x) the original "
                      f"averages every source pixel, the ported one samples {'1' if pp.get('interp') == 'nearest' else '2x2'} per output pixel and aliases")
        else:
            detail = "when downscaling the original averages every source pixel; the ported one samples a few and aliases"
        findings.append(make_finding(
            "resize-antialias",
            f"{_LIB_NAMES.get(pp.get('library'))} does not antialias, {_LIB_NAMES.get(po.get('library'))} {po.get('interp')} does: "
            f"{detail} (max |diff| 27-93 grey levels measured on real photos, see PL101)",
            rp.site, ro.site, fix=None if size_fixed else fixes.resize_antialias(ro, rp)))
    # interpolation
    io, ip = po.get("interp"), pp.get("interp")
    if io and ip and io != ip:
        default = " (SAIL's default when no resize_alg is given)" if pp.get("library") == "sail" and not pp.get("interp_given") else (
            " (cv2's default)" if pp.get("library") == "cv2" and not pp.get("interp_given") else "")
        findings.append(make_finding(
            "resize-interpolation", f"original resizes with {io} interpolation; ported with {ip}{default}",
            rp.site, ro.site, fix=fixes.resize_interpolation(ro, rp)))
    findings.extend(size_findings)
    return findings


def _call_start(op: Op):
    from portlint.analysis.locate import span
    sp = span(op.site) if op.site is not None else None
    return sp[0] if sp else None


def _compare_sizes(ro: Op, rp: Op, ctx: PairContext, fixes) -> list:
    po, pp = ro.params, rp.params
    evaluated = False
    for h, w in SAMPLES:
        env = ctx.env(h, w)
        oo, op_ = _eval_pair(po.get("out"), env), _eval_pair(pp.get("out"), env)
        if oo is None or op_ is None:
            continue
        evaluated = True
        if abs(oo[0] - op_[0]) < 0.5 and abs(oo[1] - op_[1]) < 0.5:
            continue
        if abs(oo[0] - op_[1]) < 0.5 and abs(oo[1] - op_[0]) < 0.5:
            msg = (f"ported resize swaps width and height: the original resizes a {w}x{h} image to {fmt_size(oo)} (w x h), "
                   f"the ported one to {fmt_size(op_)}; {'cv2.resize and PIL take (width, height)' if pp.get('order') == 'wh' else 'torchvision takes (height, width)'}")
            return [make_finding("resize-size", msg, rp.site, ro.site, fix=fixes.resize_swap(ro, rp))]
        if _swapped_bmodel_dims(pp.get("out")):
            expected = "(width, height)" if pp.get("order") == "wh" else "(height, width)"
            msg = (f"ported resize passes the bmodel's height and width in the wrong order for an API taking {expected}: "
                   f"it resizes to {fmt_size(op_)} (w x h) where the model takes {fmt_size(op_[::-1])}; the original resizes to {fmt_size(oo)}")
            return [make_finding("resize-size", msg, rp.site, ro.site, fix=fixes.resize_swap(ro, rp))]
        sem_o, sem_p = _semantics(po), _semantics(pp)
        same = sem_o == sem_p
        msg = (f"for a {w}x{h} image the original resizes to {fmt_size(oo)}, the ported program to {fmt_size(op_)}"
               + (f" (both {sem_o}; the sizes are computed or rounded differently)" if same else f" ({sem_o} vs {sem_p})"))
        return [make_finding("resize-size", msg, rp.site, ro.site, fix=fixes.resize_size(ro, rp, ctx))]
    # semantics, knowable without numbers: shorter-side resize vs a size independent of the image
    out = pp.get("out")
    if po.get("mode") == "shorter" and isinstance(out, tuple) and len(out) == 2 and not any(
            {"H", "W"} & sym_vars(v) for v in out) and all(v is not UNKNOWN for v in out):
        target = po.get("size_arg")
        msg = (f"original resizes the shorter side to {fmt_num(target) if isinstance(target, (int, float)) else target} keeping "
               "the aspect ratio; the ported program resizes every image to one fixed size, stretching it")
        return [make_finding("resize-size", msg, rp.site, ro.site, fix=fixes.resize_size(ro, rp, ctx))]
    # symbolic (w, h) order check when the ported size comes from the bmodel at run time
    if not evaluated and _swapped_bmodel_dims(out):
        expected = "(width, height)" if pp.get("order") == "wh" else "(height, width)"
        given = "(net_h, net_w)" if pp.get("order") == "wh" else "(net_w, net_h)"
        msg = (f"ported resize passes {given} where {expected} is expected: the image gets the model's height as its "
               "width; aligned only if the bmodel input is square (give --input-shape or --bmodel to know)")
        return [make_finding("resize-size", msg, rp.site, ro.site, severity="warning", fix=fixes.resize_swap(ro, rp))]
    return []


def _swapped_bmodel_dims(out) -> bool:
    """The resize target (h, w) is literally the bmodel's (W, H)."""
    if isinstance(out, tuple) and len(out) == 2 and all(isinstance(v, Sym) and v.op == "var" for v in out):
        return (out[0].args[0], out[1].args[0]) == ("bmodel.input.d3", "bmodel.input.d2")
    return False


def _semantics(params) -> str:
    if params.get("mode") == "shorter":
        return "resize the shorter side"
    out = params.get("out")
    if isinstance(out, tuple) and any({"H", "W"} & sym_vars(v) for v in out):
        return "keep the aspect ratio"
    return "fixed size"


def compare_crop(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    oc, pc = _ops(o, "crop"), _ops(p, "crop")
    findings = []
    if oc and not pc:
        op = oc[0]
        h, w = SAMPLES[0]
        env = ctx.env(h, w)
        box = [evaluate(op.params.get(k), env) for k in ("top", "left", "height", "width")]
        inp = _eval_pair(op.params.get("in"), env)
        desc = (f"crops {fmt_num(box[3])}x{fmt_num(box[2])} at ({fmt_num(box[1])}, {fmt_num(box[0])}) out of {fmt_size(inp)} for a {w}x{h} image"
                if None not in box and inp else "crops the image")
        anchor = _ops(p, "resize")[-1].site if _ops(p, "resize") else site_of(_first(p, "decode"))
        findings.append(make_finding(
            "crop", f"original {op.params.get('style', '')} {desc}; the ported program has no crop, so the model sees "
            "content the original cut away, at a different scale (mean |diff| 32-50 grey levels on real photos, see PL104)", anchor, op.site, fix=fixes.crop_missing(o, p, op, ctx)))
    elif pc and not oc:
        op = pc[0]
        findings.append(make_finding("crop", "ported program crops the image; the original has no crop", op.site,
                                     site_of(_first(o, "decode"))))
    elif oc and pc:
        for co, cp in zip(oc, pc):
            for h, w in SAMPLES:
                env = ctx.env(h, w)
                bo = [evaluate(co.params.get(k), env) for k in ("top", "left", "height", "width")]
                bp = [evaluate(cp.params.get(k), env) for k in ("top", "left", "height", "width")]
                if None in bo or None in bp:
                    continue
                if any(abs(a - b) >= 0.5 for a, b in zip(bo, bp)):
                    findings.append(make_finding(
                        "crop", f"for a {w}x{h} image the original crops (top {fmt_num(bo[0])}, left {fmt_num(bo[1])}, "
                        f"{fmt_num(bo[3])}x{fmt_num(bo[2])}), the ported program (top {fmt_num(bp[0])}, left {fmt_num(bp[1])}, "
                        f"{fmt_num(bp[3])}x{fmt_num(bp[2])}) (a crop shifted by even one pixel differs by up to 100-170 grey levels, see PL104)", cp.site, co.site))
                    break
    return findings


def _pad_value(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (float(v),)
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) for x in v):
        return tuple(float(x) for x in v)
    return None


def compare_padding(o: Img, p: Img, ctx: PairContext, fixes) -> list:
    opads, ppads = _ops(o, "pad"), _ops(p, "pad")
    findings = []
    if opads and not ppads:
        findings.append(make_finding("padding", "original pads the image (letterbox); the ported program does not",
                                     site_of(_ops(p, "resize")[-1] if _ops(p, "resize") else _first(p, "decode")), opads[0].site))
        return findings
    if ppads and not opads:
        findings.append(make_finding("padding", "ported program pads the image (letterbox); the original does not",
                                     ppads[0].site, site_of(_ops(o, "resize")[-1] if _ops(o, "resize") else _first(o, "decode"))))
        return findings
    for po, pp in zip(opads, ppads):
        vo, vp = _pad_value(po.params.get("value")), _pad_value(pp.params.get("value"))
        if vo and vp and set(vo) != set(vp):
            findings.append(make_finding(
                "padding", f"original pads with value {_fmt_val(vo)}, ported with {_fmt_val(vp)}: the border differs by up to "
                f"{fmt_num(max(abs(a - b) for a in vo for b in vp))} grey levels", pp.site, po.site,
                fix=fixes.pad_value(po, pp)))
        for h, w in SAMPLES:
            env = ctx.env(h, w)
            ao = [evaluate(po.params.get(k), env) for k in ("top", "bottom", "left", "right")]
            ap = [evaluate(pp.params.get(k), env) for k in ("top", "bottom", "left", "right")]
            if None in ao or None in ap:
                continue
            if any(abs(a - b) >= 0.5 for a, b in zip(ao, ap)):
                placement = _placement(ao, ap)
                findings.append(make_finding(
                    "padding", f"for a {w}x{h} image the original pads top/bottom/left/right {_fmt_amounts(ao)}, the ported "
                    f"program {_fmt_amounts(ap)}{placement}", pp.site, po.site,
                    fix=fixes.pad_placement(po, pp) if "top-left" in placement else None))
                break
    return findings


def _fmt_val(v):
    return fmt_num(v[0]) if len(set(v)) == 1 else "(" + ", ".join(fmt_num(x) for x in v) + ")"


def _fmt_amounts(a):
    return "/".join(fmt_num(x) for x in a)


def _placement(ao, ap):
    o_centred = abs(ao[0] - ao[1]) <= 1 and abs(ao[2] - ao[3]) <= 1
    p_topleft = ap[0] == 0 and ap[2] == 0 and (ap[1] > 1 or ap[3] > 1)
    if o_centred and p_topleft:
        return " (centred vs top-left placement)"
    if abs(sum(ao) - sum(ap)) < 0.5:
        return " (same total, rounded differently: up to 1 px shift of the whole image)"
    return ""


def compare_static_shape(o: Img, p: Img, ctx: PairContext) -> list:
    """dynamic-shape: the original feeds sizes that vary with the image; the bmodel is static."""
    sizes = set()
    for h, w in SAMPLES:
        v = _eval_pair(o.state.size, ctx.env(h, w))
        if v is None:
            return []
        sizes.add(v)
    if len(sizes) <= 1:
        return []
    p_static = True
    p_sizes = set()
    for h, w in SAMPLES:
        v = _eval_pair(p.state.size, ctx.env(h, w))
        if v is None:
            p_static = all(depends_on_bmodel(x) or isinstance(x, (int, float)) for x in p.state.size) and not (
                any({"H", "W"} & sym_vars(x) for x in p.state.size if isinstance(x, Sym)))
            break
        p_sizes.add(v)
    if p_sizes and len(p_sizes) > 1:
        return []
    if not p_static:
        return []
    anchor = _ops(o, "resize")[-1] if _ops(o, "resize") else _first(o, "decode")
    examples = ", ".join(f"{w}x{h} -> {fmt_size(_eval_pair(o.state.size, ctx.env(h, w)))}" for h, w in SAMPLES[:2])
    p_anchor = _ops(p, "resize")[-1] if _ops(p, "resize") else _first(p, "decode")
    return [make_finding("dynamic-shape", f"original feeds the model a size that varies with the image ({examples}); "
                         "the bmodel has one static input shape, so the ported program cannot reproduce it",
                         site_of(p_anchor), site_of(anchor))]
