"""analyze_pair: load both sides, interpret them, match pipelines and compare them."""

from __future__ import annotations

from typing import Optional

from portlint.engine.compare import compare_images
from portlint.engine.compare.base import PairContext
from portlint.engine.fixes import Fixes
from portlint.analysis.interp import Interpreter, Sink
from portlint.analysis.objects import ClassVal, FunctionVal, Instance
from portlint.analysis.source import Side, load_side
from portlint.errors import SourceError
from portlint.report import CheckReport, FileError


def _load(arg: str, report: CheckReport) -> Optional[Side]:
    try:
        side = load_side(arg)
    except SourceError as err:
        report.errors.append(FileError(err.path, err.detail))
        return None
    for err in side.errors:
        report.errors.append(FileError(err.path, err.detail))
    return side


def pair_context(pair, options=None) -> PairContext:
    shape = pair.input_shape
    info = None
    if pair.bmodel:
        from portlint.bmodel import read_bmodel

        info = read_bmodel(pair.bmodel)
        if shape is None and info.networks and info.networks[0].inputs:
            dims = tuple(info.networks[0].inputs[0].shape)
            shape = dims if len(dims) == 4 else None
    return PairContext(input_shape=shape, bmodel=info, options=dict(getattr(options, "rule_options", None) or {}))


def interpret(side: Side, ctx: PairContext, strict: bool = False) -> Interpreter:
    interp = Interpreter(side, {"input_shape": ctx.input_shape, "bmodel": ctx.bmodel, "strict": strict})
    for src in side.entries:
        before = len(interp.sinks)
        interp.run_entry(src)
        if len(interp.sinks) == before:
            _fallback(interp, src)
    return interp


def _fallback(interp: Interpreter, src) -> None:
    """No pipeline reached from the program's main: try its functions and methods directly."""
    env = interp.module_envs.get(src.path) or interp.module_env(src)
    for value in list(env.values()):
        funcs = []
        if isinstance(value, FunctionVal) and value.file is src:
            funcs.append(value)
        elif isinstance(value, ClassVal) and value.file is src:
            inst = Instance(value)
            init = value.lookup("__init__")
            if isinstance(init, FunctionVal):
                try:
                    interp.call_function(init.bind(inst), [], {}, None)
                except Exception:
                    pass
            for name, member in value.attrs.items():
                if isinstance(member, FunctionVal) and name != "__init__":
                    funcs.append(member.bind(inst))
        for func in funcs:
            if id(func.node) in interp.executed_functions:
                continue
            interp.run_function_as_entry(func, src)


def _unique(sinks: list[Sink]) -> list[Sink]:
    seen, out = set(), []
    for s in sinks:
        key = (id(s.site.node), tuple((op.stage, op.api, id(op.site.node) if op.site else 0) for op in s.img.state.ops))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _complete(sinks: list[Sink]) -> list[Sink]:
    """Prefer pipelines that start at a decode over ones entered through a parameter."""
    decoded = [s for s in sinks if s.img.state.source == "decode"]
    return decoded or sinks


def analyze_pair(pair, options) -> CheckReport:
    report = CheckReport()
    original = _load(pair.original, report)
    ported = _load(pair.ported, report)
    if original is None or ported is None or not original.files or not ported.files:
        return report
    report.files = len(original.files) + len(ported.files)
    report.paths = [src.display for side in (original, ported) for src in side.files.values()]
    ctx = pair_context(pair, options)
    strict = bool(getattr(options, "rule_options", {}).get("__strict__"))
    o_interp = interpret(original, ctx, strict)
    p_interp = interpret(ported, ctx, strict)
    report.notes.extend(o_interp.limits_hit + p_interp.limits_hit)
    o_sinks = _complete(_unique(o_interp.sinks))
    p_sinks = _complete(_unique(p_interp.sinks))
    for name, side_arg, sinks in (("original", pair.original, o_sinks), ("ported", pair.ported, p_sinks)):
        if not sinks:
            report.notes.append(f"{side_arg}: no image pipeline reaching a model call was found in the {name} program; "
                                "pre-processing was not compared")
    findings = []
    several = len({s.entry.path for s in o_sinks}) > 1
    for ps in p_sinks:
        best = None
        for os_ in o_sinks:
            found = compare_images(os_.img, ps.img, ctx, Fixes())
            if best is None or len(found) < len(best[1]):
                best = (os_, found)
        if best is None:
            continue
        for f in best[1]:
            if several:
                f.program = best[0].entry.display
            findings.append(f)
    from portlint.engine import postprocess

    findings.extend(postprocess.check(o_interp, p_interp, ctx, original, ported))
    report.findings = _dedupe(findings)
    return report


def _dedupe(findings):
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.message, f.ported.path if f.ported else None, f.ported.line if f.ported else None)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
