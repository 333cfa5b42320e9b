"""PL201 output-order: model outputs taken by position from SAIL's output dict.

`Engine.process(graph, {name: array})` returns a dict built from a std::map, so its keys are in
lexicographic order, not in the model's output order; `get_output_names` gives the bmodel order
(docs/sail.md §4, §8.8). Taking outputs by position (`list(outputs.values())[i]`,
`a, b = outputs.values()`, `for k in outputs`, iterating `.items()`) is wrong whenever the names
do not sort in model order. Aligned: a single-output model, names that already sort in model order
(with --bmodel), reading by name, the sophon-demo reorder `if n == k`, selecting outputs by shape
(RetinaFace). The substring reorder `if n in k` is a warning: a name contained in another matches
the wrong key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.events import Entry, FunctionCall, OutputsView
from portlint.analysis.facts import ProgramFacts, SideFacts, is_output_names
from portlint.analysis.syntax import ancestors, assignment_of, code, dotted, enclosing_function, params_of, parent, walk
from portlint.rules.common import guarded
from portlint.rules.base import RuleMeta
from portlint.analysis.tree import compound_statements
from portlint.analysis.values import ApiObject
from portlint.findings import Fix, TextEdit

RULE = RuleMeta("PL201", "output-order", "error", ("safe",),
                "Model outputs taken by position from a lexicographically ordered mapping")

MAX_FOLLOW = 4
_IGNORED_CALLS = ("len", "print", "type", "isinstance", "id", "str", "repr", "format")
_LOGGING = ("logging.", "logger.", "log.", "print")


@dataclass
class Uses:
    positions: set = field(default_factory=set)  # constant indices read
    unpack: int = 0  # a, b, c = outputs
    ordered: list = field(default_factory=list)  # nodes where all outputs are used in dict order
    first_use: Any = None  # Site of the first positional use
    reorder: list = field(default_factory=list)  # (Site of the comparison, "==" or "in")
    by_shape: bool = False

    def positional(self) -> bool:
        return bool(self.positions or self.unpack or self.ordered)

    def lower_bound(self) -> int:
        return max([i + 1 for i in self.positions if i >= 0] + [self.unpack, 1 if self.positions else 0])


def _is_sail_dict(value) -> bool:
    return isinstance(value, ApiObject) and value.qname == "portlint.ModelOutputs" and value.attrs.get("style") == "sail-dict"


class _Analysis:
    def __init__(self, prog: ProgramFacts):
        self.prog = prog
        self.seen: set = set()

    # ---------------------------------------------------------------- one expression
    def expr(self, src, node, uses: Uses, depth: int, kind: str) -> None:
        key = (id(node), depth)
        if key in self.seen or depth > MAX_FOLLOW:
            return
        self.seen.add(key)
        par = parent(src, node)
        if type(par) is cst.Subscript and par.value is node:
            self.subscript(src, par, uses, depth, kind)
        elif type(par) is cst.Assign and par.value is node:
            for t in par.targets:
                target = t.target
                if type(target) in (cst.Tuple, cst.List):
                    uses.unpack = max(uses.unpack, len(target.elements))
                    uses.first_use = uses.first_use or Site(src, par)
                elif type(target) is cst.Name:
                    self.name(src, par, target.value, uses, depth, kind)
                elif type(target) is cst.Attribute:
                    self.attribute(src, par, target, uses, depth, kind)
        elif type(par) is cst.For and par.iter is node:
            self.loop(src, par, par.target, par.body, uses, kind)
        elif type(par) is cst.CompFor and par.iter is node:
            uses.ordered.append(Site(src, par))
            uses.first_use = uses.first_use or Site(src, par)
        elif type(par) is cst.Arg:
            call = parent(src, par)
            if type(call) is cst.Call:
                self.argument(src, call, par, uses, depth, kind)
        elif type(par) is cst.Return:
            self.returned(src, par, uses, depth, kind)
        elif type(par) in (cst.Element, cst.StarredElement):
            pass  # put into a container: not followed

    def subscript(self, src, sub: cst.Subscript, uses: Uses, depth: int, kind: str) -> None:
        if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
            return
        index = sub.slice[0].slice.value
        if self.shape_use(src, sub):
            uses.by_shape = True
            return
        value = _int(index)
        if value is not None:
            uses.positions.add(value)
            uses.first_use = uses.first_use or Site(src, sub)
            return
        if self.guarded_by_shape(src, sub):
            uses.by_shape = True
            return
        if uses.reorder:
            return
        if type(index) is cst.Name and self.loop_index(src, sub, index.value):
            uses.ordered.append(Site(src, sub))
            uses.first_use = uses.first_use or Site(src, sub)

    def shape_use(self, src, node) -> bool:
        """`X[i].shape...`: looking at a shape is not using the data."""
        par = parent(src, node)
        return type(par) is cst.Attribute and par.value is node and par.attr.value in ("shape", "ndim", "dtype", "size")

    def guarded_by_shape(self, src, node) -> bool:
        text = code(src, node)
        for a in ancestors(src, node):
            if type(a) in (cst.If, cst.IfExp) and f"{text}.shape" in code(src, a.test):
                return True
            if type(a) is cst.FunctionDef or isinstance(a, cst.Module):
                return False
        return False

    def loop_index(self, src, node, name: str) -> bool:
        for a in ancestors(src, node):
            if type(a) is cst.For and type(a.target) is cst.Name and a.target.value == name:
                return "range" in code(src, a.iter) or "enumerate" in code(src, a.iter)
            if type(a) is cst.FunctionDef or isinstance(a, cst.Module):
                return False
        return False

    def loop(self, src, loop, target, body, uses: Uses, kind: str) -> None:
        targets = [e.value.value for e in target.elements if type(e.value) is cst.Name] if type(target) in (cst.Tuple, cst.List) else (
            [target.value] if type(target) is cst.Name else [])
        body_code = code(src, body)
        if any(f"{t}.shape" in body_code for t in targets) and self.body_dispatches_on_shape(src, body, targets):
            uses.by_shape = True
            return
        # the key variable: `for k in outputs`, `for k, v in outputs.items()`, `for i, k in enumerate(keys)`
        keys = targets if kind in ("keys", "items", "dict") else []
        if any(self.compared_or_stored(src, body, key) for key in keys):
            return
        uses.ordered.append(Site(src, loop))
        uses.first_use = uses.first_use or Site(src, loop)

    def body_dispatches_on_shape(self, src, body, targets) -> bool:
        for n in walk(body):
            if type(n) in (cst.If, cst.IfExp) and any(f"{t}.shape" in code(src, n.test) for t in targets):
                return True
        return False

    def compared_or_stored(self, src, body, key: str) -> bool:
        """The loop reads outputs by their name: `if k == 'loc'`, `d[k] = v`, `k.startswith(...)`."""
        for n in walk(body):
            if type(n) is cst.Comparison and key in (_name(n.left), *(_name(c.comparator) for c in n.comparisons)):
                return True
            if type(n) is cst.Call and type(n.func) is cst.Attribute and _name(n.func.value) == key and \
                    n.func.attr.value in ("startswith", "endswith", "find", "split"):
                return True
            if type(n) in (cst.Assign, cst.AugAssign):
                targets = [t.target for t in n.targets] if type(n) is cst.Assign else [n.target]
                for t in targets:
                    if type(t) is cst.Subscript and len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index) \
                            and _name(t.slice[0].slice.value) == key:
                        return True
        return False

    # ---------------------------------------------------------------- names
    def name(self, src, assign, name: str, uses: Uses, depth: int, kind: str) -> None:
        scope = enclosing_function(src, assign) or src.module
        self.reorder_idiom(src, scope, name, uses)
        for n in walk(scope if type(scope) is cst.FunctionDef else src.module):
            if type(n) is cst.Name and n.value == name and not self.is_store(src, n):
                self.expr(src, n, uses, depth, kind)

    def attribute(self, src, assign, target: cst.Attribute, uses: Uses, depth: int, kind: str) -> None:
        """`self.outputs = list(...)`: uses of `self.outputs` in the same class."""
        text = code(src, target)
        cls = next((a for a in ancestors(src, assign) if type(a) is cst.ClassDef), None)
        for n in walk(cls if cls is not None else src.module, skip_functions=False):
            if type(n) is cst.Attribute and n is not target and code(src, n) == text:
                par = parent(src, n)
                if type(par) is cst.AssignTarget:
                    continue
                self.expr(src, n, uses, depth, kind)

    def is_store(self, src, node) -> bool:
        par = parent(src, node)
        if type(par) is cst.AssignTarget or (type(par) is cst.For and par.target is node):
            return True
        if type(par) in (cst.Element, cst.Tuple):
            return any(type(a) is cst.AssignTarget for a in list(ancestors(src, node))[:3])
        return type(par) is cst.Param

    def reorder_idiom(self, src, scope, name: str, uses: Uses) -> None:
        for loop in walk(scope):
            if type(loop) is not cst.For:
                continue
            it = loop.iter
            if type(it) is cst.Call and dotted(it.func) == "enumerate" and it.args:
                it = it.args[0].value
            if not (type(it) is cst.Name and it.value == name):
                continue
            found = _comparison_on(src, loop, loop.target)
            if found is not None:
                uses.reorder.append(found)

    # ---------------------------------------------------------------- calls and returns
    def argument(self, src, call: cst.Call, arg: cst.Arg, uses: Uses, depth: int, kind: str) -> None:
        name = dotted(call.func)
        if name in _IGNORED_CALLS or name.startswith(_LOGGING) or name.endswith((".debug", ".info", ".warning", ".format")):
            return
        if name in ("list", "tuple") and depth >= 0:
            self.expr(src, call, uses, depth, kind)
            return
        if name == "enumerate":
            self.expr(src, call, uses, depth, kind)
            return
        callees = [c for c in self.prog.of(FunctionCall) if c.site is not None and c.site.node is call]
        if not callees:
            uses.ordered.append(Site(src, call))
            uses.first_use = uses.first_use or Site(src, call)
            return
        p = callees[0]
        fn = p.func.node
        if type(fn) is not cst.FunctionDef:
            return
        names = params_of(fn)
        if p.func.self_obj is not None and names:
            names = names[1:]
        if arg.keyword is not None:
            target = arg.keyword.value
        else:
            positional = [a for a in call.args if a.keyword is None]
            i = positional.index(arg) if arg in positional else -1
            target = names[i] if 0 <= i < len(names) else None
        if target is not None:
            self.param(p.func.file, fn, target, uses, depth + 1, kind)

    def param(self, src, fn, name: str, uses: Uses, depth: int, kind: str) -> None:
        self.reorder_idiom(src, fn, name, uses)
        for n in walk(fn.body):
            if type(n) is cst.Name and n.value == name and not self.is_store(src, n):
                self.expr(src, n, uses, depth, kind)

    def returned(self, src, ret: cst.Return, uses: Uses, depth: int, kind: str) -> None:
        fn = enclosing_function(src, ret)
        if fn is None:
            return
        for c in self.prog.of(FunctionCall):
            if c.func.node is fn and c.site is not None and type(c.site.node) is cst.Call:
                self.expr(c.site.file, c.site.node, uses, depth + 1, kind)


def _int(node) -> Optional[int]:
    if type(node) is cst.Integer:
        return int(node.value)
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus and type(node.expression) is cst.Integer:
        return -int(node.expression.value)
    return None


def _name(node) -> Optional[str]:
    return node.value if type(node) is cst.Name else None


def _targets(target) -> list[str]:
    if type(target) is cst.Name:
        return [target.value]
    if type(target) in (cst.Tuple, cst.List):
        return [e.value.value for e in target.elements if type(e.value) is cst.Name]
    return []


def _comparison_on(src, loop: cst.For, target) -> Optional[tuple]:
    """`if n == k` / `if n in k` on the loop's key variable: (Site, operator, Comparison)."""
    keys = _targets(target)
    for n in walk(loop.body):
        if type(n) is cst.Comparison and len(n.comparisons) == 1:
            operands = (_name(n.left), _name(n.comparisons[0].comparator))
            if not any(k in operands for k in keys[-1:]):
                continue
            op = n.comparisons[0].operator
            if type(op) is cst.Equal:
                return Site(src, n), "==", n
            if type(op) is cst.In:
                return Site(src, n), "in", n
    return None


