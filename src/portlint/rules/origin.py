"""Where a value used by post-processing is defined: the place its fix goes.

A threshold is *used* deep inside an NMS (`ovr <= iou_thres` in a numpy nms_boxes) but *defined*
elsewhere: an argparse default, a constant set in an `__init__`, a literal keyword argument at a
call, a function default. `origin()` walks back from the use over the program's own code: a local
assignment, a parameter (to the argument its recorded call passed, or to its default), `self.x`
(to the assignment in the class), `args.x` (to the argparse option of that name), a module-level
constant. The interpreter's recorded calls (events.FunctionCall) say which call passed what; the
walk never runs anything. What it cannot follow (a call's result, a subscript of a config) is its
own origin: the fix goes at that expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from portlint.analysis.events import ArgparseDefault, CommandLineValue, FunctionCall
from portlint.analysis.image import Site
from portlint.analysis.syntax import ancestors, enclosing_function, params_of, walk

MAX_HOPS = 10


@dataclass
class Origin:
    """`site`: the node that defines the value (a literal, an argparse `default=`, an assignment's
    value, or the expression that computes it); `what` says which in words; `hops`: the places the
    value went through on its way to the use, nearest the definition first (the use site last)."""

    site: Site
    what: str
    hops: list = field(default_factory=list)
    literal: bool = False  # `site` is a number/bool literal that an edit can replace
    option: Optional[str] = None  # the argparse dest, when the value is a command-line option
    on_command_line: bool = False  # set by the command the user said the program runs with, not the default

    def related(self, use: Optional[Site], use_note: str) -> list:
        """(Site, note) pairs for a finding's `related`: the use site, then the first place that
        reads the definition (e.g. `self.nms_thresh = args.nms_thresh`), when they differ."""
        out = []
        if use is not None and not _same(use, self.site):
            out.append((use, use_note))
        for hop, note in self.hops[-1:]:
            if not _same(hop, self.site) and (use is None or not _same(hop, use)):
                out.append((hop, note))
        return out


def literal_value(node):
    """The number or bool of a literal node (`_literal`), else None."""
    if type(node) in (cst.Integer, cst.Float):
        return node.evaluated_value
    if type(node) is cst.UnaryOperation and type(node.expression) in (cst.Integer, cst.Float):
        return -node.expression.evaluated_value
    if type(node) is cst.Name:
        return {"True": True, "False": False}.get(node.value)
    return None


def _empty_display(node) -> bool:
    return type(node) in (cst.List, cst.Tuple, cst.Dict, cst.Set) and not node.elements


def _statement(site: Site):
    if type(site.node) is cst.SimpleStatementLine:
        return site.node
    return next((a for a in ancestors(site.file, site.node) if type(a) is cst.SimpleStatementLine), site.node)


def _same_statement(a: Site, b: Site) -> bool:
    """Both definitions are in one statement (`tw, th = int(w * r), int(h * r)`)."""
    return _same(a, b) or (a.file is b.file and _statement(a) is _statement(b))


def _same(a: Site, b: Site) -> bool:
    return a.file is b.file and a.node is b.node


def _literal(node) -> bool:
    if type(node) in (cst.Integer, cst.Float):
        return True
    if type(node) is cst.Name and node.value in ("True", "False", "None"):
        return True
    return type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus and \
        type(node.expression) in (cst.Integer, cst.Float)


def origin(prog, src, node, fn=None, files=None, accept=None, unique=False) -> Optional[Origin]:
    """The definition of the value of `node` (an expression of `src`, inside the function `fn`, or
    found from the tree when not given) in the program `prog` (analysis.facts.ProgramFacts).
    `files`: the side's SourceFiles, where base classes are looked up by name. `accept(origin)`:
    whether a literal definition can be the value the rule computed; a name assigned in several
    branches (`tx1 = 0` in one, `tx1 = int((W - w) / 2)` in the other) is then traced through the
    assignment that can be. `unique`: a name assigned more than once before its use (in two
    branches) is not followed at all: which assignment ran is not known."""
    if node is None or src is None:
        return None
    if fn is None:
        fn = enclosing_function(src, node)
    return _Walk(prog, files or [src], accept, unique).expr(src, node, fn, [], 0)


def defined_at(facts, site, accept=None, unique=False) -> Optional[Origin]:
    """origin() of the expression at `site` over the programs of one side (analysis.facts.SideFacts):
    the first program whose recorded calls follow the value back from its use. None when the value
    is defined where it is used."""
    if facts is None or site is None or site.node is None:
        return None
    files = list(facts.side.files.values())
    fn = enclosing_function(site.file, site.node)

    def ran_it(prog) -> bool:  # the programs that called the function using the value come first
        return prog.entry is site.file or any(c.func.node is fn for c in prog.of(FunctionCall))

    for prog in sorted(facts.programs(), key=lambda prog: not ran_it(prog)):
        found = origin(prog, site.file, site.node, files=files, accept=accept, unique=unique)
        if found is not None and found.hops and not _same(found.site, site):
            return found
    return None


class _Walk:
    def __init__(self, prog, files, accept=None, unique=False):
        self.prog = prog
        self.files = files
        self.accept = accept
        self.unique = unique
        self.seen: set = set()

    def expr(self, src, node, fn, hops: list, depth: int) -> Origin:
        here = Site(src, node)
        if _literal(node):
            return Origin(here, "literal", hops, literal=True)
        key = (id(node), id(fn))
        if depth > MAX_HOPS or key in self.seen:
            return Origin(here, "expression", hops)
        self.seen.add(key)
        if type(node) is cst.Name:
            found = self.name(src, node, fn, hops, depth)
            if found is not None:
                return found
        elif type(node) is cst.Attribute:
            found = self.attribute(src, node, fn, hops, depth)
            if found is not None:
                return found
        elif type(node) is cst.Subscript and type(node.value) in (cst.Name, cst.Attribute):
            # `self.ab[0]`: the element of a table is defined where the table is
            found = self.expr(src, node.value, fn, hops + [(here, f"`{_text(node.value)}` is indexed here")], depth + 1)
            if not _same(found.site, Site(src, node.value)) and not _empty_display(found.site.node):
                return found  # (a table built by appends to `[]` is not defined where it starts empty)
        elif type(node) in (cst.Tuple, cst.List) and node.elements:
            # `((ab[0], ab[1]), (ab[2], ab[3]))`: one definition for every element, or none
            found = [self.expr(src, e.value, fn, hops, depth + 1) for e in node.elements
                     if type(e) is cst.Element]
            moved = all(f.site.node is not e.value for f, e in zip(found, node.elements))  # defined elsewhere
            if len(found) == len(node.elements) and found[0].hops and moved and \
                    all(_same_statement(f.site, found[0].site) for f in found[1:]):
                return found[0]
        return Origin(here, "expression", hops)

    # ---------------------------------------------------------------- names
    def name(self, src, node: cst.Name, fn, hops, depth) -> Optional[Origin]:
        name = node.value
        scope = fn if fn is not None else src.module
        values = _assignments_before(scope, name, node)
        if len(values) > 1 and self.unique:
            return None
        if values:
            step = hops + [(Site(src, node), f"`{name}` is used here")]
            first = None
            for value in reversed(values):  # the last assignment first
                found = self.expr(src, value, fn, step, depth + 1)
                if self.accept is None or not found.literal or self.accept(found):
                    return found
                first = first or found
            return first
        if fn is not None and type(fn) is cst.FunctionDef and name in params_of(fn):
            return self.parameter(src, fn, name, node, hops, depth)
        if fn is not None:  # a module-level constant
            value = _assigned_before(src.module, name, None)
            if value is not None:
                return self.expr(src, value, None, hops + [(Site(src, node), f"`{name}` is used here")], depth + 1)
        return None

    def parameter(self, src, fn: cst.FunctionDef, name: str, node, hops, depth) -> Optional[Origin]:
        use = (Site(src, node), f"parameter `{name}` of {fn.name.value}() is used here")
        for call in self.prog.of(FunctionCall):
            if call.func.node is not fn or call.site is None or type(call.site.node) is not cst.Call:
                continue
            arg, splat = _argument(call, fn, name)
            csrc = call.site.file
            caller = enclosing_function(csrc, call.site.node)
            if arg is not None:
                return self.expr(csrc, arg, caller, hops + [use], depth + 1)
            if splat:  # run(**vars(opt)): the option of that name
                found = self.option(name, hops + [use])
                if found is not None:
                    return found
        default = _default(fn, name)
        if default is not None:
            return self.expr(src, default, fn, hops + [use], depth + 1)
        return None

    # ---------------------------------------------------------------- attributes
    def attribute(self, src, node: cst.Attribute, fn, hops, depth) -> Optional[Origin]:
        attr = node.attr.value
        base = node.value
        use = (Site(src, node), f"`{_text(node)}` is used here")
        if type(base) is cst.Name and base.value in ("self", "cls") and fn is not None:
            cls = next((a for a in ancestors(src, fn) if type(a) is cst.ClassDef), None)
            for csrc, c in self.classes(src, cls):
                found = _self_assignment(c, attr)
                if found is not None:
                    method, value = found
                    return self.expr(csrc, value, method, hops + [use], depth + 1)
                found = self.defaults_dict(csrc, c, attr, hops + [use], depth)
                if found is not None:
                    return found
        return self.option(attr, hops + [use])

    def classes(self, src, cls):
        """The class and its bases found by name among the side's files, nearest first."""
        out, todo = [], [(src, cls)] if cls is not None else []
        while todo and len(out) < 6:
            csrc, c = todo.pop(0)
            if any(c is x for _, x in out):
                continue
            out.append((csrc, c))
            for base in c.bases:
                name = base.value.value if type(base.value) is cst.Name else (
                    base.value.attr.value if type(base.value) is cst.Attribute else None)
                if name is None:
                    continue
                for f in [csrc] + [f for f in self.files if f is not csrc]:
                    if f.module is None or f"class {name}" not in f.text:
                        continue
                    hit = next((s for s in f.module.body if type(s) is cst.ClassDef and s.name.value == name), None)
                    if hit is not None:
                        todo.append((f, hit))
                        break
        return out

    def defaults_dict(self, src, cls: cst.ClassDef, attr: str, hops, depth) -> Optional[Origin]:
        """The bubbliiiing idiom: `_defaults = {"confidence": 0.5, ...}` on the class,
        `self.__dict__.update(self._defaults)` and `for name, value in kwargs.items(): setattr(self,
        name, value)` in __init__: a keyword of the construction call wins over the dict entry."""
        init = next((s for s in cls.body.body if type(s) is cst.FunctionDef and s.name.value == "__init__"), None)
        if init is None:
            return None
        text = code_text(src, init)
        if "__dict__.update" not in text:
            return None
        if "setattr(self" in text:
            for call in self.prog.of(FunctionCall):
                if call.func.node is init and call.site is not None and type(call.site.node) is cst.Call:
                    for a in call.site.node.args:
                        if a.keyword is not None and a.keyword.value == attr:
                            return self.expr(call.site.file, a.value, enclosing_function(call.site.file, call.site.node),
                                             hops, depth + 1)
        for stmt in cls.body.body:
            for small in getattr(stmt, "body", ()):
                if type(small) is cst.Assign and type(small.value) is cst.Dict and f"{_name_of(small)}" in text:
                    for e in small.value.elements:
                        if type(e) is cst.DictElement and type(e.key) is cst.SimpleString and \
                                e.key.evaluated_value == attr:
                            return self.expr(src, e.value, None, hops, depth + 1)
        return None

    def option(self, dest: str, hops) -> Optional[Origin]:
        defaults = [d for d in self.prog.of(ArgparseDefault) if d.dest == dest]
        if not defaults:
            return None
        d = defaults[-1]
        call = d.site.node
        given = [c for c in self.prog.of(CommandLineValue) if c.dest == dest]
        if given:  # the command the user gave sets it: no edit of the default changes what runs
            return Origin(d.site, f"--{dest} {_words(given[-1].value)} in the command it is run with", hops,
                          literal=False, option=dest, on_command_line=True)
        value = next((a.value for a in getattr(call, "args", ()) if a.keyword is not None and a.keyword.value == "default"),
                     None)
        site = Site(d.site.file, value if value is not None else call)
        return Origin(site, f"the default of --{dest}", hops, literal=value is not None and _literal(value), option=dest)


