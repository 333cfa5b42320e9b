"""Which pipelines to replay: the ported sink and its best-matching original sink, chosen the
way `portlint check` chooses them (rules/matching.py), plus what the programs say
about their models (the path given to torch.jit.load / sail.Engine, when it is a constant)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

from portlint.errors import PortlintError


@dataclass
class Plan:
    original_ops: tuple
    ported_ops: tuple
    original_state: Any  # ImageState at the model call
    ported_state: Any
    original_api: str  # how the original calls its model
    ported_api: str
    original_model_hint: Optional[str]  # path literal given to the model factory
    original_model_factory: Optional[str]
    ported_model_hint: Optional[str]
    original_entry: str
    ported_entry: str
    input_shape: Optional[tuple]  # bmodel input shape (n, c, h, w) used for symbolic sizes
    bmodel_info: Any = None


def _model_literal(model) -> Optional[str]:
    args = getattr(model, "args", None) or ()
    if args and isinstance(args[0], str):
        return args[0]
    kwargs = getattr(model, "kwargs", None) or {}
    for key in ("f", "path", "model_path", "path_or_bytes", "bmodel_path"):
        if isinstance(kwargs.get(key), str):
            return kwargs[key]
    return None


def build_plan(original: str, ported: str, bmodel: Optional[str], input_shape: Optional[tuple]) -> Plan:
    from portlint.analysis.analyze import interpret
    from portlint.analysis.context import pair_context
    from portlint.analysis.source import load_side
    from portlint.errors import SourceError
    from portlint.rules.matching import candidates, match_pipelines, replay_pair

    pair = SimpleNamespace(original=original, ported=ported, bmodel=bmodel, input_shape=input_shape)
    ctx = pair_context(pair)
    sides = {}
    for name, path in (("original", original), ("ported", ported)):
        try:
            side = load_side(path)
        except SourceError as err:
            raise PortlintError(f"{err.path}: {err.detail}") from None
        if not side.files:
            raise PortlintError(f"{path}: no Python file to analyse")
        if side.errors and not side.entries:
            e = side.errors[0]
            raise PortlintError(f"{e.path}: {e.detail}")
        sides[name] = candidates(interpret(side, ctx).sinks)
    o_sinks, p_sinks = sides["original"], sides["ported"]
    if not p_sinks:
        raise PortlintError(f"{ported}: no pipeline from an image to a model call was found to replay")
    if not o_sinks:
        raise PortlintError(f"{original}: no pipeline from an image to a model call was found to replay")
    best = replay_pair(match_pipelines(o_sinks, p_sinks, ctx))
    o, p = best.original, best.ported
    o_model = o.model
    from portlint.analysis.locate import locate

    def call(sink) -> str:
        loc = locate(sink.site)
        return f"model call {sink.api} ({loc.path}:{loc.line})" if loc else f"model call {sink.api}"
    return Plan(
        original_ops=o.img.state.ops, ported_ops=p.img.state.ops,
        original_state=o.img.state, ported_state=p.img.state,
        original_api=call(o), ported_api=call(p),
        original_model_hint=_model_literal(o_model), ported_model_hint=_model_literal(p.model),
        original_model_factory=(getattr(o_model, "attrs", {}) or {}).get("__factory__"),
        original_entry=o.entry.display, ported_entry=p.entry.display,
        input_shape=tuple(ctx.input_shape) if ctx.input_shape else None, bmodel_info=ctx.bmodel,
    )


def resolve_hint(hint: Optional[str], program: str) -> Optional[str]:
    """A model path named in a program, if it exists relative to the cwd or the program."""
    if not hint:
        return None
    for base in (Path.cwd(), Path(program).resolve().parent if os.path.isfile(program) else Path(program)):
        cand = base / hint
        if cand.is_file():
            return str(cand)
    return None