# ------------------------------------------------------------------ model facts


def _original_count(original: SideFacts) -> tuple[Optional[int], Optional[Site]]:
    best = (None, None)
    for sink in original.sinks:
        node = sink.site.node
        par = assignment_of(sink.site.file, node)
        if par is not None:
            for t in par.targets:
                if type(t.target) in (cst.Tuple, cst.List):
                    n = len(t.target.elements)
                    if best[0] is None or n > best[0]:
                        best = (n, Site(sink.site.file, par))
    return best


def _bmodel_names(ctx) -> Optional[list]:
    info = getattr(ctx, "bmodel", None)
    if info is not None and info.networks:
        return [t.name for t in info.networks[0].outputs]
    return None


# ------------------------------------------------------------------ the fix


def _names_code(src, node, outputs, ctx) -> Optional[str]:
    """Code that gives the output names in bmodel order where `node` is."""
    process = outputs.attrs.get("site") if isinstance(outputs, ApiObject) else None
    here = enclosing_function(src, node)
    if process is not None and type(process.node) is cst.Call and type(process.node.func) is cst.Attribute and process.node.args:
        engine = code(process.file, process.node.func.value)
        graph = code(process.file, process.node.args[0].value)
        there = enclosing_function(process.file, process.node)
        same = process.file is src and there is here
        if not same and process.file is src and here is not None and there is not None and engine.startswith("self.") and (
                graph.startswith("self.") or isinstance(process.node.args[0].value, cst.SimpleString)):
            cls_here = next((a for a in ancestors(src, here) if type(a) is cst.ClassDef), None)
            cls_there = next((a for a in ancestors(src, there) if type(a) is cst.ClassDef), None)
            same = cls_here is not None and cls_here is cls_there
        if same and "\n" not in engine + graph:
            return f"{engine}.get_output_names({graph})"
    names = _bmodel_names(ctx)
    if names:
        return repr(names)
    return None


