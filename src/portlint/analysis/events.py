"""What the interpreter records while it runs a program: the sinks and typed events.

Rules read named fields of these dataclasses (grouped per program by analysis/facts.py) instead
of payload dicts, so what a handler records and what a rule reads are one definition. Every
event gets its program's entry and its index in the side's execution order when it is recorded
(`Interpreter.record`). Slotted, no copies: a FunctionCall is recorded per inlined call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from portlint.analysis.image import Img, Site


@dataclass
class Sink:
    """A value reaching the model: the input image and where/how the model is called."""

    img: Img
    site: Site
    api: str
    entry: Any  # SourceFile of the program
    model: Any = None


@dataclass
class Scope:
    """Where names are evaluated: a function's arguments at entry, its final locals, its globals."""

    file: Any
    args: dict
    locals: dict
    globals: dict
    func: Any = None  # FunctionVal

    def env(self) -> dict:
        merged = dict(self.locals)
        merged.update(self.args)  # parameters as passed (later rebinding like `multi_label &= ...` ignored)
        return merged


@dataclass(slots=True, kw_only=True)
class Event:
    entry: Any = None  # SourceFile of the program that was running
    index: int = -1  # position among the side's events, in execution order


@dataclass(slots=True)
class Entry(Event):
    """A program's top level started; `env` is its live module namespace."""

    env: dict

    def scope(self) -> Scope:
        return Scope(self.entry, {}, self.env, self.env)


@dataclass(slots=True)
class FunctionCall(Event):
    """A local function or method inlined at `site` (None, or not a Call, for the fallback runs)."""

    func: Any  # FunctionVal
    args: dict  # the parameters at entry (a copy)
    locals: dict  # the frame's live locals: final once the call returned
    site: Optional[Site]

    def scope(self) -> Scope:
        f = self.func
        return Scope(f.file, self.args, self.locals, f.globals, f)


@dataclass(slots=True)
class NmsCall(Event):
    """A library NMS (or a SAIL post-processing helper that runs one), with its thresholds."""

    impl: str  # the API's qualified name
    site: Site
    node: Any  # the Call node
    func: Any  # FunctionVal running the call, None at a module's top level
    locals: dict  # that frame's live locals
    globals: dict
    iou: Any = None  # values of the arguments (UNKNOWN when not known, None when not passed)
    iou_arg: Any = None  # the arguments' nodes
    conf: Any = None
    conf_arg: Any = None
    top_k: Any = None
    boxes_arg: Any = None
    per_class: Any = None
    multi_label: Any = None


@dataclass(slots=True)
class JsonDump(Event):
    """json.dump / json.dumps of `obj`."""

    obj: Any
    site: Site
    node: Any
    func: Any
    locals: dict
    globals: dict


@dataclass(slots=True)
class SailOutputs(Event):
    """sail.Engine.process(graph, {name: array}) returned `outputs`, its output dict."""

    outputs: Any  # ApiObject portlint.ModelOutputs
    site: Site


@dataclass(slots=True)
class ModelMode(Event):
    """model.eval() / model.train(mode) on a torch module; `mode` is "eval" or "train"."""

    model: Any
    mode: str
    site: Site


@dataclass(slots=True)
class ModelExport(Event):
    """torch.jit.trace or torch.onnx.export of `model` with the example input `example`."""

    api: str
    model: Any
    example: Any
    example_arg: Any  # its node
    result: Any  # the traced module (None for an ONNX export)
    check_trace: Any
    check_arg: Any
    training: Any  # the ONNX TrainingMode name ("EVAL", "TRAINING", ...), None for a trace
    site: Site
    node: Any
    func: Any
    locals: dict
    globals: dict
    training_arg: Any = None


@dataclass(slots=True)
class ListOf(Event):
    """list(...) / tuple(...) of a sequence whose items are not known one by one."""

    value: Any  # the Seq
    site: Site


@dataclass(slots=True)
class ArgparseDefault(Event):
    """parser.add_argument(..., default=...): the option's dest and its default value."""

    dest: str
    default: Any
    site: Site


@dataclass(slots=True)
class CommandLineValue(Event):
    """An option's value read from the command line the user said the program runs with
    (--original-run, --ported-run): it, not the default, is what the program used."""

    dest: str
    value: Any
    site: Site  # the parse_args call


@dataclass(slots=True)
class OutputsView(Event):
    """outputs.values() / .keys() / .items() of a model's outputs mapping."""

    outputs: Any  # ApiObject portlint.ModelOutputs
    view: str  # "values", "keys" or "items"
    seq: Any  # the Seq returned
    site: Site