def _name_of(assign: cst.Assign) -> str:
    t = assign.targets[0].target
    return t.value if type(t) is cst.Name else "\0"


def code_text(src, node) -> str:
    from portlint.analysis.syntax import code
    return code(src, node)


def _text(node) -> str:
    from portlint.analysis.syntax import dotted
    return dotted(node) or "value"


def _assigned_before(scope, name: str, before) -> Optional[cst.BaseExpression]:
    """The value of the last plain `name = value` in `scope` before the node `before` (anywhere
    in the scope when `before` is None); `a, b = x, y` is split element-wise."""
    found = _assignments_before(scope, name, before)
    return found[-1] if found else None


def _assignments_before(scope, name: str, before) -> list:
    """The values of every plain `name = value` in `scope` before the node `before`, in order."""
    found = []
    body = scope.body if type(scope) is cst.FunctionDef else scope
    for n in walk(body):
        if before is not None and n is before:
            break
        if type(n) is not cst.Assign:
            continue
        for t in n.targets:
            target = t.target
            if type(target) is cst.Name and target.value == name:
                found.append(n.value)
            elif type(target) in (cst.Tuple, cst.List) and type(n.value) in (cst.Tuple, cst.List) and \
                    len(target.elements) == len(n.value.elements):
                for te, ve in zip(target.elements, n.value.elements):
                    if type(te.value) is cst.Name and te.value.value == name:
                        found.append(ve.value)
            elif type(target) in (cst.Tuple, cst.List) and any(
                    type(e.value) is cst.Name and e.value.value == name for e in target.elements):
                found.append(n.value)  # unpacked from a call or a name: the fix goes there
    return found


