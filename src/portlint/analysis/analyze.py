"""Interprets one side: every program (entry point) from its main, and, where a program reaches
no model call from its main, its functions and methods run directly (the fallback). The result
is the side's facts (analysis/facts.py): the interpreter stays behind them."""

from __future__ import annotations

from portlint.analysis.context import PairContext
from portlint.analysis.facts import SideFacts
from portlint.analysis.interp import Interpreter
from portlint.analysis.objects import ClassVal, FunctionVal, Instance
from portlint.analysis.source import Side


def interpret(side: Side, ctx: PairContext, strict: bool = False, runs=()) -> SideFacts:
    """`runs`: the commands the user gave for this side (runspec.Run), run before its programs."""
    strict = strict or ctx.strict
    interp = Interpreter(side, {"input_shape": ctx.input_shape, "bmodel": ctx.bmodel, "strict": strict})
    for run in runs:
        interp.run_command(run)
    started = {run.file.path for run in runs}  # the user said how these run: not again with an unknown argv
    for src in side.entries:
        if src.path in started:
            continue
        before = len(interp.sinks)
        interp.run_entry(src)
        if len(interp.sinks) == before:
            _fallback(interp, src)
    return SideFacts(interp, side)


def _fallback(interp: Interpreter, src) -> None:
    """No pipeline reached from the program's main: try its functions and methods directly."""
    env = interp.entry_envs.get(src.path) or interp.module_envs.get(src.path)
    if env is None:
        return
    for value in list(env.values()):
        funcs = []
        if isinstance(value, FunctionVal) and value.file is src:
            funcs.append(value)
        elif isinstance(value, ClassVal) and value.file is src:
            inst = Instance(value)
            init = value.lookup("__init__")
            if isinstance(init, FunctionVal):
                interp.construct_as_entry(init.bind(inst), src)
            for name, member in value.attrs.items():
                if isinstance(member, FunctionVal) and name != "__init__":
                    funcs.append(member.bind(inst))
        for func in funcs:
            if id(func.node) in interp.executed_functions:
                continue
            interp.run_function_as_entry(func, src)