def _view_fix(src, expr, view_call, kind: str, outputs, ctx) -> Optional[Fix]:
    names = _names_code(src, expr, outputs, ctx)
    if names is None or type(view_call) is not cst.Call or type(view_call.func) is not cst.Attribute:
        return None
    d = code(src, view_call.func.value)
    text = {"values": f"[{d}[name] for name in {names}]", "items": f"[(name, {d}[name]) for name in {names}]",
            "keys": f"list({names})"}.get(kind)
    sp = span(Site(src, expr))
    if text is None or sp is None:
        return None
    return Fix("safe", "take the outputs by name, in bmodel order (get_output_names)", [TextEdit(src.display, sp[0], sp[1], text)])


def _iter_fix(src, node, outputs, ctx) -> Optional[Fix]:
    names = _names_code(src, node, outputs, ctx)
    sp = span(Site(src, node))
    if names is None or sp is None:
        return None
    return Fix("safe", "iterate the output names in bmodel order (get_output_names)", [TextEdit(src.display, sp[0], sp[1], names)])


def _substring_fix(site: Site, comparison: cst.Comparison) -> Optional[Fix]:
    left, right = comparison.left, comparison.comparisons[0].comparator
    sp = span(site)
    if sp is None:
        return None
    text = f"{code(site.file, left)} == {code(site.file, right)}"
    return Fix("safe", "match output names exactly (n == k)", [TextEdit(site.file.display, sp[0], sp[1], text)])


