"""What the interpreter learnt about each program, for the rules: events grouped by program,
the scopes of the functions it ran, and the value of an expression in such a scope.

The interpreter records events while it runs each program (see apis/post_api.py and the
"call" event of every inlined local function: its arguments at entry and its live locals).
Post-processing works on arrays the interpreter does not model, so the *structure* of the code
(analysis.syntax) says what is computed and the recorded scopes say with which numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

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


def _is_fallback_call(payload) -> bool:
    site = payload.get("site")
    return site is None or not isinstance(site.node, cst.Call)


@dataclass
class Program:
    entry: Any  # SourceFile
    events: list = field(default_factory=list)  # (index, kind, payload), in execution order

    def of(self, kind: str) -> list:
        return [p for _, k, p in self.events if k == kind]

    @property
    def display(self) -> str:
        return self.entry.display


def programs(interp) -> list[Program]:
    """Events grouped by the entry that ran them; the analyser's fallback runs (functions run with
    unknown parameters when a program reaches no model) are left out for files with a main.
    Grouped once per interpreter (every rule asks), again only if events were added since."""
    cached = getattr(interp, "_programs", None)
    if cached is not None and cached[0] == len(interp.events):
        return cached[1]
    progs = _group_programs(interp)
    try:
        interp._programs = (len(interp.events), progs)
    except AttributeError:  # an interpreter-like object without attributes: no cache
        pass
    return progs


def _group_programs(interp) -> list[Program]:
    by_entry: dict = {}
    fallback: set = set()
    for index, (kind, payload) in enumerate(interp.events):
        entry = payload.get("entry")
        if entry is None:
            continue
        if kind == "call" and _is_fallback_call(payload):
            fallback.add(id(entry))
        if id(entry) in fallback and is_program(entry):
            continue
        prog = by_entry.get(id(entry))
        if prog is None:
            prog = by_entry[id(entry)] = Program(entry)
        prog.events.append((index, kind, payload))
    progs = list(by_entry.values())
    mains = [p for p in progs if is_program(p.entry)]
    return mains or progs


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


def scopes_of(interp_or_prog, fn_node, events=None) -> list[Scope]:
    """Every recorded call of the function whose definition is `fn_node`."""
    out = []
    source = events if events is not None else [(i, k, p) for i, (k, p) in enumerate(interp_or_prog.events)]
    for _, kind, p in source:
        if kind == "call" and p["func"].node is fn_node:
            f = p["func"]
            out.append(Scope(f.file, p["args"], p["locals"], f.globals, f))
    return out


def scope_at(prog: Program, fn_node, before_index: Optional[int] = None) -> Optional[Scope]:
    """The latest call of `fn_node` recorded before the event `before_index` (the active frame)."""
    found = None
    for index, kind, p in prog.events:
        if before_index is not None and index >= before_index:
            break
        if kind == "call" and p["func"].node is fn_node:
            found = p
    if found is None:
        return None
    f = found["func"]
    return Scope(f.file, found["args"], found["locals"], f.globals, f)


def evaluate(interp, expr, scope: Optional[Scope], src=None):
    """The value of a call-free expression (names, attributes, constants, arithmetic) in a scope."""
    if expr is None:
        return UNKNOWN
    if has_call(expr) and not _harmless_call(expr):
        return UNKNOWN
    from portlint.analysis.interp import Frame

    if scope is None:
        if src is None:
            return UNKNOWN
        env = interp.module_envs.get(src.path, {})
        frame = Frame(src, env, dict(env), is_module=True)
    else:
        frame = Frame(scope.file, scope.globals, scope.env(), func=scope.func)
    events = len(interp.events)
    interp.steps = 0
    try:
        return interp.eval(expr, frame)
    except Exception:
        return UNKNOWN
    finally:
        del interp.events[events:]


def _harmless_call(expr) -> bool:
    for n in walk(expr, skip_functions=False):
        if isinstance(n, cst.Call) and dotted(n.func) not in ("float", "int", "round", "min", "max", "abs"):
            return False
    return True


def argparse_defaults(prog: Program) -> list[dict]:
    return prog.of("argparse-default")


def is_output_names(value) -> bool:
    return isinstance(value, ApiObject) and value.qname == "portlint.OutputNames" or (
        isinstance(value, list) and value and all(isinstance(v, str) for v in value))


def instance_attr(value, name):
    attrs = getattr(value, "attrs", None)
    if isinstance(attrs, dict):
        return attrs.get(name, UNKNOWN)
    return UNKNOWN


def entry_scope(prog: Program) -> Optional[Scope]:
    """The program's top-level names (recorded when its entry started)."""
    for _, kind, p in prog.events:
        if kind == "entry":
            return Scope(prog.entry, {}, p["env"], p["env"])
    return None


def host_scope(prog: Program, src, node, before_index: Optional[int] = None):
    """(function node or module, scope) of the code around `node`: the enclosing function's
    latest recorded call, or the program's top level."""
    fn = enclosing_function(src, node)
    if fn is None:
        return src.module, entry_scope(prog) if src is prog.entry else None
    return fn, scope_at(prog, fn, before_index)
