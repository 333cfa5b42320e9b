"""PL204 dynamic-shape: one program feeds the model sizes that vary with the image while the
bmodel has one static input shape (docs/alignment.md §2).

- `compare` (per matched pair of pipelines): the original's size varies at the sample image sizes,
  the port's is static.
- `check` (per program pair) settles what `compare` cannot: the port sizes everything to the
  bmodel's input (`get_input_shape`) and no --bmodel/--input-shape says what that is, so the port
  is evaluated at hypothetical static shapes. Named idioms: yolov5 `letterbox(..., auto=True)`
  (pads to a multiple of the stride only: chelsea 451x300 -> 640x448, a 1920x1080 frame ->
  640x384) and native-size inference (no resize). And the reverse: the port feeds a size that
  varies with the image into a static bmodel. When the port's letterbox helper takes `auto` and
  its caller passes auto=False (the sophon-demo ports' `self.letterbox(img, (net_h, net_w),
  auto=False)`), the finding is at that argument, where the port chose the static square.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img, Site
from portlint.analysis.values import Sym, sym_vars
from portlint.rules.assumed import CANDIDATE_STRIDES, describe_flags, flag_settings, needs_stride, with_flags, with_stride
from portlint.rules.base import RuleMeta
from portlint.rules.common import samples, depends_on_bmodel, eval_pair, evaluate, first_or_start, fmt_size, guarded, ops_of, site_of

RULE = RuleMeta("PL204", "dynamic-shape", "warning", (), "Variable input size on one side, static bmodel shape on the other")

_HYPOTHETICAL = ((1, 3, 640, 640), (1, 3, 384, 512))


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    """The original feeds sizes that vary with the image; the port's are static."""
    sizes = set()
    for h, w in samples(ctx):
        v = eval_pair(o.state.size, ctx.env(h, w))
        if v is None:
            return []
        sizes.add(v)
    if len(sizes) <= 1:
        return []
    p_static = True
    p_sizes = set()
    for h, w in samples(ctx):
        v = eval_pair(p.state.size, ctx.env(h, w))
        if v is None:
            p_static = all(depends_on_bmodel(x) or isinstance(x, (int, float)) for x in p.state.size) and not (
                any({"H", "W"} & sym_vars(x) for x in p.state.size if isinstance(x, Sym)))
            break
        p_sizes.add(v)
    if p_sizes and len(p_sizes) > 1:
        return []
    if not p_static:
        return []
    o_res, p_res = ops_of(o, "resize"), ops_of(p, "resize")
    anchor = o_res[-1] if o_res else first_or_start(o, "decode")
    examples = ", ".join(f"{w}x{h} -> {fmt_size(eval_pair(o.state.size, ctx.env(h, w)))}" for h, w in samples(ctx)[:2])
    p_anchor = p_res[-1] if p_res else first_or_start(p, "decode")
    return [RULE.finding(f"original feeds the model a size that varies with the image ({examples}); "
                         "the bmodel has one static input shape, so the ported program cannot reproduce it",
                         site_of(p_anchor), site_of(anchor))]


def _env(ctx, h, w, shape=None) -> dict:
    env = ctx.env(h, w)
    if shape is not None and not ctx.input_shape:
        for i, d in enumerate(shape):
            env[f"bmodel.input.d{i}"] = d
    return env


def _sizes(img: Img, ctx, shape=None) -> Optional[list]:
    out = []
    for h, w in samples(ctx):
        env = _env(ctx, h, w, shape)
        v = [evaluate(x, env) for x in img.state.size]
        if None in v:
            return None
        out.append(((h, w), (v[0], v[1])))
    return out


def _varies(sizes) -> bool:
    return sizes is not None and len({s for _, s in sizes}) > 1


def _static(img: Img, ctx) -> Optional[tuple]:
    """(size, known) if the pipeline feeds one size whatever the image: known=False when that size
    is only the bmodel's symbolic input shape."""
    sizes = _sizes(img, ctx)
    if sizes is not None:
        return (sizes[0][1], True) if not _varies(sizes) else None
    results = []
    for shape in _HYPOTHETICAL:
        s = _sizes(img, ctx, shape)
        if s is None or _varies(s) or s[0][1] != (shape[2], shape[3]):
            return None
        results.append(s[0][1])
    return (results[0], False)


def _variable(img: Img, ctx):
    """(sizes per sample image, the hypothetical bmodel shape they assume or None) if they vary."""
    sizes = _sizes(img, ctx)
    if sizes is not None:
        return (sizes, None) if _varies(sizes) else None
    for shape in _HYPOTHETICAL:
        s = _sizes(img, ctx, shape)
        if _varies(s):
            return s, shape
    return None


def _variable_at_candidate_strides(img: Img, ctx):
    """`_variable` for a size computed from what the analysis cannot know (rules/assumed.py): the
    model's stride (letterbox auto=True's `np.mod(dw, stride)` with the stride in the weights),
    where it must vary at every candidate stride, and an unknown boolean parameter (`auto=pt`),
    where the first setting that makes it vary is reported. The note says what was assumed."""
    size = img.state.size
    for flags in flag_settings(size):
        if not flags and not needs_stride(size):
            return None, ""
        flagged = describe_flags(flags)
        if not needs_stride(size):
            found = _variable(img, with_flags(ctx, flags))
            if found is not None:
                return found, f", {flagged}"
            continue
        per_stride = [_variable(img, with_stride(ctx, s, flags)) for s in CANDIDATE_STRIDES]
        if not all(per_stride):
            continue
        others = "; ".join(f"at stride {s}: {_examples(v[0])}" for s, v in zip(CANDIDATE_STRIDES[1:], per_stride[1:]))
        return per_stride[0], (f", for a model stride of {CANDIDATE_STRIDES[0]}; the stride is read from the weights, "
                               f"not known statically; {others}" + (f"; {flagged}" if flagged else ""))
    return None, ""