# ------------------------------------------------------------------ rule entry point


def _describe(uses: Uses) -> str:
    parts = []
    if uses.positions:
        parts.append("reads position" + ("s " if len(uses.positions) > 1 else " ") + ", ".join(str(i) for i in sorted(uses.positions)))
    if uses.unpack:
        parts.append(f"unpacks {uses.unpack} outputs in dict order")
    if uses.ordered and not parts:
        parts.append("uses the outputs in dict order")
    return " and ".join(parts)


def _message(uses: Uses, count: Optional[int], names: Optional[list], o_site, o_count=None) -> Optional[str]:
    head = (f"ported takes the model outputs by position from the dict Engine.process returns ({_describe(uses)}); "
            "its keys are sorted by name (std::map), not in model order")
    if names:
        order = sorted(names)
        wrong = [(i, order[i], names[i]) for i in range(len(names)) if order[i] != names[i]]
        i, got, want = wrong[0]
        return (f"{head}: the bmodel's outputs are {names} but the dict gives {order}, so position {i} is "
                f"'{got}' instead of '{want}'")
    if o_site is not None and count and count == o_count:
        return (f"{head}: the original unpacks {count} outputs in model order; unless their names happen to sort "
                "the same way ('10' sorts before '9'), they are swapped")
    least = "" if uses.unpack == count else "at least "
    return f"{head}: the model has {least}{count} outputs, and names like '9' and '10' sort in the opposite order"


