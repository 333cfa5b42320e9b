"""Abstract interpreter: executes the analysed program over static values, never for real.

Entry points are each program's top level (with `__name__ == "__main__"`); local functions and
methods are inlined at their call sites (bounded depth), so `self.` attributes set in `__init__`,
argparse defaults and helper functions all carry their values to where the image is processed.
Branches whose condition is unknown are both executed and merged; loops run their body once,
or fully when the iterable is a small known sequence. Library calls are given meaning only by
the API tables in `portlint.analysis.apis`; everything else is UNKNOWN.
What it finds is recorded as sinks and typed events (analysis/events.py); rules read them as
facts (analysis/facts.py), and `evaluate_in` is the one way to evaluate more after the run.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis import apis
from portlint.analysis.events import Entry, Event, FunctionCall, Scope, Sink
from portlint.analysis.image import Img, Site
from portlint.analysis import protocols, raising
from portlint.analysis.raising import ProgramRaise
from portlint.analysis.objects import ClassVal, FunctionVal, Instance, LocalModule
from portlint.analysis.source import Side, SourceFile, dotted_name as _dotted, resolve_local_module
from portlint.analysis.merging import _carries_image, conditional_merge, merge_values
from portlint.analysis.writes import loop_writes
from portlint.analysis.unknowns import flag_condition, named_attribute
from portlint.analysis.scoping import global_names
from portlint.analysis.bounds import concat_fits
from portlint.local_files import search_roots
from portlint.analysis.values import (
    UNKNOWN, ApiObject, ApiRef, BoundApi, Namespace, Seq, Sym, Union, is_unknown, numeric_op, one_of,
)

MAX_DEPTH = 14
MAX_LOOP = 512  # items of a known sequence a loop is unrolled over (MAX_LOOP_WORK bounds a nest)
# Body runs one nest of known-length `for` loops may unroll (loops in functions it calls count
# too): sophon-demo's yolact `make_priors` (3 x 35 x 35 and more) unrolled in full took a second
# to compute anchor boxes no rule looks at. Past it, a loop runs its body once and every name,
# attribute and container the body writes becomes unknown (widen), as their values depend on
# iterations not run.
MAX_LOOP_WORK = 2048
MAX_STEPS = 200_000
TIME_LIMIT = float(os.environ.get("PORTLINT_FILE_TIME_LIMIT", "20"))  # seconds of analysis per program


class _Stop(Exception):
    """Internal: budget exhausted for this entry point."""


class _ForwardTooLong(_Stop):
    """Internal: a module's forward ran past its budget: it is a network, not a transform."""


FORWARD_STEPS = 20_000  # a module forward longer than this is a network (its call is the model call)


@dataclass
class Frame:
    file: SourceFile
    globals: dict
    locals: dict
    is_module: bool = False
    returns: list = field(default_factory=list)
    func: Any = None
    yields: Optional[list] = None  # a generator's yielded values
    # the undecided branches being run: (symbolic condition, which side) or None for a condition
    # that is not symbolic; each return records them, so that an early `return` under a symbolic
    # condition gives ifelse(cond, early, later) instead of an unknown merge
    guards: list = field(default_factory=list)
    return_guards: list = field(default_factory=list)
    raised: Optional[str] = None  # the exception a certain raise (raising.py) is propagating


NORMAL, RETURN, BREAK, CONTINUE, RAISE = "normal", "return", "break", "continue", "raise"

_BINOPS = {
    cst.Add: "add", cst.Subtract: "sub", cst.Multiply: "mul", cst.Divide: "truediv",
    cst.FloorDivide: "floordiv", cst.Modulo: "mod", cst.Power: "pow", cst.MatrixMultiply: "matmul",
    cst.BitAnd: "and_", cst.BitOr: "or_", cst.BitXor: "xor", cst.LeftShift: "lshift", cst.RightShift: "rshift",
}
_CMPOPS = {
    cst.LessThan: "lt", cst.LessThanEqual: "le", cst.GreaterThan: "gt", cst.GreaterThanEqual: "ge",
    cst.Equal: "eq", cst.NotEqual: "ne",
}


_EVALUATORS: dict = {}  # node class -> Interpreter.ev_<Class> (or None)


