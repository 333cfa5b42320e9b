"""Helpers the rules share: sample image sizes, evaluating symbolic sizes, number formatting,
finding the ops of a stage, where a threshold is defined, and guarding a rule's check."""

from __future__ import annotations

import functools
import re
from typing import Iterable, Optional

import libcst as cst

from portlint.analysis.events import ArgparseDefault, SailOutputs
from portlint.analysis.facts import ProgramFacts, SideFacts
from portlint.analysis.image import Img, Site
from portlint.analysis.ops import Op
from portlint.analysis.values import UNKNOWN, ApiObject, Sym, sym_eval, sym_vars

# Image sizes (h, w) at which symbolic geometry is evaluated: landscape and portrait photos,
# a Full-HD frame and skimage's chelsea (300x451), the photo the numeric tests use.
SAMPLES = ((480, 640), (640, 480), (1080, 1920), (300, 451))


def samples(ctx) -> tuple:
    """The (h, w) image sizes sizes are compared at: the user's (`--image-size`, when every image
    of their data has one of those sizes, e.g. Cityscapes' 2048x1024), else SAMPLES."""
    return getattr(ctx, "image_sizes", None) or SAMPLES


# ------------------------------------------------------------------ numbers and sizes

def evaluate(value, env):
    """A recorded number (constant or Sym) at a sample size; None where it cannot be known."""
    if value is UNKNOWN:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, Sym):
        return sym_eval(value, env)
    return None


def eval_pair(pair, env):
    if not isinstance(pair, tuple) or len(pair) != 2:
        return None
    a, b = evaluate(pair[0], env), evaluate(pair[1], env)
    if a is None or b is None:
        return None
    return a, b


def depends_on_bmodel(value) -> bool:
    return any(v.startswith("bmodel.") for v in sym_vars(value))


def number(value) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def fmt_num(v) -> str:
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


def fmt_size(hw) -> str:
    h, w = hw
    return f"{fmt_num(w)}x{fmt_num(h)}"


# ------------------------------------------------------------------ ops of a pipeline

def ops_of(img: Img, stage: str) -> list[Op]:
    return [op for op in img.state.ops if op.stage == stage]


def last_op(img: Img, *stages: str) -> Optional[Op]:
    for op in reversed(img.state.ops):
        if op.stage in stages:
            return op
    return None


def first_op(img: Img, *stages: str) -> Optional[Op]:
    for op in img.state.ops:
        if op.stage in stages:
            return op
    return None


def first_or_start(img: Img, stage: str) -> Optional[Op]:
    """The first op of a stage, else the pipeline's first op (where a missing step would go)."""
    return first_op(img, stage) or (img.state.ops[0] if img.state.ops else None)


def site_of(op: Optional[Op], fallback: Optional[Site] = None) -> Optional[Site]:
    return op.site if op is not None and op.site is not None else fallback


# ------------------------------------------------------------------ programs

def first(items: Iterable, default=None):
    for x in items:
        return x
    return default


def ran_functions(prog: ProgramFacts):
    """(file, def) of every local function the program ran, once each, in the order first run:
    the post-processing rules read the structure of these."""
    from portlint.analysis.events import FunctionCall

    from portlint.analysis.tree import module_index

    seen = set()
    for call in prog.of(FunctionCall):
        fn = call.func.node
        if type(fn) is cst.FunctionDef and id(fn) not in seen:
            seen.add(id(fn))
            src = call.func.file
            if getattr(src, "module", None) is not None:
                # the rules walk what they are given: with its module indexed (and the most
                # recent index), walking the body and then each statement in it is a slice of
                # one traversal, not a traversal each (measured: most walks were of such nodes)
                module_index(src.module)
            yield src, fn


def origin_edit(prog: Optional[ProgramFacts], value, pattern: str, literal_arg=None, src=None):
    """The node to rewrite so that a threshold changes: the argument literal when the call
    passes one, else the one argparse default with this value whose name matches `pattern`."""
    from portlint.analysis.locate import span
    from portlint.findings import TextEdit

    if literal_arg is not None and src is not None:
        v = literal_arg.value if type(literal_arg) is cst.Arg else literal_arg
        if type(v) in (cst.Float, cst.Integer):
            sp = span(Site(src, v))
            if sp:
                return lambda new: TextEdit(src.display, sp[0], sp[1], fmt(new))
    if prog is None:
        return None
    rx = re.compile(pattern, re.I)
    hits = [d for d in prog.of(ArgparseDefault) if rx.search(d.dest) and number(d.default) is not None
            and abs(d.default - value) < 1e-12]
    if len(hits) != 1:
        return None
    call = hits[0].site.node
    file = hits[0].site.file
    for arg in getattr(call, "args", ()):
        if arg.keyword is not None and arg.keyword.value == "default" and type(arg.value) in (cst.Float, cst.Integer):
            sp = span(Site(file, arg.value))
            if sp:
                return lambda new: TextEdit(file.display, sp[0], sp[1], fmt(new))
    return None


def engine_site(facts: SideFacts) -> Optional[Site]:
    """Where the ported program loads its bmodel (sail.Engine), else its first model call."""
    for sink in facts.sinks:
        model = sink.model
        if isinstance(model, ApiObject) and model.qname.endswith("Engine") and model.site is not None:
            return model.site
    for event in facts.events_of(SailOutputs):
        model = event.outputs.attrs.get("model")
        if isinstance(model, ApiObject) and model.site is not None:
            return model.site
    for sink in facts.sinks:
        return sink.site
    return None


def guarded(check):
    """A rule's check: an analyser bug must not stop the report (re-raised in strict mode)."""

    @functools.wraps(check)
    def run(pair):
        try:
            return check(pair)
        except Exception:
            if pair.ctx.strict:
                raise
            return []
    return run


def closest(candidates: list, cost):
    """The candidate of least cost (the first of equal ones), with its cost; (None, None) if none.
    Every "which original does this port follow" choice goes through here."""
    best, best_cost = None, None
    for item in candidates:
        c = cost(item)
        if best_cost is None or c < best_cost:
            best, best_cost = item, c
    return best, best_cost


def closest_original(rule, originals: list, ported, compare) -> list:
    """Findings for one ported item (an NMS, a COCO record) against the original program whose
    first item differs least from it: `originals` is [(program, items)], `compare(o, p)` gives
    (message, ported site, original site, severity, fix) tuples. With several original programs
    each finding names the one it was compared with (the matcher's `closest`)."""
    scored = [(program, compare(items[0], ported)) for program, items in originals]
    best, _ = closest(scored, lambda item: len(item[1]))
    findings = []
    for message, psite, osite, severity, fix in best[1] if best else ():
        finding = rule.finding(message, psite, osite, severity=severity, fix=fix)
        if len(originals) > 1:
            finding.program = best[0].display
        findings.append(finding)
    return findings
