"""Shared pieces of the post-processing rules: events per program, syntax helpers, scopes.

The interpreter records events while it runs each program (see apis/post_api.py and the
"call" event of every inlined local function: its arguments at entry and its live locals).
The rules read them here, together with the syntax of the functions involved: post-processing
works on arrays the interpreter does not model, so the *structure* of the code says what is
computed and the recorded scopes say with which numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

import libcst as cst

from portlint.engine.compare.base import make_finding
from portlint.analysis.image import Site
from portlint.analysis import tree
from portlint.analysis.tree import children
from portlint.analysis.values import UNKNOWN, ApiObject, Namespace, Sym

# ------------------------------------------------------------------ programs and events


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


# ------------------------------------------------------------------ syntax

def parent(src, node):
    return tree.module_index(src.module).parent(node)


def ancestors(src, node) -> Iterator:
    idx = tree.module_index(src.module)
    node = idx.parent(node)
    while node is not None:
        yield node
        node = idx.parent(node)


def assignment_of(src, value) -> Optional[cst.Assign]:
    """The `targets = value` statement whose right-hand side is exactly `value`, if any.

    From a map of every assignment's value, built from the statements only (an Assign is always
    a statement): far cheaper than indexing the whole module for one parent lookup."""
    module = src.module
    found = _ASSIGNMENTS.get(id(module))
    if found is None or found[0] is not module:
        values = {id(small.value): small for small in tree.small_statements(module.body) if type(small) is cst.Assign}
        found = _ASSIGNMENTS[id(module)] = (module, values)
    stmt = found[1].get(id(value))
    return stmt if stmt is not None and stmt.value is value else None


_ASSIGNMENTS: dict = {}


def enclosing_function(src, node) -> Optional[cst.FunctionDef]:
    for a in ancestors(src, node):
        if isinstance(a, cst.FunctionDef):
            return a
    return None


_WALKED: dict = {}


def walk(node, skip_functions: bool = True) -> Iterator:
    """Every node under `node` (itself included), not descending into nested defs and lambdas,
    leaving out layout-only nodes (whitespace, newlines, comments, punctuation: tree.LAYOUT).

    Trees never change: a node of an indexed module (functions(), parent()) is walked as a slice
    of the module's one pre-order traversal (engine/tree.py), any other node once and remembered."""
    found = tree.find(node)
    if found is not None:
        return iter(found[0].walk(found[1], skip_functions))
    key = (id(node), skip_functions)
    hit = _WALKED.get(key)
    if hit is not None and hit[0] is node:
        return iter(hit[1])
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        for child in reversed(children(n)):
            if (skip_functions and type(child) in tree.DEFINITIONS) or type(child) in tree.LAYOUT:
                continue
            stack.append(child)
    _WALKED[key] = (node, out)
    return iter(out)


def code(src, node) -> str:
    """The node's source text; remembered, as rules ask for the same nodes' text again and again
    (libcst regenerates it from the tree each time)."""
    hit = _CODE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    text = _plain_code(node)
    if text is not None:
        return text
    try:
        text = src.module.code_for_node(node)
    except Exception:
        text = ""
    if len(_CODE) > 100_000:
        _CODE.clear()
    _CODE[id(node)] = (node, text)
    return text


_CODE: dict = {}
_LEAVES = {cst.Name, cst.Integer, cst.Float, cst.SimpleString}


def _plain_code(node) -> Optional[str]:
    """The text of a name, number, string or `a.b.c` chain written without parentheses or spaces,
    read off the nodes (libcst's code generation costs ~30x more); None for anything else."""
    t = type(node)
    if t in _LEAVES:
        return node.value if not node.lpar else None
    if t is cst.Attribute and not node.lpar:
        dot = node.dot
        if type(dot) is cst.Dot and _no_space(dot.whitespace_before) and _no_space(dot.whitespace_after):
            base = _plain_code(node.value)
            return None if base is None else f"{base}.{node.attr.value}"
    return None


def _no_space(ws) -> bool:
    return type(ws) is cst.SimpleWhitespace and ws.value == ""


def call_name(node) -> str:
    """`np.argsort` -> 'np.argsort', `x.argsort` -> '.argsort' (method on an expression)."""
    if not isinstance(node, cst.Call):
        return ""
    return dotted(node.func)


def dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else f".{node.attr.value}"
    return ""