class Interpreter:
    def __init__(self, side: Side, context: dict):
        self.side = side
        self.context = context  # e.g. {"input_shape": (1,3,224,224), "bmodel": BModelInfo}
        self.sinks: list[Sink] = []
        self.events: list[Event] = []  # typed facts for the rules (analysis/events.py), in execution order
        self.module_envs: dict = {}  # the modules the program being run imported: path -> namespace
        self._imported: dict = {}  # the first namespace of each module an earlier program imported
        self.stack: list = []
        self.steps = 0
        self.entry: Optional[SourceFile] = None
        self.argv: Optional[list] = None  # sys.argv of the program being run, when the user gave its command
        self.executed_functions: set[int] = set()
        self.deadline = float("inf")
        self.loop_depth = 0  # `for` loops being unrolled, calls included
        self.loop_work = 0  # body runs the current outermost loop nest has unrolled
        # the folders the loader searched for local modules (engine.source.load_side): the side's
        # folder and two levels up, so `from consts import MEAN` one folder up resolves here too
        self.import_roots = search_roots(side.root)
        self.limits_hit: list[str] = []  # one message per program whose analysis was cut short
        self.entry_envs: dict = {}  # each program's top-level names after its run
        self.data_files: dict = {}  # configuration files read as data: real path -> bytes read
        self.run_files: set = set()  # the programs the user said how to run (--original-run / --ported-run)
        self.forward_limit: Optional[int] = None  # step count at which a module forward is cut off
        self.forward_site: Optional[Site] = None  # where the program calls the module being followed
        self.library: dict = {}  # library state of the program being run (mmengine's default scope, registry tree)

    # ---------------------------------------------------------------- entry points
    def run_entry(self, src: SourceFile) -> None:
        self._start(src)
        self._new_process()
        env = {"__name__": "__main__", "__file__": str(src.path)}
        self.record(Entry(env))  # the program's top-level names, for the rules
        self.entry_envs[src.path] = env
        frame = Frame(src, env, env, is_module=True)
        try:
            self.exec_block(src.module.body, frame)
        except _Stop as stop:
            self._limit(src, stop)

    def run_command(self, run) -> None:
        """The program as the user runs it (analysis/runspec.py): a file as __main__, or a module
        imported and its console-script function called, with the command's sys.argv."""
        src = run.file
        self._start(src)
        self._new_process()
        self.argv = list(run.argv)
        self.run_files.add(src.path)
        self.data_files.update(run.read)  # the project file that named the script: in the cache key
        roots = self.import_roots
        self.import_roots = roots + _project_folders(src.path, self.side.root)
        try:
            for package in run.packages:  # as importlib does: the enclosing packages first
                self.module_env(package)
            if run.function is None:
                env = {"__name__": "__main__", "__file__": str(src.path)}
                self.record(Entry(env))
                self.entry_envs[src.path] = env
                self.exec_block(src.module.body, Frame(src, env, env, is_module=True))
                return
            env = self.module_env(src)
            self.record(Entry(env))
            func = env.get(run.function)
            if isinstance(func, FunctionVal):
                self.call_function(func, [], {}, Site(src, func.node))
        except _Stop as stop:
            self._limit(src, stop)
        except ProgramRaise:
            pass  # the program stops there, as it would when run
        finally:
            self.argv = None
            self.import_roots = roots

    def construct_as_entry(self, init: FunctionVal, src: SourceFile) -> None:
        """Fallback: an instance of a class of the program, made with unknown arguments."""
        self._start(src)
        try:
            self.call_function(init, [], {}, None)
        except _Stop as stop:
            self._limit(src, stop)

    def _new_process(self) -> None:
        """Each program runs in a process of its own: it imports the modules afresh, so what one
        program did to module state (a class's `_defaults` dict updated by its constructor, a
        module-level cache) is not what the next program starts from."""
        for path, env in self.module_envs.items():
            self._imported.setdefault(path, env)
        self.module_envs = {}
        self.library = {}

    def imported_env(self, path) -> dict:
        """A module's namespace as a program imported it (the last program that did, else the first
        earlier one); empty if none did."""
        env = self.module_envs.get(path)
        return env if env is not None else self._imported.get(path, {})

    def _start(self, src: SourceFile) -> None:
        self.entry = src
        self.steps = 0
        self.loop_depth = self.loop_work = 0
        self.deadline = time.monotonic() + TIME_LIMIT

    def _limit(self, src: SourceFile, stop: "_Stop") -> None:
        message = f"{src.display}: analysis stopped at the {stop.args[0]}; findings for this program may be incomplete"
        if message not in self.limits_hit:
            self.limits_hit.append(message)

    def run_function_as_entry(self, func: FunctionVal, src: SourceFile) -> None:
        """Fallback for code never reached from a main: parameters become unknown images."""
        from portlint.analysis.apis.common import param_image

        self._start(src)
        args = []
        params = func.node.params
        plist = list(params.posonly_params) + list(params.params)
        for i, p in enumerate(plist):
            if i == 0 and func.self_obj is not None:
                continue
            args.append(param_image(p.name.value, Site(src, p)) if apis.looks_like_image(p.name.value) else UNKNOWN)
        try:
            self.call_function(func, args, {}, Site(src, func.node))
        except _Stop as stop:
            self._limit(src, stop)

    # ---------------------------------------------------------------- modules
    def module_env(self, src: SourceFile) -> dict:
        env = self.module_envs.get(src.path)
        if env is None:
            env = {"__name__": src.path.stem, "__file__": str(src.path)}
            self.module_envs[src.path] = env
            frame = Frame(src, env, env, is_module=True)
            saved = self.stack
            self.stack = []
            try:
                self.exec_block(src.module.body, frame)
            finally:
                self.stack = saved
        return env

    def import_local(self, frame: Frame, level: int, dotted: str) -> Optional[LocalModule]:
        target = resolve_local_module(frame.file.path, level, dotted, self.import_roots)
        if target is None:
            return None
        if not level and "." in dotted:
            # as Python does: `import a.b.c` runs a/__init__.py and a/b/__init__.py first, which
            # settles circular imports between a package and its modules in Python's order
            parts = dotted.split(".")
            for k in range(1, len(parts)):
                parent = resolve_local_module(frame.file.path, 0, ".".join(parts[:k]), self.import_roots)
                if parent is not None and parent.name == "__init__.py" and parent != target:
                    src = self.side.files.get(parent)
                    if src is not None:
                        self.module_env(src)
        src = self.side.files.get(target)
        if src is None:
            return None
        return LocalModule(src, self.module_env(src))

    # ---------------------------------------------------------------- statements
    def tick(self) -> None:
        self.steps += 1
        self.check_limits()

    def check_limits(self) -> None:
        if self.steps > MAX_STEPS:
            raise _Stop(f"step limit ({MAX_STEPS} steps)")
        if self.forward_limit is not None and self.steps > self.forward_limit:
            raise _ForwardTooLong()
        if not self.steps & 1023 and time.monotonic() > self.deadline:
            raise _Stop(f"time limit ({TIME_LIMIT:g} s, PORTLINT_FILE_TIME_LIMIT)")

    def exec_block(self, body, frame: Frame) -> str:
        if isinstance(body, cst.BaseSuite):
            body = body.body
        for stmt in body:
            flow = self.exec_stmt(stmt, frame)
            if flow != NORMAL:
                return flow
        return NORMAL

    def exec_stmt(self, stmt, frame: Frame) -> str:
        self.steps += 1  # tick(), inlined
        if self.steps > MAX_STEPS or not self.steps & 1023:
            self.check_limits()
        try:
            if type(stmt) is cst.SimpleStatementLine or type(stmt) is cst.SimpleStatementSuite:
                for small in stmt.body:
                    flow = self.exec_small(small, frame)
                    if flow != NORMAL:
                        return flow
                return NORMAL
            handler = getattr(self, "stmt_" + type(stmt).__name__, None)
            if handler is None:
                return NORMAL
            return handler(stmt, frame)
        except (_Stop, KeyboardInterrupt):
            raise
        except ProgramRaise as exc:  # the program certainly raises here: the block stops
            frame.raised = exc.name
            return RAISE
        except RecursionError:
            return NORMAL
        except Exception:  # an analyser bug must not stop the analysis of the rest
            if self.context.get("strict"):
                raise
            return NORMAL

    def exec_small(self, node, frame: Frame) -> str:
        t = type(node)  # exact types (libcst has no subclasses of them): isinstance goes through ABCMeta
        if t is cst.Expr:
            self.eval(node.value, frame)
        elif t is cst.Assign:
            value = self.eval(node.value, frame)
            for target in node.targets:
                self.assign(target.target, value, frame)
        elif t is cst.AnnAssign:
            if node.value is not None:
                self.assign(node.target, self.eval(node.value, frame), frame)
        elif t is cst.AugAssign:
            current = self.eval(node.target, frame)
            value = self.eval(node.value, frame)
            opname = {cst.AddAssign: "add", cst.SubtractAssign: "sub", cst.MultiplyAssign: "mul",
                      cst.DivideAssign: "truediv", cst.FloorDivideAssign: "floordiv",
                      cst.ModuloAssign: "mod", cst.PowerAssign: "pow"}.get(type(node.operator))
            result = self.binop(opname, current, value, Site(frame.file, node)) if opname else UNKNOWN
            if isinstance(current, list) and opname == "add" and isinstance(value, (list, tuple)) and concat_fits(current, value):
                current.extend(value)
                result = current
            self.assign(node.target, result, frame)
        elif t is cst.Return:
            frame.returns.append(self.eval(node.value, frame) if node.value is not None else None)
            frame.return_guards.append(tuple(frame.guards))
            return RETURN
        elif t is cst.Import:
            for alias in node.names:
                name = _dotted(alias.name)
                local = self.import_local(frame, 0, name)
                if alias.asname is not None:
                    bound = local if local is not None else ApiRef(apis.canonical(name))
                    self.assign(alias.asname.name, bound, frame)
                else:
                    top = name.split(".")[0]
                    local_top = self.import_local(frame, 0, top)
                    frame.locals[top] = local_top if local_top is not None else ApiRef(apis.canonical(top))
        elif t is cst.ImportFrom:
            self.exec_import_from(node, frame)
        elif t is cst.Raise:
            if node.exc is not None:
                self.eval(node.exc, frame)
            return RAISE
        elif t is cst.Break:
            return BREAK
        elif t is cst.Continue:
            return CONTINUE
        elif t is cst.Del:
            return NORMAL
        elif t is cst.Assert:
            self.eval(node.test, frame)
        return NORMAL

    def exec_import_from(self, node: cst.ImportFrom, frame: Frame) -> None:
        level = len(node.relative)
        base = _dotted(node.module) if node.module else ""
        module = self.import_local(frame, level, base) if (base or level) else None
        if type(node.names) is cst.ImportStar:
            if module is not None:
                for k, v in module.env.items():
                    if not k.startswith("_"):
                        frame.locals[k] = v
            return
        for alias in node.names:
            name = _dotted(alias.name)
            bound_name = alias.asname.name if alias.asname is not None else cst.Name(name)
            if module is not None:
                value = module.env.get(name)
                if value is None:
                    sub = self.import_local(frame, level, f"{base}.{name}" if base else name)
                    value = sub if sub is not None else UNKNOWN
            elif level:
                sub = self.import_local(frame, level, name)
                value = sub if sub is not None else UNKNOWN
            else:
                value = apis.get_attribute(self, ApiRef(apis.canonical(base)), name, None)
            self.assign(bound_name, value, frame)

    def stmt_FunctionDef(self, node: cst.FunctionDef, frame: Frame) -> str:
        defaults = {}
        params = node.params
        for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params):
            if p.default is not None:
                defaults[p.name.value] = self.eval(p.default, frame)
        func = FunctionVal(node, frame.file, frame.globals, defaults,
                           closure=None if frame.is_module else frame.locals)
        program_decorators = []
        for dec in node.decorators:
            kind = _decorator_kind(dec.decorator)
            if kind == "accessor":  # `@name.setter`: the property keeps its getter
                return NORMAL
            if kind is not None:
                func.defaults["__decorator__"] = kind
            else:
                program_decorators.append((self.eval(dec.decorator, frame), dec))
        frame.locals[node.name.value] = self.apply_decorators(func, program_decorators, frame)
        return NORMAL

    def apply_decorators(self, value, decorators, frame: Frame):
        """`@register("name")` / `@REGISTRY.register_module()` on a class: a decorator of the
        program's own is called with the class, innermost first (a registry fills its dict); its
        result replaces the class when it is one of the program's callables. Function decorators
        are left as written: running them (yolov5's `smart_inference_mode()` around `run`) lost
        the evaluation program's NMS facts on the real corpus, and wrappers add nothing a call
        of the function itself does not show."""
        for deco, node in reversed(decorators):
            if not isinstance(value, ClassVal) or not (isinstance(deco, FunctionVal) or apis.is_class_decorator(deco)):
                continue  # function decorators (wrappers, yolov5's smart_inference_mode) stay as written
            result = self.call(deco, [value], {}, Site(frame.file, node))
            if isinstance(result, (FunctionVal, ClassVal)):
                value = result
        return value

    def stmt_ClassDef(self, node: cst.ClassDef, frame: Frame) -> str:
        bases = [self.eval(b.value, frame) for b in node.bases]
        cls = ClassVal(node, frame.file, node.name.value, bases)
        body_frame = Frame(frame.file, frame.globals, {}, is_module=True)
        self.exec_block(node.body, body_frame)
        for name, value in body_frame.locals.items():
            if isinstance(value, FunctionVal):
                value.owner = cls
            cls.attrs[name] = value
        decorators = [(self.eval(dec.decorator, frame), dec) for dec in node.decorators]
        frame.locals[node.name.value] = self.apply_decorators(cls, decorators, frame)
        return NORMAL

    def stmt_If(self, node: cst.If, frame: Frame) -> str:
        value = self.eval(node.test, frame)
        cond = self.truth(value)
        orelse = node.orelse
        else_body = None
        if type(orelse) is cst.If:
            else_body = [orelse]
        elif type(orelse) is cst.Else:
            else_body = orelse.body
        if cond is True:
            return self.exec_block(node.body, frame)
        if cond is False:
            return self.exec_block(else_body, frame) if else_body is not None else NORMAL
        flag = flag_condition(node.test, frame, value)
        return self.exec_branches([node.body, else_body], frame, cond=value if flag is None else flag)

    def exec_branches(self, bodies, frame: Frame, cond=None) -> str:
        base = dict(frame.locals)
        results = []
        two_sided = isinstance(cond, Sym) and len(bodies) == 2
        for i, body in enumerate(bodies):
            frame.locals.clear()
            frame.locals.update(base)
            frame.guards.append((cond, i == 0) if two_sided else None)
            try:
                flow = self.exec_block(body, frame) if body is not None else NORMAL
            finally:
                frame.guards.pop()
            results.append((flow, dict(frame.locals)))
        live = [env for flow, env in results if flow == NORMAL]
        frame.locals.clear()
        if not live:
            frame.locals.update(results[0][1])
            flows = {flow for flow, _ in results}
            return RETURN if RETURN in flows else results[0][0]
        merged = dict(live[0])
        symbolic = isinstance(cond, Sym) and len(live) == 2 and len(results) == 2
        for env in live[1:]:
            for key in set(merged) | set(env):
                if key not in env or key not in merged:
                    # bound in one branch only: where it is used, the program relies on that branch
                    merged[key] = merged[key] if key in merged else env[key]
                    continue
                a, b = merged[key], env[key]
                merged[key] = conditional_merge(cond, a, b) if symbolic else merge_values(a, b, undecided=True)
        frame.locals.update(merged)
        return NORMAL

    def stmt_For(self, node: cst.For, frame: Frame) -> str:
        iterable = self.eval(node.iter, frame)
        items = self.iterate(iterable)
        if items is None:
            self.assign(node.target, self.element_of(iterable, Site(frame.file, node)), frame)
            flow = self.exec_block(node.body, frame)
            return RETURN if flow == RETURN else NORMAL
        if self.loop_depth == 0:
            self.loop_work = 0
        if self.loop_work + len(items) > MAX_LOOP_WORK:
            self.loop_work = MAX_LOOP_WORK  # spent: the loops still to come in this nest run once too
            self.assign(node.target, self.element_of(iterable, Site(frame.file, node)), frame)
            self.loop_depth += 1
            try:
                flow = self.exec_block(node.body, frame)
            finally:
                self.loop_depth -= 1
            self.widen(node, frame)
            return RETURN if flow == RETURN else NORMAL
        self.loop_work += len(items)
        self.loop_depth += 1
        try:
            for item in items:
                self.assign(node.target, item, frame)
                flow = self.exec_block(node.body, frame)
                if flow == BREAK:
                    return NORMAL
                if flow in (RETURN, RAISE):
                    return flow
        finally:
            self.loop_depth -= 1
        if node.orelse is not None:
            return self.exec_block(node.orelse.body, frame)
        return NORMAL

    def widen(self, loop: cst.For, frame: Frame) -> None:
        """After a loop ran its body once for many iterations: what the body writes is unknown."""
        for kind, target, in_place in loop_writes(loop):
            if kind == "name":
                if target in frame.locals and not (in_place and _is_reference(frame.locals[target])):
                    frame.locals[target] = UNKNOWN
                continue
            obj = self.eval(target.value, frame)  # `obj.attr`: obj is a name or a chain of names
            if isinstance(obj, (Instance, ClassVal, Namespace, ApiObject)):
                if not (in_place and _is_reference(obj.attrs.get(target.attr.value))):
                    obj.attrs[target.attr.value] = UNKNOWN
            elif isinstance(obj, LocalModule):
                if not (in_place and _is_reference(obj.env.get(target.attr.value))):
                    obj.env[target.attr.value] = UNKNOWN

    def stmt_While(self, node: cst.While, frame: Frame) -> str:
        cond = self.truth(self.eval(node.test, frame))
        if cond is False:
            return NORMAL
        flow = self.exec_block(node.body, frame)
        return RETURN if flow == RETURN else NORMAL

    def stmt_Try(self, node, frame: Frame) -> str:
        flow = self.exec_block(node.body, frame)
        if flow == NORMAL and node.orelse is not None:
            flow = self.exec_block(node.orelse.body, frame)
        if node.finalbody is not None:
            self.exec_block(node.finalbody.body, frame)
        if flow == RAISE:
            frame.raised = None  # the handlers are not followed; the program goes on after the try
        return flow if flow != RAISE else NORMAL

    stmt_TryStar = stmt_Try

    def stmt_With(self, node: cst.With, frame: Frame) -> str:
        handled: list = []
        for item in node.items:
            value = self.eval(item.item, frame)
            if isinstance(value, ApiObject) and value.qname == "contextlib.suppress":
                handled.extend(value.attrs.get("handled", ()))
            if item.asname is not None:
                # `with open(path) as f`: f is the file (a context manager returns itself here)
                self.assign(item.asname.name, UNKNOWN if isinstance(value, ApiObject) and value.qname == "open" else value, frame)
        flow = self.exec_block(node.body, frame)
        if flow == RAISE and frame.raised is not None and raising.covers(handled, frame.raised):
            frame.raised = None  # `with contextlib.suppress(Exception):` swallows it
            return NORMAL
        return flow

    def stmt_Match(self, node, frame: Frame) -> str:
        return self.exec_branches([case.body for case in node.cases], frame)

    # ---------------------------------------------------------------- assignment
    def assign(self, target, value, frame: Frame) -> None:
        if type(target) is cst.Name:
            func = frame.func
            if func is not None and not frame.is_module and target.value in global_names(func.node):
                frame.globals[target.value] = value  # `global args` then `args = ...`
            else:
                frame.locals[target.value] = value
        elif type(target) in (cst.Tuple, cst.List):
            elements = target.elements
            star = [i for i, e in enumerate(elements) if type(e) is cst.StarredElement]
            values = self.unpack(value, len(elements), bool(star))
            for i, el in enumerate(elements):
                t = el.value
                self.assign(t, values[i] if i < len(values) else UNKNOWN, frame)
        elif type(target) is cst.Attribute:
            obj = self.eval(target.value, frame)
            for obj in (obj.options if type(obj) is Union else (obj,)):
                self.set_attribute(obj, target.attr.value, value)
        elif type(target) is cst.Subscript:
            self.assign_subscript(target, value, frame)
        elif type(target) is cst.StarredElement:
            self.assign(target.value, UNKNOWN, frame)

    def set_attribute(self, obj, name: str, value) -> None:
        if isinstance(obj, apis.config_api.AttrDict):
            obj[name] = value
        elif isinstance(obj, (Instance, ClassVal, Namespace, ApiObject)):
            obj.attrs[name] = value
        elif isinstance(obj, LocalModule):
            obj.env[name] = value

    def assign_subscript(self, target: cst.Subscript, value, frame: Frame) -> None:
        container = self.eval(target.value, frame)
        index = self.eval_index(target.slice, frame)
        site = Site(frame.file, target)
        if isinstance(container, dict):
            if index is UNKNOWN or isinstance(index, Sym) or (isinstance(index, ApiObject) and index.qname.startswith("portlint.")):
                index = UnknownKey()  # `data[self.input_name[i]] = values[i]`: keep every value
            try:
                container[index] = value
            except TypeError:
                pass
            return
        if isinstance(container, list) and isinstance(index, int) and -len(container) <= index < len(container):
            container[index] = value
            return
        result = apis.store_into(self, container, index, value, site)
        if result is not None and type(target.value) in (cst.Name, cst.Attribute):
            self.assign(target.value, result, frame)

    def unpack(self, value, n: int, has_star: bool) -> list:
        if isinstance(value, (tuple, list)) and (len(value) == n or has_star):
            return list(value)
        if isinstance(value, Img):
            return apis.unpack_image(value, n)
        if isinstance(value, Seq):
            return [value.elem] * n
        if isinstance(value, dict) and len(value) == n:
            return list(value.keys())
        return [UNKNOWN] * n

    # ---------------------------------------------------------------- expressions
    def eval(self, node, frame: Frame) -> Any:
        self.steps += 1  # tick(), inlined: eval is the hottest call of the analyser
        if self.steps > MAX_STEPS or not self.steps & 1023:
            self.check_limits()
        cls = node.__class__
        try:
            method = _EVALUATORS[cls]
        except KeyError:
            method = _EVALUATORS[cls] = getattr(Interpreter, "ev_" + cls.__name__, None)
        if method is None:
            return UNKNOWN
        try:
            return method(self, node, frame)
        except (_Stop, KeyboardInterrupt, ProgramRaise):
            raise
        except RecursionError:
            return UNKNOWN
        except Exception:
            if self.context.get("strict"):
                raise
            return UNKNOWN

    def ev_Name(self, node: cst.Name, frame: Frame):
        name = node.value
        if name in frame.locals:
            return frame.locals[name]
        func = frame.func
        if func is not None and func.closure is not None and name in func.closure:
            return func.closure[name]
        if name in frame.globals:
            return frame.globals[name]
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        return apis.builtin(name)

    def ev_Integer(self, node, frame):
        return _literal(node)

    ev_Float = ev_Integer

    def ev_Imaginary(self, node, frame):
        return UNKNOWN

    def ev_SimpleString(self, node, frame):
        return _literal(node)

    def ev_ConcatenatedString(self, node, frame):
        left, right = self.eval(node.left, frame), self.eval(node.right, frame)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN

    def ev_FormattedString(self, node, frame):
        return UNKNOWN

    def ev_Ellipsis(self, node, frame):
        return Ellipsis

    def ev_Tuple(self, node, frame):
        return tuple(self.elements(node.elements, frame))

    def ev_List(self, node, frame):
        return list(self.elements(node.elements, frame))

    def ev_Set(self, node, frame):
        return UNKNOWN

    def elements(self, elements, frame):
        out = []
        for el in elements:
            if type(el) is cst.StarredElement:
                v = self.eval(el.value, frame)
                if isinstance(v, (list, tuple)):
                    out.extend(v)
                else:
                    return [UNKNOWN]
            else:
                out.append(self.eval(el.value, frame))
        return out

    def ev_Dict(self, node, frame):
        out = {}
        for el in node.elements:
            if type(el) is cst.DictElement:
                key = self.eval(el.key, frame)
                if key is UNKNOWN or isinstance(key, Sym) or (isinstance(key, ApiObject) and key.qname.startswith("portlint.")):
                    key = UnknownKey()  # `{names[0]: img, names[1]: ids}`: unknown keys must not collide
                try:
                    out[key] = self.eval(el.value, frame)
                except TypeError:
                    pass
            else:
                v = self.eval(el.value, frame)
                if isinstance(v, dict):
                    out.update(v)
        return out

    def ev_Attribute(self, node: cst.Attribute, frame):
        obj = self.eval(node.value, frame)
        return self.getattr(obj, node.attr.value, Site(frame.file, node))

    def getattr(self, obj, name: str, site: Site):
        return named_attribute(name, self._getattr(obj, name, site))

    def _getattr(self, obj, name: str, site: Site):
        if type(obj) is Union:
            return protocols.union_map(obj, lambda o: self.getattr(o, name, site), merge_values)
        if type(obj) is protocols.SuperRef:
            return protocols.super_attribute(obj, name)
        if isinstance(obj, Instance):
            if name in obj.attrs:
                return obj.attrs[name]
            if name == "__dict__":
                return obj.attrs
            if name == "__setattr__" and obj.cls.lookup(name) is None:
                return BoundApi(obj, "builtins.object.__setattr__")
            found = obj.cls.lookup(name)
            if isinstance(found, FunctionVal):
                if found.defaults.get("__decorator__") == "property":
                    return self.call_function(found.bind(obj), [], {}, site)
                return found.bind(obj)
            if found is not None:
                return found
            return apis.instance_attr(obj, name)
        if isinstance(obj, ClassVal):
            found = obj.lookup(name)
            if isinstance(found, FunctionVal) and found.defaults.get("__decorator__") == "classmethod":
                return found.bind(obj)  # `Cls.from_config(...)`: cls is the class
            return found if found is not None else apis.class_attr(obj, name)
        if isinstance(obj, LocalModule):
            if name in obj.env:
                return obj.env[name]
            sub = self.import_local(Frame(obj.file, obj.env, obj.env), 1, name)
            return sub if sub is not None else UNKNOWN
        if isinstance(obj, Namespace):
            return obj.attrs.get(name, UNKNOWN)
        if name == "argv" and self.argv is not None and type(obj) is ApiRef and obj.qname == "sys":
            return list(self.argv)  # the command line the user gave for this program (--original-run)
        return apis.get_attribute(self, obj, name, site)

    def ev_Subscript(self, node: cst.Subscript, frame):
        container = self.eval(node.value, frame)
        index = self.eval_index(node.slice, frame)
        return self.subscript(container, index, Site(frame.file, node))

    def subscript(self, container, index, site: Site):
        if type(container) is Union:
            return protocols.union_map(container, lambda c: self.subscript(c, index, site), merge_values)
        if isinstance(container, Instance):
            getitem = protocols.method(container, "__getitem__")
            if getitem is not None:  # a map-style Dataset: dataset[i] runs its __getitem__
                return self.call_function(getitem, [index], {}, site)
            return UNKNOWN
        return apis.subscript(self, container, index, site)

    def eval_index(self, elements, frame):
        parts = []
        for el in elements:
            s = el.slice
            if type(s) is cst.Index:
                parts.append(self.eval(s.value, frame))
            elif type(s) is cst.Slice:
                parts.append(slice(
                    self.eval(s.lower, frame) if s.lower is not None else None,
                    self.eval(s.upper, frame) if s.upper is not None else None,
                    self.eval(s.step, frame) if s.step is not None else None,
                ))
        if len(parts) == 1 and len(elements) == 1 and not (isinstance(elements[0].slice, cst.Index) and isinstance(elements[0].slice.value, cst.Tuple)) and elements[0].comma is cst.MaybeSentinel.DEFAULT:
            return parts[0]
        return tuple(parts)

    def ev_BinaryOperation(self, node, frame):
        left = self.eval(node.left, frame)
        right = self.eval(node.right, frame)
        return self.binop(_BINOPS.get(type(node.operator)), left, right, Site(frame.file, node))

    def binop(self, op, left, right, site):
        if op is None:
            return UNKNOWN
        result = apis.binop(self, op, left, right, site)
        if result is not NotImplemented:
            return result
        if isinstance(left, str) and op == "mod":
            return UNKNOWN
        if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)) and op == "add" and type(left) == type(right):
            return left + right if concat_fits(left, right) else UNKNOWN
        if isinstance(left, (list, tuple)) and isinstance(right, int) and op == "mul" and len(left) * right <= 4096:
            return left * right
        if isinstance(left, str) and isinstance(right, str) and op == "add":
            return left + right if concat_fits(left, right) else UNKNOWN
        return numeric_op(op, left, right)

    def ev_UnaryOperation(self, node, frame):
        v = self.eval(node.expression, frame)
        if type(node.operator) is cst.Minus:
            if isinstance(v, (list, tuple)):
                return UNKNOWN
            r = apis.binop(self, "mul", v, -1, Site(frame.file, node)) if isinstance(v, Img) else numeric_op("neg", v)
            return r
        if type(node.operator) is cst.Plus:
            return v
        if type(node.operator) is cst.Not:
            t = self.truth(v)
            return UNKNOWN if t is None else (not t)
        return UNKNOWN

    def ev_BooleanOperation(self, node, frame):
        left = self.eval(node.left, frame)
        lt = self.truth(left)
        is_and = type(node.operator) is cst.And
        if lt is not None:
            if is_and:
                return self.eval(node.right, frame) if lt else left
            return left if lt else self.eval(node.right, frame)
        right = self.eval(node.right, frame)
        rt = self.truth(right)
        # with the left unknown, `x or y` is x or y: only a bool right settles the value as well as
        # the truth (`x or True` is truthy, and True when x is a flag); `weights or 'yolov8s.pt'`
        # is not True
        if is_and and rt is False and right is False:
            return False
        if not is_and and rt is True and right is True:
            return True
        if isinstance(left, Sym) and (isinstance(right, Sym) or rt is not None):
            # `h != net_h or w != net_w`: a condition on the image's size stays symbolic
            return Sym("and" if is_and else "or", (left, right))
        return UNKNOWN

    def ev_Comparison(self, node, frame):
        left = self.eval(node.left, frame)
        result = True
        for target in node.comparisons:
            right = self.eval(target.comparator, frame)
            r = self.compare(target.operator, left, right)
            if r is UNKNOWN:
                return UNKNOWN
            if isinstance(r, Sym):
                return r if len(node.comparisons) == 1 else UNKNOWN
            if not r:
                return False
            left = right
        return result

    def compare(self, op, left, right):
        kind = type(op)
        if kind in (cst.Is, cst.IsNot):
            if left is None and right is None:
                return kind is cst.Is
            if right is None and isinstance(left, (int, float, str, tuple, list, dict, Img, FunctionVal, Instance, ApiObject)):
                return kind is cst.IsNot
            return UNKNOWN
        if kind in (cst.In, cst.NotIn):
            if isinstance(right, (list, tuple, str, dict)) and isinstance(left, (int, float, str, tuple)) and not _has_unknown(right):
                try:
                    r = left in right
                except TypeError:
                    return UNKNOWN
                return r if kind is cst.In else not r
            return UNKNOWN
        name = _CMPOPS.get(kind)
        if name is None:
            return UNKNOWN
        if isinstance(left, (int, float, str)) and isinstance(right, (int, float, str)) and type(left) == type(right) or (
                isinstance(left, (int, float)) and isinstance(right, (int, float))):
            try:
                return numeric_op(name, left, right) if not isinstance(left, str) else {"eq": left == right, "ne": left != right}.get(name, UNKNOWN)
            except TypeError:
                return UNKNOWN
        if name in ("eq", "ne") and isinstance(left, (tuple, list)) and isinstance(right, (tuple, list)) and not _has_unknown(left) and not _has_unknown(right):
            return (left == right) if name == "eq" else (left != right)
        if name in ("eq", "ne") and isinstance(left, (tuple, list)) and isinstance(right, (tuple, list)) and len(left) == len(right) \
                and all(isinstance(v, (int, float, Sym)) for v in (*left, *right)):
            # `shape[::-1] != new_unpad` on symbolic sizes: element by element
            parts = [Sym(name, (x, y)) if isinstance(x, Sym) or isinstance(y, Sym) else (x == y if name == "eq" else x != y)
                     for x, y in zip(left, right)]
            return Sym("and" if name == "eq" else "or", tuple(parts)) if parts else (name == "eq")
        if isinstance(left, (int, float, Sym)) and isinstance(right, (int, float, Sym)):
            return Sym(name, (left, right))
        if name in ("eq", "ne") and (left is None) != (right is None) and not is_unknown(left) and not is_unknown(right) and not isinstance(left, Sym) and not isinstance(right, Sym):
            return name == "ne"
        return UNKNOWN

    def truth(self, value) -> Optional[bool]:
        if value is UNKNOWN or isinstance(value, Sym):
            return None
        if isinstance(value, (bool, int, float, str, tuple, list, dict)) or value is None:
            if isinstance(value, (tuple, list)) and _has_unknown(value) and len(value) == 0:
                return None
            return bool(value)
        if isinstance(value, (FunctionVal, ClassVal, Instance, ApiRef, LocalModule)):
            return True
        return None

    def ev_IfExp(self, node, frame):
        test = self.eval(node.test, frame)
        cond = self.truth(test)
        if cond is True:
            return self.eval(node.body, frame)
        if cond is False:
            return self.eval(node.orelse, frame)
        body, orelse = self.eval(node.body, frame), self.eval(node.orelse, frame)
        if isinstance(test, Sym):  # `A if w > h else B` on sizes: ifelse(...) for numbers
            return conditional_merge(test, body, orelse) if _numeric(body) and _numeric(orelse) else \
                merge_values(body, orelse)
        choice = one_of(body, orelse)
        if choice is not None:
            return choice
        return merge_values(body, orelse, undecided=True)

    def ev_Lambda(self, node, frame):
        defaults = {}
        for p in node.params.params:
            if p.default is not None:
                defaults[p.name.value] = self.eval(p.default, frame)
        return FunctionVal(node, frame.file, frame.globals, defaults, closure=dict(frame.locals) if not frame.is_module else None)

    def ev_NamedExpr(self, node, frame):
        value = self.eval(node.value, frame)
        self.assign(node.target, value, frame)
        return value

    def ev_Yield(self, node, frame):
        """`yield x` / `yield from it` in a generator: the value is one of the generator's elements."""
        value = node.value
        if type(value) is cst.From:
            item = self.element_of(self.eval(value.item, frame), Site(frame.file, node))
        else:
            item = self.eval(value, frame) if value is not None else None
        if frame.yields is not None:
            frame.yields.append(item)
        return UNKNOWN  # what the caller sends back

    def ev_Await(self, node, frame):
        return self.eval(node.expression, frame)

    def comprehension(self, node, frame, build):
        """Evaluate a comprehension concretely when its iterables are small known sequences."""
        local = Frame(frame.file, frame.globals, dict(frame.locals), func=frame.func)
        results = []

        def run(for_in, depth):
            if depth > 4:
                return False
            iterable = self.eval(for_in.iter, local)
            items = self.iterate(iterable)
            if items is None:
                self.assign(for_in.target, self.element_of(iterable), local)
                for cond in for_in.ifs:
                    self.eval(cond.test, local)
                if for_in.inner_for_in is not None:
                    run(for_in.inner_for_in, depth + 1)
                results.append(None)
                return False
            ok = True
            for item in items:
                self.assign(for_in.target, item, local)
                keep = True
                for cond in for_in.ifs:
                    t = self.truth(self.eval(cond.test, local))
                    if t is None:
                        ok = False
                    if t is False:
                        keep = False
                if not keep:
                    continue
                if for_in.inner_for_in is not None:
                    ok = run(for_in.inner_for_in, depth + 1) and ok
                else:
                    results.append(build(local))
            return ok

        known = run(node.for_in, 0)
        if not known or any(r is None for r in results):
            elem = build(local)
            return None, elem
        return results, None

    def ev_ListComp(self, node, frame):
        items, elem = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return items if items is not None else Seq(elem)

    def ev_GeneratorExp(self, node, frame):
        items, elem = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        return tuple(items) if items is not None else Seq(elem, kind="generator")

    def ev_SetComp(self, node, frame):
        """A set's elements, once each: known constants are deduplicated; of two or more other values
        (image shapes) any may equal another, so how many there are is not known."""
        items, elem = self.comprehension(node, frame, lambda f: self.eval(node.elt, f))
        if items is None:
            return Seq(elem, kind="generator")
        if all(_plain_constant(x) for x in items):
            return tuple(dict.fromkeys(items))
        return tuple(items) if len(items) <= 1 else UNKNOWN

    def ev_DictComp(self, node, frame):
        items, _ = self.comprehension(node, frame, lambda f: (self.eval(node.key, f), self.eval(node.value, f)))
        if items is None:
            return UNKNOWN
        try:
            return dict(items)
        except TypeError:
            return UNKNOWN

    def ev_Call(self, node: cst.Call, frame):
        func = self.eval(node.func, frame)
        args, kwargs = [], {}
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            elif arg.star == "*":
                if isinstance(value, (list, tuple)):
                    args.extend(value)
                else:
                    args.append(UNKNOWN)
                    kwargs["__splat__"] = True
                    if isinstance(value, Seq):
                        kwargs["__star_seq__"] = value  # f(*rows): zip transposes it
            elif arg.star == "**":
                if isinstance(value, dict):
                    kwargs.update({k: v for k, v in value.items() if isinstance(k, str)})
                else:
                    kwargs["__splat__"] = True
            else:
                args.append(value)
        site = Site(frame.file, node)
        return self.call(func, args, kwargs, site, frame, node)

    def call(self, func, args, kwargs, site: Site, frame: Optional[Frame] = None, node=None):
        if type(func) is Union:
            return protocols.union_map(func, lambda f: self.call(f, args, kwargs, site, frame, node), merge_values)
        if isinstance(func, FunctionVal):
            return self.call_function(func, args, kwargs, site)
        if isinstance(func, ClassVal):
            return self.instantiate(func, args, kwargs, site)
        if isinstance(func, Instance):
            method = func.cls.lookup("__call__")
            if isinstance(method, FunctionVal):
                return self.call_function(method.bind(func), args, kwargs, site)
            if method is None:
                inherited = apis.instance_attr(func, "__call__")  # a library base's __call__ (mmcv BaseTransform)
                if inherited is not UNKNOWN:
                    return self.call(inherited, args, kwargs, site, frame, node)
            if apis.is_torch_module_class(func.cls):
                return self.call_module(func, args, kwargs, site)
            return UNKNOWN
        return apis.call_api(self, func, args, kwargs, site, frame, node)

    def call_module(self, module: Instance, args, kwargs, site):
        """Calling the program's own nn.Module with an image runs its forward: a transform
        (FastBaseTransform, a preprocessing wrapper) returns the image it made, a wrapper around
        the network records the model call inside; anything else (the network itself, or a
        forward too long to follow) is the model, called here."""
        forward = protocols.method(module, "forward")
        images = apis.common.image_args(args, kwargs)
        if forward is None or not images or self.forward_limit is not None:
            return apis.model_call(self, module, args, kwargs, site)
        sinks, events = len(self.sinks), len(self.events)
        self.forward_limit, self.forward_site = self.steps + FORWARD_STEPS, site
        try:
            result = self.call_function(forward, args, kwargs, site)
        except _ForwardTooLong:
            result = UNKNOWN
        finally:
            self.forward_limit = self.forward_site = None
        if len(self.sinks) > sinks or _carries_image(result):
            return result
        del self.events[events:]  # the network's own calls: not the program's
        return apis.model_call(self, module, args, kwargs, site)

    def instantiate(self, cls: ClassVal, args, kwargs, site):
        obj = Instance(cls)
        init = cls.lookup("__init__")
        if isinstance(init, FunctionVal):
            self.call_function(init.bind(obj), args, kwargs, site)
        elif init is None:  # the __init__ of a library base class (SimpleNamespace, DataLoader)
            library_init = protocols.super_attribute(protocols.SuperRef(cls, obj), "__init__")
            if library_init is not UNKNOWN:
                self.call(library_init, args, kwargs, site)
        return obj

    def call_function(self, func: FunctionVal, args, kwargs, site: Site):
        if len(self.stack) >= MAX_DEPTH or sum(1 for f in self.stack if f is func.node) >= 2:
            return UNKNOWN
        self.executed_functions.add(id(func.node))
        node = func.node
        params = node.params
        local: dict = {}
        positional = list(params.posonly_params) + list(params.params)
        args = list(args)
        decorator = func.defaults.get("__decorator__")
        if func.self_obj is not None and decorator != "staticmethod":
            args = [func.self_obj] + args
        splat = kwargs.get("__splat__")  # f(**unknown) / f(*unknown): any parameter may be in it
        for i, p in enumerate(positional):
            name = p.name.value
            if i < len(args):
                local[name] = args[i]
            elif name in kwargs:
                local[name] = kwargs[name]
            elif splat:
                local[name] = UNKNOWN
            elif name in func.defaults:
                local[name] = func.defaults[name]
            else:
                local[name] = UNKNOWN
        if type(params.star_arg) is cst.Param:
            local[params.star_arg.name.value] = tuple(args[len(positional):])
        for p in params.kwonly_params:
            name = p.name.value
            local[name] = kwargs.get(name, UNKNOWN if splat else func.defaults.get(name, UNKNOWN))
        if params.star_kwarg is not None:
            names = {p.name.value for p in positional + list(params.kwonly_params)}
            local[params.star_kwarg.name.value] = {k: v for k, v in kwargs.items() if k not in names and not k.startswith("__")}
        frame = Frame(func.file, func.globals, local, func=func)
        generator = protocols.is_generator(node, func.file)
        if generator:
            frame.yields = []
        # rules read a function's arguments (entry copy) and its locals (live dict); record(), inlined
        events = self.events
        events.append(FunctionCall(func, dict(local), local, site, entry=self.entry, index=len(events)))
        self.stack.append(node)
        try:
            if type(node) is cst.Lambda:
                return self.eval(node.body, frame)
            flow = self.exec_block(node.body, frame)
        finally:
            self.stack.pop()
        if flow == RAISE and frame.raised is not None:
            raise ProgramRaise(frame.raised)  # not handled in the function: its caller's statement stops
        if generator:  # calling a generator: what iterating it yields (its body has run once)
            elem = frame.yields[0] if frame.yields else UNKNOWN
            for y in frame.yields[1:]:
                elem = merge_values(elem, y)
            return Seq(elem, kind="generator")
        if not frame.returns:
            return None
        return _returned(frame)

    # ---------------------------------------------------------------- iteration helpers
    def iterate(self, value) -> Optional[list]:
        if isinstance(value, (list, tuple)) and len(value) <= MAX_LOOP:
            return list(value)
        if isinstance(value, str) and len(value) <= MAX_LOOP:
            return list(value)
        if isinstance(value, dict) and len(value) <= MAX_LOOP:
            return list(value.keys())
        return None

    def element_of(self, value, site: Optional[Site] = None):
        if isinstance(value, Seq):
            return value.elem
        if type(value) is Union:
            return protocols.union_map(value, lambda v: self.element_of(v, site), merge_values)
        if isinstance(value, Instance):
            return protocols.instance_element(self, value, site)
        if isinstance(value, ApiObject):
            return apis.object_element(self, value, site)
        if isinstance(value, Img):
            return apis.image_element(value)
        if isinstance(value, (list, tuple)) and value:
            first = value[0]
            return first if all(v is first for v in value) else UNKNOWN
        return UNKNOWN

    # ---------------------------------------------------------------- recording
    def record_sink(self, img: Img, site: Site, api: str, model=None) -> None:
        if self.forward_site is not None:  # a call inside a module's forward: the program calls the module
            site = self.forward_site
        for existing in self.sinks:
            if existing.img is img and existing.site.node is site.node:
                return
        self.sinks.append(Sink(img, site, api, self.entry, model))

    def record(self, event: Event) -> None:
        event.entry = self.entry
        event.index = len(self.events)
        self.events.append(event)

    # ---------------------------------------------------------------- after the run
    def evaluate_in(self, expr, where: Optional[Scope | SourceFile]):
        """The value of `expr` in a recorded Scope, or at a module's top level (a SourceFile: the
        namespace it was imported with, empty if never imported); UNKNOWN for None or on failure.
        Runs on a fresh step budget, and the events it records are dropped: the facts stay as run."""
        if where is None:
            return UNKNOWN
        if isinstance(where, SourceFile):
            env = self.imported_env(where.path)
            frame = Frame(where, env, dict(env), is_module=True)
        else:
            frame = Frame(where.file, where.globals, where.env(), func=where.func)
        events = len(self.events)
        self.steps = 0
        try:
            return self.eval(expr, frame)
        except Exception:
            return UNKNOWN
        finally:
            del self.events[events:]