@guarded
def check(pair) -> list:
    ported, ctx = pair.ported, pair.ctx
    names = _bmodel_names(ctx)
    exported = export_names(pair.original) if names is None else []
    o_count, o_site = _original_count(pair.original)
    findings = []
    done = set()
    for prog in ported.programs():
        analysis = _Analysis(prog)
        items = []
        for view in prog.of(OutputsView):
            if not _is_sail_dict(view.outputs):
                continue
            call = view.site.node
            src = view.site.file
            if id(call) in done:
                continue
            done.add(id(call))
            par = parent(src, call)
            expr = call
            if type(par) is cst.Arg:
                outer = parent(src, par)
                if type(outer) is cst.Call and dotted(outer.func) in ("list", "tuple"):
                    expr = outer
            uses = Uses()
            analysis.expr(src, expr, uses, 0, view.view)
            items.append((src, expr, call, view.view, view.outputs, uses))
        for src, loop, outputs in _dict_loops(prog):
            if id(loop) in done:
                continue
            done.add(id(loop))
            uses = Uses()
            analysis.loop(src, loop, loop.target, loop.body, uses, "dict")
            items.append((src, loop.iter, None, "dict", outputs, uses))
        for src, expr, call, kind, outputs, uses in items:
            for site, op, node in uses.reorder:
                if op == "in" and id(node) not in done:
                    done.add(id(node))
                    findings.extend(_substring(site, node, names, sorted_keys=kind != "dict", exported=exported))
            if not uses.positional():
                continue
            lower = uses.lower_bound()
            count = len(names) if names else (o_count if o_count else None)
            if names is not None and (len(names) <= 1 or sorted(names) == names):
                continue
            if lower <= 1 and not uses.ordered and not (count and count > 1):
                continue
            if uses.ordered and not (uses.positions or uses.unpack) and not (count and count > 1):
                continue
            exact = uses.unpack or (len(names) if names else None)
            msg = _message(uses, exact or max(lower, count or 0), names, o_site, o_count)
            fix = _iter_fix(src, expr, outputs, ctx) if kind == "dict" else _view_fix(src, expr, call, kind, outputs, ctx)
            findings.append(RULE.finding(msg, Site(src, expr), o_site, fix=fix))
        findings.extend(_substring_reorders(ported, prog, names, done, exported))
    return findings


def _dict_loops(prog: ProgramFacts):
    """`for k in outputs:` over a SAIL output dict held in a variable of a function or of the
    program's top level."""
    seen = set()
    scopes = []
    for event in prog.events:
        if type(event) is FunctionCall and type(event.func.node) is cst.FunctionDef:
            scopes.append((event.func.file, event.func.node.body, event.locals))
        elif type(event) is Entry:
            scopes.append((prog.entry, prog.entry.module, event.env))
    for src, body, env in scopes:
        holders = {name for name, v in env.items() if _is_sail_dict(v)}
        if not holders:
            continue
        for n in walk(body):
            if type(n) is cst.For and type(n.iter) is cst.Name and n.iter.value in holders and id(n) not in seen:
                seen.add(id(n))
                yield src, n, env[n.iter.value]


def _collisions(names: list, sorted_keys: bool) -> list:
    """(name, key) pairs where `n in k` matches another output's key first."""
    keys = sorted(names) if sorted_keys else list(names)
    out = []
    for n in names:
        hit = next((k for k in keys if n in k), None)
        if hit is not None and hit != n:
            out.append((n, hit))
    return out


def _substring(site: Site, node, names, sorted_keys: bool, exported=None) -> list:
    """The substring reorder `if n in k`: a warning naming the names that collide when the names
    are known (--bmodel, or every list of names the original exports its model with) and collide,
    nothing when they are known and none collides, `info` when they are not known."""
    test = code(site.file, node)
    if names:
        clashes = _collisions(names, sorted_keys)
        if not clashes:
            return []
        detail = ", ".join(f"'{a}' matches '{b}'" for a, b in clashes)
        msg = (f"ported reorders the outputs with a substring test ({test}): with this bmodel {detail} "
               "first, so that output is read twice and another never")
        return [RULE.finding(msg, site, None, severity="warning", fix=_substring_fix(site, node))]
    if exported:
        hits = [(lst, _collisions(lst, sorted_keys)) for lst, _ in exported]
        bad = [(lst, c) for lst, c in hits if c]
        if not bad:
            return []  # every name list the original exports with is collision-free
        lst, clashes = bad[0]
        detail = ", ".join(f"'{a}' matches '{b}'" for a, b in clashes)
        msg = (f"ported reorders the outputs with a substring test ({test}): with the output names the original "
               f"exports its model with ({lst}), {detail} first, so that output is read twice and another never")
        site_o = next((where for l2, where in exported if l2 is lst), None)
        return [RULE.finding(msg, site, site_o, severity="warning", fix=_substring_fix(site, node))]
    msg = (f"ported reorders the outputs with a substring test ({test}) instead of n == k; whether it can pick the "
           "wrong output depends on the names (an output name contained in another, e.g. '35' in '350', matches the "
           "wrong key when that key comes first); --bmodel tells")
    return [RULE.finding(msg, site, None, severity="info", fix=_substring_fix(site, node))]


