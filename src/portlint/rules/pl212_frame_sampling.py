"""PL212 frame-sampling: a video classifier's clip is made of frames taken at another step.

The original's video sampler is the transform object of its run whose attributes name the clip
length and the frame step (mmaction2's SampleFrames: `clip_len`, `frame_interval`, `num_clips`;
the names below): the instance a method of the program ran on, read after the run. The port reads
its frames in a loop over `.read()` (cv2.VideoCapture) and keeps the ones an `i % step == 0` test
lets through; `step` is evaluated in the recorded frame of the function. A loop that keeps every
frame it reads has step 1. Anything else (seeking with `cap.set`, a step that is not known) is
not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from portlint.analysis.events import FunctionCall
from portlint.analysis.image import Site
from portlint.analysis.objects import Instance
from portlint.analysis.syntax import call_name, code, walk
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules.common import fmt, guarded, ran_functions

RULE = RuleMeta("PL212", "other", "warning", ("display-only",), "video frames sampled at another step")

CLIP_LEN = ("clip_len", "clip_length", "num_frames")
STEP = ("frame_interval", "interval", "frame_step", "sample_rate")
NUM_CLIPS = ("num_clips",)


@dataclass
class Sampler:
    """The original's clip sampling: `clip_len` frames `step` apart, `num_clips` clips a video."""

    clip_len: int
    step: int
    num_clips: Optional[int]
    site: Optional[Site]  # where its transform runs
    average: Optional[str] = None  # the head's clip averaging ('prob', 'score'), when known


def _number(attrs: dict, names) -> Optional[int]:
    for n in names:
        v = attrs.get(n)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def sampler(facts) -> Optional[Sampler]:
    """The one sampler the original's programs ran (None when none, or several that differ)."""
    found, average = {}, None
    for prog in facts.programs():
        for call in prog.of(FunctionCall):
            obj = call.func.self_obj
            if not isinstance(obj, Instance):
                continue
            if isinstance(obj.attrs.get("average_clips"), str):
                average = obj.attrs["average_clips"]
            clip_len, step = _number(obj.attrs, CLIP_LEN), _number(obj.attrs, STEP)
            if clip_len is None or step is None or call.func.name in ("__init__", "__repr__"):
                continue
            if obj.attrs.get("target_fps", None) is not None:
                continue  # SampleFrames(target_fps=...): the step follows the video's fps (np.linspace)
            key = (clip_len, step, _number(obj.attrs, NUM_CLIPS))
            found.setdefault(key, Site(call.func.file, call.func.node))
    if len(found) != 1:
        return None
    (clip_len, step, num_clips), site = next(iter(found.items()))
    return Sampler(clip_len, step, num_clips, site, average)


@dataclass
class ReadLoop:
    src: object
    fn: cst.FunctionDef
    read: cst.Call  # the `.read()` call
    test: Optional[cst.CSTNode]  # the `i % step == 0` comparison keeping frames, None: every frame
    step_expr: Optional[cst.BaseExpression]


def _modulo_test(node) -> Optional[cst.BaseExpression]:
    """`i % step == 0` (or `0 == i % step`, `not i % step`): the step expression."""
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Not:
        node = node.expression
        return node.right if type(node) is cst.BinaryOperation and type(node.operator) is cst.Modulo else None
    if type(node) is not cst.Comparison or len(node.comparisons) != 1 or not isinstance(node.comparisons[0].operator, cst.Equal):
        return None
    left, right = node.left, node.comparisons[0].comparator
    for mod, zero in ((left, right), (right, left)):
        if type(mod) is cst.BinaryOperation and type(mod.operator) is cst.Modulo and \
                type(zero) is cst.Integer and zero.value == "0":
            return mod.right
    return None


def read_loops(src, fn) -> list[ReadLoop]:
    out = []
    for loop in walk(fn.body):
        if type(loop) not in (cst.For, cst.While):
            continue
        nodes = list(walk(loop.body))
        reads = [n for n in nodes if type(n) is cst.Call and type(n.func) is cst.Attribute and n.func.attr.value == "read"
                 and not n.args]
        if not reads or any(type(n) is cst.Call and call_name(n).rsplit(".", 1)[-1] in ("set", "grab", "seek") for n in nodes):
            continue
        appends = [n for n in nodes if type(n) is cst.Call and type(n.func) is cst.Attribute and n.func.attr.value == "append"]
        if not appends:
            continue
        tests = [(n, _modulo_test(n.test)) for n in nodes if type(n) is cst.If]
        kept = [(n, e) for n, e in tests if e is not None and {id(a) for a in appends} & {id(x) for x in walk(n.body)}]
        if len(kept) > 1:
            continue
        if kept:
            out.append(ReadLoop(src, fn, reads[0], kept[0][0].test, kept[0][1]))
        elif not tests or all(e is None for _, e in tests):
            out.append(ReadLoop(src, fn, reads[0], None, None))
    return out


def _step(pair, prog, loop: ReadLoop) -> Optional[int]:
    if loop.step_expr is None:
        return 1
    values = {pair.ported.evaluate(loop.step_expr, scope) for scope in prog.scopes_of(loop.fn)}
    if len(values) != 1:
        return None
    v = values.pop()
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def _message(step: int, loop: ReadLoop, s: Sampler) -> str:
    how = f"keeps one frame in {step} of those it reads ({code(loop.src, loop.test).strip()})" if loop.test is not None else \
        "keeps every frame it reads"
    span_p = (s.clip_len - 1) * step + 1
    span_o = (s.clip_len - 1) * s.step + 1
    orig = "consecutive frames" if s.step == 1 else f"frames {s.step} apart"
    return (f"ported {how}, so a clip of {s.clip_len} frames spans {span_p} frames of the video; the original samples "
            f"clips of {s.clip_len} {orig} (clip_len {s.clip_len}, frame interval {s.step}, spanning {span_o} frames): "
            f"the model sees motion at {fmt(step / s.step)}x the speed it was trained on")


@guarded
def check(pair) -> list:
    s = sampler(pair.original)
    if s is None:
        return []
    findings, done = [], set()
    for prog in pair.ported.programs():
        for src, fn in ran_functions(prog):
            for loop in read_loops(src, fn):
                if id(loop.read) in done:
                    continue
                done.add(id(loop.read))
                step = _step(pair, prog, loop)
                if step is None or step == s.step:
                    continue
                node = loop.test if loop.test is not None else loop.read
                fix = Fix("display-only", f"keep frames {s.step} apart ({'every frame read' if s.step == 1 else f'i % {s.step} == 0'}), "
                          "as the original's sampler does; by hand: the loop's stop condition and the padding of short videos "
                          "depend on it")
                findings.append(RULE.finding(_message(step, loop, s), Site(src, node), s.site, fix=fix))
    return findings