def last_name(node) -> str:
    d = dotted(node)
    return d.rsplit(".", 1)[-1] if d else ""


def functions(src) -> Iterator[cst.FunctionDef]:
    """Every def in the module, nested ones too, in lexical order."""
    return iter(tree.module_index(src.module).functions())


def params_of(fn: cst.FunctionDef) -> list[str]:
    p = fn.params
    return [x.name.value for x in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)]


def number(value) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)


# ------------------------------------------------------------------ scopes


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


def has_call(node) -> bool:
    return any(isinstance(n, cst.Call) for n in walk(node, skip_functions=False))


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


# ------------------------------------------------------------------ where a number comes from


def argparse_defaults(prog: Program) -> list[dict]:
    return prog.of("argparse-default")


def origin_edit(prog: Optional[Program], value, pattern: str, literal_arg=None, src=None):
    """The node to rewrite so that a threshold changes: the argument literal when the call
    passes one, else the one argparse default with this value whose name matches `pattern`."""
    from portlint.analysis.locate import span
    from portlint.findings import TextEdit

    if literal_arg is not None and src is not None:
        v = literal_arg.value if isinstance(literal_arg, cst.Arg) else literal_arg
        if isinstance(v, (cst.Float, cst.Integer)):
            sp = span(Site(src, v))
            if sp:
                return lambda new: TextEdit(src.display, sp[0], sp[1], fmt(new))
    if prog is None:
        return None
    rx = re.compile(pattern, re.I)
    hits = [p for p in argparse_defaults(prog) if rx.search(p["dest"]) and number(p["default"]) is not None
            and abs(p["default"] - value) < 1e-12]
    if len(hits) != 1:
        return None
    call = hits[0]["site"].node
    file = hits[0]["site"].file
    for arg in getattr(call, "args", ()):
        if arg.keyword is not None and arg.keyword.value == "default" and isinstance(arg.value, (cst.Float, cst.Integer)):
            sp = span(Site(file, arg.value))
            if sp:
                return lambda new: TextEdit(file.display, sp[0], sp[1], fmt(new))
    return None


def is_output_names(value) -> bool:
    return isinstance(value, ApiObject) and value.qname == "portlint.OutputNames" or (
        isinstance(value, list) and value and all(isinstance(v, str) for v in value))


def instance_attr(value, name):
    attrs = getattr(value, "attrs", None)
    if isinstance(attrs, dict):
        return attrs.get(name, UNKNOWN)
    return UNKNOWN


def first(items: Iterable, default=None):
    for x in items:
        return x
    return default


def engine_site(p_interp) -> Optional[Site]:
    """Where the ported program loads its bmodel (sail.Engine), else its first model call."""
    for sink in p_interp.sinks:
        model = sink.model
        if isinstance(model, ApiObject) and model.qname.endswith("Engine") and model.site is not None:
            return model.site
    for kind, p in p_interp.events:
        if kind == "sail-process-dict":
            model = p["outputs"].attrs.get("model")
            if isinstance(model, ApiObject) and model.site is not None:
                return model.site
    for sink in p_interp.sinks:
        return sink.site
    return None


def is_sym(v) -> bool:
    return isinstance(v, Sym)


def is_namespace(v) -> bool:
    return isinstance(v, Namespace)


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


def closest_original(kind: str, originals: list, ported, compare) -> list:
    """Findings for one ported item (an NMS, a COCO record) against the original program whose
    first item differs least from it: `originals` is [(program, items)], `compare(o, p)` gives
    (message, ported site, original site, severity, fix) tuples. With several original programs
    each finding names the one it was compared with."""
    best = None
    for program, items in originals:
        diffs = compare(items[0], ported)
        if best is None or len(diffs) < len(best[1]):
            best = (program, diffs)
    findings = []
    for message, psite, osite, severity, fix in best[1] if best else ():
        finding = make_finding(kind, message, psite, osite, severity=severity, fix=fix)
        if len(originals) > 1:
            finding.program = best[0].display
        findings.append(finding)
    return findings


def guarded(check):
    """A rule's check: an analyser bug must not stop the report (re-raised in strict mode)."""
    import functools

    @functools.wraps(check)
    def run(o_interp, p_interp, ctx, original, ported):
        try:
            return check(o_interp, p_interp, ctx, original, ported)
        except Exception:
            if o_interp.context.get("strict") or p_interp.context.get("strict"):
                raise
            return []
    return run