def _idiom(img: Img) -> tuple[str, Optional[Site]]:
    for op in ops_of(img, "pad"):
        if any(_has_mod(getattr(op, k)) for k in ("top", "bottom", "left", "right")):
            return "letterbox(auto=True) pads only up to a multiple of the stride, a minimum rectangle", op.site
    resizes = [op for op in img.state.ops if op.stage in ("resize", "crop")]
    h, w = img.state.size
    if not resizes and all(isinstance(v, Sym) and v.op == "var" for v in (h, w)):
        return "runs the model at each image's own size (no resize)", None
    last = [op for op in img.state.ops if op.stage in ("resize", "pad", "crop")]
    return "feeds the model a size that varies with the image", last[-1].site if last else None


def _has_mod(value) -> bool:
    if isinstance(value, Sym):
        return value.op == "mod" or any(_has_mod(a) for a in value.args)
    return False


def _examples(sizes) -> str:
    """Up to three image sizes and what is fed for each, the ones that change first."""
    ordered = sorted(sizes, key=lambda item: item[0] == tuple(item[1]))
    return ", ".join(f"{fmt_size((h, w))} -> {fmt_size(s)}" for (h, w), s in ordered[:3])


def _anchor(img: Img) -> Optional[Site]:
    for stage in ("resize", "pad", "crop", "decode"):
        ops = ops_of(img, stage)
        if ops and ops[-1].site is not None:
            return ops[-1].site
    return None


def _static_choice_arg(img: Img, facts) -> Optional[Site]:
    """The `auto=False` a caller passes to the port's letterbox helper (`self.letterbox(img,
    (net_h, net_w), auto=False)`), when the resize and padding run in that helper: the argument
    is where the port chose the static square, not the helper's cv2.resize every caller shares.
    A helper whose default is used keeps the finding at its resize."""
    from portlint.analysis.events import FunctionCall
    from portlint.analysis.locate import span

    ops = [op for op in img.state.ops if op.stage in ("resize", "pad") and op.site is not None]
    if not ops or facts is None:
        return None
    op = ops[-1]
    where = span(op.site)
    if where is None:
        return None
    for call in facts.events_of(FunctionCall):
        fn = call.func.node
        if call.args.get("auto") is not False or type(fn) is not cst.FunctionDef or call.site is None:
            continue
        if type(call.site.node) is not cst.Call or call.func.file is not op.site.file:
            continue
        given = [a for a in call.site.node.args if a.keyword is not None and a.keyword.value == "auto"]
        if not given:
            continue
        body = span(Site(call.func.file, fn))
        if body is not None and body[0] <= where[0] and where[1] <= body[1]:
            return Site(call.site.file, given[0])
    return None


def _dynamic_bmodel(ctx) -> bool:
    info = getattr(ctx, "bmodel", None)
    return bool(info is not None and info.networks and info.networks[0].dynamic)


@guarded
def check(pair) -> list:
    ctx = pair.ctx
    if _dynamic_bmodel(ctx):
        return []
    findings = []
    # only pipelines that start at a decode: a size is only known to vary with the image for those
    for match in pair.matches:
        ps = match.ported
        if ps.img.state.source != "decode":
            continue
        os_ = match.original if match.original is not None and match.original.img.state.source == "decode" else None
        p_var = _variable(ps.img, ctx)
        if p_var is not None:
            what, _ = _idiom(ps.img)
            o_static = _static(os_.img, ctx) if os_ is not None else None
            tail = f"; the original always feeds {fmt_size(o_static[0])}" if o_static and o_static[1] else ""
            sizes, assumed = p_var
            note = f" for a {assumed[3]}x{assumed[2]} bmodel input" if assumed else ""
            findings.append(RULE.finding(
                f"ported {what} ({_examples(sizes)}{note}) but the bmodel has one static input shape"
                f"{tail}: every other size is rejected or misread", _anchor(ps.img),
                _anchor(os_.img) if os_ is not None else None))
            continue
        if os_ is None:
            continue
        o_var, stride_note = _variable(os_.img, ctx), ""
        if o_var is None:
            o_var, stride_note = _variable_at_candidate_strides(os_.img, ctx)
        if o_var is None or compare(os_.img, ps.img, ctx):
            continue
        p_static = _static(ps.img, ctx)
        if p_static is None:
            continue
        what, o_site = _idiom(os_.img)
        size = fmt_size(p_static[0]) if p_static[1] else "the bmodel's input size"
        examples = _examples(o_var[0]) if "own size" not in what else ", ".join(
            fmt_size(s) for _, s in o_var[0][:3]) + ", ..."
        findings.append(RULE.finding(
            f"original {what} ({examples}{stride_note}); the port always feeds {size} to a static bmodel, "
            "so scale and padding differ for every image of another shape",
            _static_choice_arg(ps.img, pair.ported) or _anchor(ps.img), o_site or os_.site))
    return findings
