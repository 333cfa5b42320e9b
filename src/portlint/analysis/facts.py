"""The analysis result the rules read: per side a SideFacts, per program a ProgramFacts.

A ProgramFacts holds the typed events (analysis/events.py) its entry point recorded, in
execution order, and gives the scopes of the functions it ran; SideFacts holds a side's sinks and
programs and evaluates an expression in a recorded scope through the interpreter
(`Interpreter.evaluate_in`), so rules read facts and never drive the interpreter themselves.
Post-processing works on arrays the interpreter does not model, so the *structure* of the code
(analysis.syntax) says what is computed and the recorded scopes say with which numbers.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.events import Entry, Event, FunctionCall, Scope
from portlint.analysis.syntax import _plain_code, enclosing_function, has_call, walk, dotted
from portlint.analysis.values import UNKNOWN, ApiObject

def is_program(src) -> bool:
    """A file with a top-level `if __name__ == "__main__":` is a program (an entry point)."""
    module = src.module
    if module is None or "__main__" not in src.text:
        return False
    found = _IS_PROGRAM.get(id(module))
    if found is None or found[0] is not module:
        found = _IS_PROGRAM[id(module)] = (module, any(
            type(stmt) is cst.If and _is_main_test(module, stmt.test) for stmt in module.body))
    return found[1]


_IS_PROGRAM: dict = {}


def _is_main_test(module, test) -> bool:
    if type(test) is cst.Comparison:  # the usual `__name__ == "__main__"`: read off the nodes
        parts = [_plain_code(test.left)] + [_plain_code(c.comparator) for c in test.comparisons]
        if None not in parts:
            return any("__main__" in p for p in parts) and any("__name__" in p for p in parts)
    text = module.code_for_node(test)
    return "__main__" in text and "__name__" in text


class ProgramFacts:
    """What one program (an entry point) ran: its events in order and the scopes they give."""

    def __init__(self, entry):
        self.entry = entry  # SourceFile
        self.events: list[Event] = []  # in execution order
        self._by_kind: dict = {}

    def of(self, kind: type) -> list:
        """The program's events of one kind (an events.py class), in execution order."""
        found = self._by_kind.get(kind)
        if found is None:
            found = self._by_kind[kind] = [e for e in self.events if type(e) is kind]
        return found

    @property
    def display(self) -> str:
        return self.entry.display

    def scopes_of(self, fn_node) -> list[Scope]:
        """Every recorded call of the function whose definition is `fn_node`."""
        return [c.scope() for c in self.of(FunctionCall) if c.func.node is fn_node]

    def scope_at(self, fn_node, before_index: Optional[int] = None) -> Optional[Scope]:
        """The latest call of `fn_node` recorded before the event `before_index` (the active frame)."""
        found = None
        for c in self.of(FunctionCall):
            if before_index is not None and c.index >= before_index:
                break
            if c.func.node is fn_node:
                found = c
        return found.scope() if found is not None else None

    def entry_scope(self) -> Optional[Scope]:
        """The program's top-level names (recorded when its entry started)."""
        entries = self.of(Entry)
        return entries[0].scope() if entries else None

    def host_scope(self, src, node, before_index: Optional[int] = None):
        """(function node or module, scope) of the code around `node`: the enclosing function's
        latest recorded call, or the program's top level."""
        fn = enclosing_function(src, node)
        if fn is None:
            return src.module, self.entry_scope() if src is self.entry else None
        return fn, self.scope_at(fn, before_index)


class SideFacts:
    """One side's analysis: its sinks, its programs, and expressions evaluated in their scopes."""

    def __init__(self, interp, side):
        self._interp = interp
        self.side = side  # analysis.source.Side
        self.strict: bool = bool(interp.context.get("strict"))
        self._programs: Optional[list[ProgramFacts]] = None

    @property
    def run_files(self) -> set:
        """The paths of the programs the user gave the command of (runspec.Run)."""
        return getattr(self._interp, "run_files", set())

    @property
    def sinks(self) -> list:
        """Every value that reached a model call (events.Sink), in the order found."""
        return self._interp.sinks

    @property
    def data_files(self) -> dict:
        """Configuration files the programs read as data: real path -> the bytes read."""
        return self._interp.data_files

    @property
    def limits_hit(self) -> list[str]:
        """One note per program whose analysis stopped at a budget."""
        return self._interp.limits_hit

    def programs(self) -> list[ProgramFacts]:
        """Events grouped by the entry that ran them; the analyser's fallback runs (functions run
        with unknown parameters when a program reaches no model) are left out for files with a main."""
        if self._programs is None:
            self._programs = _group_programs(self._interp.events)
        return self._programs

    def events_of(self, kind: type) -> list:
        """Every event of one kind the side recorded, in order, fallback runs included."""
        return [e for e in self._interp.events if type(e) is kind]

    def executed(self, fn_node) -> bool:
        """Was the function defined by `fn_node` run (inlined) at least once?"""
        return id(fn_node) in self._interp.executed_functions

    def module_env(self, src) -> dict:
        """A module's namespace as imported (empty if no program imported it)."""
        return self._interp.imported_env(src.path)

    def evaluate(self, expr, scope):
        """The value of a call-free expression (names, attributes, constants, arithmetic) in a
        Scope or at a module's top level (a SourceFile); UNKNOWN where it cannot be known."""
        if expr is None:
            return UNKNOWN
        if has_call(expr) and not _harmless_call(expr):
            return UNKNOWN
        return self._interp.evaluate_in(expr, scope)


def _is_fallback_call(call: FunctionCall) -> bool:
    """A call the analyser made of a function no program reached (analyze._fallback: no site, or
    the function's own definition as the site). A class decorator applied where the class is
    defined (`@singleton`, a registry's `register_module()`) is the program's own call: it used to
    count as a fallback and dropped the rest of the program's events (sophon-demo RetinaFace)."""
    site = call.site
    return site is None or type(site.node) is cst.FunctionDef


def _group_programs(events: list) -> list[ProgramFacts]:
    by_entry: dict = {}
    fallback: set = set()
    for event in events:
        entry = event.entry
        if entry is None:
            continue
        if type(event) is FunctionCall and _is_fallback_call(event):
            fallback.add(id(entry))
        if id(entry) in fallback and is_program(entry):
            continue
        prog = by_entry.get(id(entry))
        if prog is None:
            prog = by_entry[id(entry)] = ProgramFacts(entry)
        prog.events.append(event)
    progs = list(by_entry.values())
    mains = [p for p in progs if is_program(p.entry)]
    return mains or progs


def _harmless_call(expr) -> bool:
    for n in walk(expr, skip_functions=False):
        if type(n) is cst.Call and dotted(n.func) not in ("float", "int", "round", "min", "max", "abs"):
            return False
    return True


def is_output_names(value) -> bool:
    return isinstance(value, ApiObject) and value.qname == "portlint.OutputNames" or (
        isinstance(value, list) and value and all(isinstance(v, str) for v in value))


def instance_attr(value, name):
    attrs = getattr(value, "attrs", None)
    if isinstance(attrs, dict):
        return attrs.get(name, UNKNOWN)
    return UNKNOWN