def _self_assignment(cls: cst.ClassDef, attr: str):
    """(method, value) of `self.attr = value`, the one in __init__ first."""
    best = None
    for stmt in cls.body.body:
        if type(stmt) is not cst.FunctionDef:
            continue
        for n in walk(stmt.body):
            if type(n) is cst.Assign:
                for t in n.targets:
                    tg = t.target
                    if type(tg) is cst.Attribute and tg.attr.value == attr and type(tg.value) is cst.Name \
                            and tg.value.value == "self":
                        if stmt.name.value == "__init__":
                            return stmt, n.value
                        best = best or (stmt, n.value)
    return best


def _argument(call: FunctionCall, fn: cst.FunctionDef, name: str):
    """(the argument node passed for parameter `name` at the recorded call, whether the call
    splats keywords (`**kwargs`) so that the name may come through it)."""
    node = call.site.node
    for a in node.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value, False
    names = params_of(fn)
    if call.func.self_obj is not None and names:
        names = names[1:]
    positional = [a for a in node.args if a.keyword is None and not a.star]
    if name in names:
        i = names.index(name)
        if i < len(positional) and not any(a.star == "*" for a in node.args[:i + 1]):
            return positional[i].value, False
    return None, any(a.star == "**" for a in node.args)


def _default(fn: cst.FunctionDef, name: str):
    p = fn.params
    for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        if param.name.value == name:
            return param.default
    return None