class UnknownKey:
    """A dict key not known statically; each store gets its own, so no value overwrites another."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN-KEY"


_DECORATORS = {"staticmethod": "staticmethod", "classmethod": "classmethod", "property": "property",
               "cached_property": "property", "functools.cached_property": "property"}


def _project_folders(script, root) -> tuple:
    """The folders between the side's folder and a script the user runs (`detection/scrfd` for
    `python detection/scrfd/tools/test_widerface.py`): absolute imports are looked for there
    too, as when the project in it is installed (`pip install -e .`, mmdet/mmseg's setup) or the
    script is run from it (`cd detection/scrfd && python tools/...`)."""
    from pathlib import Path

    try:
        rel = Path(script).resolve().parent.relative_to(Path(root).resolve())
    except ValueError:
        return ()
    out, cur = [], Path(root).resolve()
    for part in rel.parts:
        cur = cur / part
        out.append(str(cur))
    return tuple(out)


def _numeric(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, Sym)


def _decorator_kind(node) -> Optional[str]:
    """staticmethod / classmethod / property (cached_property too), "accessor" for
    `@x.setter`/`@x.deleter`, None for any other decorator (which is ignored: the function is
    called as written, e.g. under @torch.no_grad() or @smart_inference_mode())."""
    name = _dotted(node)
    if name in _DECORATORS:
        return _DECORATORS[name]
    if type(node) is cst.Attribute and node.attr.value in ("setter", "deleter", "getter"):
        return "accessor"
    return None


def _is_reference(value) -> bool:
    """A module, function or class: `cv2.resize(...)` or `np.put(...)` does not change `cv2`."""
    return isinstance(value, (ApiRef, LocalModule, ClassVal, FunctionVal))


def _has_unknown(seq) -> bool:
    return any(v is UNKNOWN or isinstance(v, Sym) for v in seq)


_LITERALS: dict = {}


def _literal(node):
    """A number or string literal's value, memoised by its source text (literal_eval is costly)."""
    key = (type(node), node.value)
    found = _LITERALS.get(key, _LITERALS)
    if found is _LITERALS:
        try:
            found = node.evaluated_value
        except Exception:
            found = UNKNOWN
        if len(_LITERALS) < 100_000:
            _LITERALS[key] = found
    return found


def _returned(frame: Frame):
    """A function's value from its returns in program order. When every earlier return ran under
    symbolic conditions only (`if w <= h and w == size: return (h, w)`) and the values are
    numbers, the value is ifelse(path condition, early, later), folded from the last return;
    otherwise the returns are merged (equal values stay, others are unknown)."""
    returns, guards = frame.returns, frame.return_guards
    if len(returns) > 1 and len(guards) == len(returns) and all(
            g and all(x is not None for x in g) for g in guards[:-1]) and all(_numbers(r) for r in returns):
        result = returns[-1]
        for value, guard in zip(reversed(returns[:-1]), reversed(guards[:-1])):
            result = conditional_merge(_path_condition(guard), value, result)
        return result
    result = returns[0]
    for r in returns[1:]:
        result = merge_values(result, r)
    return result


def _numbers(v) -> bool:
    """A number, a symbolic number, or a tuple of them (a size)."""
    if isinstance(v, tuple):
        return bool(v) and len(v) <= 4 and all(_numeric(x) for x in v)
    return _numeric(v)


def _path_condition(guard) -> Sym:
    terms = [c if taken else Sym("not", (c,)) for c, taken in guard]
    return terms[0] if len(terms) == 1 else Sym("and", tuple(terms))


def _plain_constant(value) -> bool:
    """A value Python compares by content with no analysis unknowns in it (for set membership)."""
    if isinstance(value, tuple):
        return all(_plain_constant(v) for v in value)
    return value is None or type(value) in (int, float, str, bool, bytes)