def export_names(original: SideFacts) -> list:
    """[(names, Site)] of every list of output names the original side passes to
    torch.onnx.export (`output_names=[...]`, read from the code: an IfExp gives both lists, a
    `names += [...]` both the list before and after); [] when one is not a list of strings."""
    out = []
    for src in original.side.files.values():
        if src.module is None or "onnx.export(" not in src.text:
            continue
        from portlint.analysis.syntax import call_name, functions
        for fn in list(functions(src)) + [src.module]:
            body = fn.body if type(fn) is cst.FunctionDef else fn
            for n in walk(body):
                if type(n) is not cst.Call or not call_name(n).endswith("onnx.export"):
                    continue
                arg = next((a.value for a in n.args if a.keyword is not None and a.keyword.value == "output_names"), None)
                if arg is None:
                    continue
                lists = _string_lists(src, arg, fn if type(fn) is cst.FunctionDef else src.module, n, 0)
                if lists is None:
                    return []
                out.extend((lst, Site(src, n)) for lst in lists)
    return out


def _string_lists(src, node, scope, before, depth) -> Optional[list]:
    if depth > 4:
        return None
    if type(node) in (cst.List, cst.Tuple):
        items = []
        for e in node.elements:
            if type(e.value) is not cst.SimpleString:
                return None
            items.append(e.value.evaluated_value)
        return [items]
    if type(node) is cst.IfExp:
        a = _string_lists(src, node.body, scope, before, depth + 1)
        b = _string_lists(src, node.orelse, scope, before, depth + 1)
        return None if a is None or b is None else a + b
    if type(node) is cst.Name:
        found = None
        body = scope.body if type(scope) is cst.FunctionDef else scope
        for n in walk(body):
            if n is before:
                break
            if type(n) is cst.Assign and any(type(t.target) is cst.Name and t.target.value == node.value for t in n.targets):
                found = _string_lists(src, n.value, scope, n, depth + 1)
            elif type(n) is cst.AugAssign and type(n.target) is cst.Name and n.target.value == node.value and \
                    type(n.operator) is cst.AddAssign and found is not None:
                more = _string_lists(src, n.value, scope, n, depth + 1)
                if more is None:
                    return None
                found = found + [a + b for a in found for b in more]
        return found
    return None


def _substring_reorders(facts: SideFacts, prog: ProgramFacts, names, done: set, exported=None) -> list:
    """sophon-demo's reorder loop `for n in output_names: for i, k in enumerate(keys): if n in k`."""
    out = []
    seen = set()
    for p in prog.of(FunctionCall):
        fn = p.func.node
        if type(fn) is not cst.FunctionDef or id(fn) in seen:
            continue
        seen.add(id(fn))
        src = p.func.file
        for outer in compound_statements(fn.body.body if type(fn.body) is cst.IndentedBlock else ()):
            if type(outer) is not cst.For:  # exact type: isinstance goes through ABCMeta
                continue
            if not ("output_names" in code(src, outer.iter) or is_output_names(facts.evaluate(outer.iter, p.scope()))):
                continue
            for inner in compound_statements(outer.body.body if type(outer.body) is cst.IndentedBlock else ()):
                if type(inner) is cst.For:
                    found = _comparison_on(src, inner, inner.target)
                    if found is None or found[1] != "in" or id(found[2]) in done:
                        continue
                    operands = (_name(found[2].left), _name(found[2].comparisons[0].comparator))
                    if _targets(outer.target)[:1] and _targets(outer.target)[0] not in operands:
                        continue
                    done.add(id(found[2]))
                    dict_keys_sorted = "keys()" in code(src, fn) and _sail_keys(p)
                    out.extend(_substring(found[0], found[2], names, sorted_keys=dict_keys_sorted, exported=exported))
    return out


def _sail_keys(call: FunctionCall) -> bool:
    return any(_is_sail_dict(v) for v in call.locals.values())