def decision_site(facts, site) -> Optional[tuple]:
    """(Site, note) of what chose the ported code at `site` over an alternative, for findings whose
    fix is to take another path (a keep-ratio letterbox where the original stretches):
    - the constant switch of an enclosing `if` (`if self.use_resize_padding:` with
      `self.use_resize_padding = True` in `__init__`): its definition;
    - else the call of the helper holding `site` (`self.letterbox(img, ..., auto=False)`): the
      caller chose the helper and its options.
    None when neither is known: the finding stays at `site`."""
    if facts is None or site is None or site.node is None:
        return None
    src = site.file
    fn = enclosing_function(src, site.node)
    for a in ancestors(src, site.node):
        if a is fn:
            break
        if type(a) is cst.If:
            test = a.test
            if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
                test = test.expression
            if type(test) in (cst.Name, cst.Attribute):
                found = defined_at(facts, Site(src, test))
                if found is not None and found.literal and isinstance(literal_value(found.site.node), bool):
                    return found.site, f"the switch `{_text(test)}` selects the branch that resizes this way"
    if fn is None:
        return None
    for prog in facts.programs():
        for call in prog.of(FunctionCall):
            if call.func.node is fn and call.site is not None and type(call.site.node) is cst.Call and \
                    enclosing_function(call.site.file, call.site.node) is not fn:
                return call.site, f"the call of {fn.name.value}() chooses this resize"
    return None


def _words(value) -> str:
    """A command-line value as the user wrote it: 0.3, 640, `480 640` for nargs."""
    from portlint.rules.common import fmt

    if isinstance(value, (list, tuple)):
        return " ".join(fmt(v) for v in value)
    return fmt(value)
