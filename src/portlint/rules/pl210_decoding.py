"""PL210 other: a text decoder's `generate(...)` decodes with other settings than the original's.

Captioning and VQA ports (BLIP) export the text decoder with Hugging Face's decoding loop baked
into the graph: the export script calls `model.text_decoder.generate(...)` and traces it. The
settings of that call are the deployed model's: a port that leaves `num_beams` out decodes
greedily (GenerationConfig's default num_beams=1, do_sample=False) where the original runs beam
search with num_beams=3. Every library `.generate(...)` call of each side is read (the port's
export scripts are files of its side even though no deployed program runs them), its decoding
keywords resolved, and each ported call compared with the original call it follows.

A keyword's value is: a literal; a local name or module constant assigned one literal; a
`self.` attribute assigned once in the class; a parameter of the enclosing function, with the
values its callers pass (the calls the programs ran, else the visible calls, else its default);
the interpreter's value in the recorded scope; or, when the keyword is absent, the library default
(rules/PL210.md, Facts). `**kwargs` that cannot be read, or a `generation_config=`, leave the
absent settings unknown, and unknown settings are never compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from portlint.analysis.events import FunctionCall
from portlint.analysis.image import Site
from portlint.analysis.locate import locate, span
from portlint.analysis.syntax import ancestors, call_name, enclosing_function, params_of, walk
from portlint.findings import Fix, TextEdit
from portlint.rules.base import RuleMeta
from portlint.rules.common import closest, guarded

RULE = RuleMeta("PL210", "other", "warning", ("safe", "unsafe", "display-only"),
                "text decoded with other generate() settings (beam search, sampling, lengths)")

# transformers GenerationConfig.__init__ (and PretrainedConfig before 4.26): rules/PL210.md, Facts
DEFAULTS = {"num_beams": 1, "do_sample": False, "max_length": 20, "min_length": 0,
            "repetition_penalty": 1.0, "top_p": 1.0, "top_k": 50}
SETTINGS = tuple(DEFAULTS)
SAMPLING_ONLY = ("top_p", "top_k")  # read only when both sides sample
LENGTHS = ("max_length", "min_length")
OVERRIDDEN_BY = {"max_length": "max_new_tokens", "min_length": "min_new_tokens"}
# keywords of HF's generate(): a `.generate(...)` call passing none of them is not a decoder's
HF_KEYWORDS = frozenset(SETTINGS) | {
    "inputs", "input_ids", "attention_mask", "max_new_tokens", "min_new_tokens", "eos_token_id",
    "pad_token_id", "bos_token_id", "decoder_start_token_id", "num_return_sequences", "generation_config",
    "temperature", "length_penalty", "early_stopping", "no_repeat_ngram_size", "use_cache",
    "output_scores", "return_dict_in_generate", "encoder_hidden_states", "encoder_attention_mask"}
_PLAIN = (bool, int, float, str, type(None))
_MISSING = object()


@dataclass
class Val:
    """A resolved setting: its value, how it was found (`how`), the node to edit (a literal, or
    None) and the place that decides it (for the message)."""

    value: Any
    how: str  # literal, local, module, attribute, default, caller, run, library
    src: Any = None
    node: Optional[cst.CSTNode] = None
    where: Optional[Site] = None


@dataclass
class Decode:
    src: Any
    call: cst.Call
    fn: Optional[cst.FunctionDef]
    settings: dict = field(default_factory=dict)  # name -> Val, or None when unknown
    ran: bool = False

    @property
    def site(self) -> Site:
        return Site(self.src, self.call)


# ------------------------------------------------------------------ literals and names

def _literal(node) -> Any:
    if type(node) is cst.Integer:
        try:
            return int(node.value, 0)
        except ValueError:
            return _MISSING
    if type(node) is cst.Float:
        return float(node.value)
    if type(node) is cst.Name and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if type(node) is cst.SimpleString:
        try:
            return node.evaluated_value
        except Exception:
            return _MISSING
    if type(node) is cst.UnaryOperation and type(node.operator) is cst.Minus:
        v = _literal(node.expression)
        return -v if isinstance(v, (int, float)) and not isinstance(v, bool) else _MISSING
    return _MISSING


def _assignments(body, name: str) -> list:
    """Values assigned to `name` in a body (not in nested defs); None for a binding that is not a
    plain `name = value` (augmented, a loop target, a tuple target)."""
    out = []
    for n in walk(body):
        t = type(n)
        if t is cst.Assign:
            for target in n.targets:
                tg = target.target
                if type(tg) is cst.Name and tg.value == name:
                    out.append(n.value)
                elif name in _bound_names(tg):
                    out.append(None)
        elif t is cst.AnnAssign and type(n.target) is cst.Name and n.target.value == name:
            out.append(n.value)
        elif t is cst.AugAssign and type(n.target) is cst.Name and n.target.value == name:
            out.append(None)
        elif t in (cst.For, cst.CompFor) and name in _bound_names(n.target):
            out.append(None)
        elif t is cst.NamedExpr and type(n.target) is cst.Name and n.target.value == name:
            out.append(n.value)
    return out


def _bound_names(target) -> set:
    """The names a target binds: `a`, `a, (b, *c)`; none for `x.attr` or `x[i]`."""
    if type(target) is cst.Name:
        return {target.value}
    if type(target) in (cst.Tuple, cst.List):
        return set().union(*(_bound_names(e.value) for e in target.elements)) if target.elements else set()
    if type(target) is cst.StarredElement:
        return _bound_names(target.value)
    return set()


def _param(fn: cst.FunctionDef, name: str) -> Optional[cst.Param]:
    p = fn.params
    for x in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        if x.name.value == name:
            return x
    return None


def _enclosing_class(src, fn) -> Optional[cst.ClassDef]:
    for a in ancestors(src, fn):
        if type(a) is cst.ClassDef:
            return a
        if type(a) is cst.FunctionDef:
            return None
    return None


class Resolver:
    """Resolves an expression of one side to a Val (or None: unknown)."""

    def __init__(self, facts):
        self.facts = facts
        self.events: dict = {}
        for c in facts.events_of(FunctionCall):
            site = c.site
            if site is None or type(site.node) is cst.FunctionDef:
                continue  # the analyser's fallback run of a function no program reached
            self.events.setdefault(id(c.func.node), []).append(c)
        self.run_sites = {id(c.site.node) for cs in self.events.values() for c in cs}

    def ran(self, fn) -> bool:
        return fn is not None and id(fn) in self.events

    def resolve(self, src, fn, node, depth: int = 0) -> Optional[Val]:
        if node is None or depth > 4:
            return None
        v = _literal(node)
        if v is not _MISSING:
            return Val(v, "literal", src, node, Site(src, node))
        found = None
        if type(node) is cst.Name:
            found = self._name(src, fn, node.value, depth)
        elif type(node) is cst.Attribute and type(node.value) is cst.Name and node.value.value == "self" and fn is not None:
            found = self._self_attr(src, fn, node.attr.value, depth)
        if found is not None:
            return found
        return self._run_value(src, fn, node)

    def _name(self, src, fn, name: str, depth: int) -> Optional[Val]:
        if fn is not None:
            values = _assignments(fn.body, name)
            param = _param(fn, name)
            if values and param is not None:
                return None  # a parameter rebound in the body (`if num_beams is None: num_beams = 3`)
            if values:
                return self._single(src, fn, values, "local", depth)
            if param is not None:
                return self._param_value(src, fn, param, depth)
        values = _assignments(src.module, name)  # module level (defs skipped)
        if values:
            return self._single(src, None, values, "module", depth)
        return None

    def _single(self, src, fn, values: list, how: str, depth: int) -> Optional[Val]:
        if len(values) != 1 or values[0] is None:
            return None
        val = self.resolve(src, fn, values[0], depth + 1)
        if val is None:
            return None
        return Val(val.value, how if val.how == "literal" else val.how, val.src, val.node, val.where)

    def _self_attr(self, src, fn, attr: str, depth: int) -> Optional[Val]:
        cls = _enclosing_class(src, fn)
        if cls is None:
            return None
        stores = []
        for method in (s for s in walk(cls.body, skip_functions=False) if type(s) is cst.FunctionDef):
            for n in walk(method.body):
                if type(n) is cst.Assign:
                    for t in n.targets:
                        tg = t.target
                        if type(tg) is cst.Attribute and type(tg.value) is cst.Name and tg.value.value == "self" \
                                and tg.attr.value == attr:
                            stores.append((method, n.value))
                elif type(n) is cst.AugAssign and type(n.target) is cst.Attribute and n.target.attr.value == attr:
                    return None
        if len(stores) != 1:
            return None
        method, value = stores[0]
        val = self.resolve(src, method, value, depth + 1)
        if val is None:
            return None
        return Val(val.value, "attribute" if val.how == "literal" else val.how, val.src, val.node, val.where)

    def _param_value(self, src, fn, param: cst.Param, depth: int) -> Optional[Val]:
        name = param.name.value
        default = _literal(param.default) if param.default is not None else _MISSING
        calls = self.events.get(id(fn), [])
        if calls:  # what the programs ran: the values bound at each recorded call
            seen = []
            for c in calls:
                v = c.args.get(name, _MISSING)
                if v is _MISSING or not isinstance(v, _PLAIN):
                    return None
                arg = _bound_arg(fn, c.site.node, name) if type(c.site.node) is cst.Call else None
                seen.append((v, Site(c.site.file, arg.value) if arg is not None else None))
            if any(v != seen[0][0] for v, _ in seen):
                return None
            v, where = next(((v, w) for v, w in seen if w is not None), seen[0])
            if where is None and default is not _MISSING and default == v:  # no caller passes it
                return Val(v, "default", src, param.default, Site(src, param.default))
            return Val(v, "caller", src, None, where or calls[0].site)
        callers = self._visible_callers(fn)
        values = []
        for csrc, call in callers:
            arg = _bound_arg(fn, call, name)
            if arg is None:
                if default is _MISSING:
                    return None
                values.append((default, None))
                continue
            v = _literal(arg.value)
            if v is _MISSING:
                return None
            values.append((v, Site(csrc, arg.value)))
        if values:
            if any(v != values[0][0] for v, _ in values):
                return None
            v, where = next(((v, w) for v, w in values if w is not None), values[0])
            if where is not None:
                return Val(v, "caller", src, None, where)
        if default is _MISSING:
            return None
        return Val(default, "default", src, param.default, Site(src, param.default))

    def _visible_callers(self, fn) -> list:
        """Calls of `fn` by name anywhere on the side (`x.name(...)` for a method), outside it."""
        name = fn.name.value
        out = []
        for src in self.facts.side.files.values():
            if src.module is None or name + "(" not in src.text:
                continue
            for n in walk(src.module, skip_functions=False):
                if type(n) is cst.Call and call_name(n).rsplit(".", 1)[-1] == name:
                    if enclosing_function(src, n) is fn or not _is_wrapper_call(n, [fn]):
                        continue  # its own recursion, or a call this def does not accept (the library's)
                    out.append((src, n))
        return out

    def _run_value(self, src, fn, node) -> Optional[Val]:
        """The interpreter's value of the expression in every recorded frame of `fn` (the
        program's top level for module code), when they all agree on a plain value."""
        scopes = [c.scope() for c in self.events.get(id(fn), [])] if fn is not None else []
        if fn is None:
            for prog in self.facts.programs():
                if prog.entry is src and prog.entry_scope() is not None:
                    scopes.append(prog.entry_scope())
        values = []
        for scope in scopes:
            try:
                v = self.facts.evaluate(node, scope)
            except Exception:
                return None
            if not isinstance(v, _PLAIN):
                return None
            values.append(v)
        if values and all(v == values[0] for v in values):
            return Val(values[0], "run", src, None, Site(src, node))
        return None


def _bound_arg(fn: cst.FunctionDef, call: cst.Call, name: str) -> Optional[cst.Arg]:
    """The argument of `call` bound to parameter `name` of `fn` (a method called as x.m(...)
    skips `self`); None when not passed."""
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    names = [p.name.value for p in list(fn.params.posonly_params) + list(fn.params.params)]
    if names and names[0] in ("self", "cls"):  # a method (or __init__) called on its object or class
        names = names[1:]
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if name in names and names.index(name) < len(positional):
        return positional[names.index(name)]
    return None


# ------------------------------------------------------------------ the generate calls of a side

def _local_generate_defs(facts) -> list:
    out = []
    for src in facts.side.files.values():
        if src.module is None or "def generate" not in src.text:
            continue
        for n in walk(src.module, skip_functions=False):
            if type(n) is cst.FunctionDef and n.name.value == "generate":
                out.append(n)
    return out


def _is_wrapper_call(call: cst.Call, defs: list) -> bool:
    """A call a local `def generate(...)` accepts by its named parameters (BLIP's
    `model.generate(image, sample=False, num_beams=3)`): the side's own wrapper, not the library."""
    keywords = {a.keyword.value for a in call.args if a.keyword is not None}
    if any(a.star == "**" for a in call.args):
        return False
    return any(keywords <= set(params_of(fn)) for fn in defs)


def _kwargs_dict(src, fn, arg: cst.Arg) -> Optional[dict]:
    """The keys and value nodes of a `**name` argument assigned one dict literal (or dict(...))."""
    node = arg.value
    if type(node) is cst.Name:
        values = _assignments(fn.body if fn is not None else src.module, node.value)
        if len(values) != 1 or values[0] is None:
            return None
        node = values[0]
    if type(node) is cst.Dict:
        out = {}
        for e in node.elements:
            if type(e) is not cst.DictElement:
                return None
            key = _literal(e.key)
            if not isinstance(key, str):
                return None
            out[key] = e.value
        return out
    if type(node) is cst.Call and call_name(node) == "dict" and all(a.keyword is not None for a in node.args):
        return {a.keyword.value: a.value for a in node.args}
    return None


def _settings(res: Resolver, src, fn, call: cst.Call) -> dict:
    given = {}
    opaque = False
    for a in call.args:
        if a.keyword is not None:
            given[a.keyword.value] = a.value
        elif a.star == "**":
            extra = _kwargs_dict(src, fn, a)
            if extra is None:
                opaque = True
            else:
                given.update({k: v for k, v in extra.items() if k not in given})
    out = {}
    for name in SETTINGS:
        node = given.get(name)
        if node is not None:
            val = res.resolve(src, fn, node)
            if val is not None and val.value is None:  # None: the library's default
                val = Val(DEFAULTS[name], "library", src, node, Site(src, node))
            out[name] = val
        elif opaque or "generation_config" in given or OVERRIDDEN_BY.get(name) in given:
            out[name] = None
        else:
            out[name] = Val(DEFAULTS[name], "library", src, None, Site(src, call))
    return out


def decoder_calls(facts) -> tuple:
    """The library `.generate(...)` calls of a side (in every file of it), with their settings;
    calls in a branch the known arguments rule out (BLIP's `if sample:` with sample=False) left out."""
    res = Resolver(facts)
    defs = _local_generate_defs(facts)
    out = []
    for src in facts.side.files.values():
        if src.module is None or ".generate(" not in src.text:
            continue
        for n in walk(src.module, skip_functions=False):
            if type(n) is not cst.Call or type(n.func) is not cst.Attribute or n.func.attr.value != "generate":
                continue
            if id(n) in res.run_sites:
                continue  # the interpreter ran a local function here
            keywords = {a.keyword.value for a in n.args if a.keyword is not None}
            if not keywords & HF_KEYWORDS or _is_wrapper_call(n, defs):
                continue
            fn = enclosing_function(src, n)
            if _dead_branch(res, src, fn, n):
                continue
            out.append(Decode(src, n, fn, _settings(res, src, fn, n), res.ran(fn)))
    return out, res


def _truth(res: Resolver, src, fn, test) -> Optional[bool]:
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        t = _truth(res, src, fn, test.expression)
        return None if t is None else not t
    if type(test) is cst.Comparison and len(test.comparisons) == 1 and \
            isinstance(test.comparisons[0].operator, (cst.Equal, cst.NotEqual)):
        left = res.resolve(src, fn, test.left)
        right = res.resolve(src, fn, test.comparisons[0].comparator)
        if left is None or right is None:
            return None
        same = left.value == right.value
        return same if isinstance(test.comparisons[0].operator, cst.Equal) else not same
    if type(test) in (cst.Name, cst.Attribute):
        v = res.resolve(src, fn, test)
        return None if v is None else bool(v.value)
    return None


def _dead_branch(res: Resolver, src, fn, call) -> bool:
    child = call
    for a in ancestors(src, call):
        if a is fn:
            return False
        if type(a) is cst.If:
            t = _truth(res, src, fn, a.test)
            if t is not None:
                in_body = child is a.body
                if in_body != t:
                    return True
        child = a
    return False


# ------------------------------------------------------------------ comparing

def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) < 1e-12
    return a == b


def _compared(p: Decode, o: Decode) -> list[str]:
    """The settings compared for this pair: top_p/top_k only when both sides sample."""
    names = [n for n in SETTINGS if n not in SAMPLING_ONLY]
    ps, os_ = p.settings.get("do_sample"), o.settings.get("do_sample")
    if ps is not None and os_ is not None and ps.value is True and os_.value is True:
        names += list(SAMPLING_ONLY)
    return names


def differing(p: Decode, o: Decode) -> list[str]:
    out = []
    for name in _compared(p, o):
        a, b = p.settings.get(name), o.settings.get(name)
        if a is not None and b is not None and not _same(a.value, b.value):
            out.append(name)
    return out


def _agreeing(p: Decode, o: Decode) -> int:
    """Settings both sides give explicitly (not both the library default) and that agree."""
    n = 0
    for name in _compared(p, o):
        a, b = p.settings.get(name), o.settings.get(name)
        if a is not None and b is not None and _same(a.value, b.value) and not (a.how == b.how == "library"):
            n += 1
    return n


_WORD = re.compile(r"[a-z]+")


def _words(d: Decode) -> set:
    text = d.src.display.lower()
    if d.fn is not None:
        text += " " + d.fn.name.value.lower()
    return {w for w in _WORD.findall(text) if len(w) >= 3} - {"py", "tools", "python", "models", "export", "ported",
                                                                 "original", "forward", "generate", "self"}


def _cost(p: Decode, o: Decode):
    diffs = differing(p, o)
    length = sum(1 for n in diffs if n in LENGTHS)
    return (length, len(diffs), -len(_words(p) & _words(o)), not o.ran)


def _place(site: Optional[Site]) -> str:
    loc = locate(site)
    if loc is None:
        return "?"
    cell = f"cell {loc.cell}:" if loc.cell is not None else ""
    return f"{loc.path}:{cell}{loc.line}"


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return f"{v:.1f}"
    return repr(v) if isinstance(v, str) else str(v)


# how a value was found -> how the message says where it comes from
_SOURCES = {"literal": "passed at {}", "local": "assigned to a local name, {}", "module": "a module constant, {}",
            "attribute": "a self. attribute set at {}", "default": "a parameter's default, {}",
            "caller": "passed by the caller at {}", "run": "as the program runs it, {}"}


def _describe(name: str, val: Val) -> str:
    if val.how == "library":
        return f"{name}={_fmt(val.value)} (not passed: the library default)"
    return f"{name}={_fmt(val.value)} ({_SOURCES[val.how].format(_place(val.where))})"


def _mode(d: Decode) -> str:
    beams, sample = d.settings.get("num_beams"), d.settings.get("do_sample")
    if beams is None or sample is None:
        return ""
    b, s = beams.value, sample.value
    if isinstance(b, int) and b > 1:
        return f"beam search with {b} beams" + (" and sampling" if s else "")
    return "sampling" if s else "greedy search"


def _exports(src) -> bool:
    return any(k in src.text for k in ("onnx.export", "jit.trace", "jit.script", "torch.export"))


def _fix(p: Decode, name: str, val: Val, want) -> Optional[Fix]:
    new = _fmt(want)
    reexport = (" The decoding loop is part of the model this script exports: re-export the ONNX model and "
                "recompile the bmodel, the deployed program runs the loop baked into it.") if _exports(p.src) else ""
    if val.how == "library":
        if not p.call.args:
            return Fix("display-only", f"pass {name}={new} as the original does.{reexport}")
        star = next((a for a in p.call.args if a.star), None)
        if star is not None:
            sp = span(Site(p.src, star))
            edit = TextEdit(p.src.display, sp[0], sp[0], f"{name}={new}, ") if sp else None
        else:
            sp = span(Site(p.src, p.call.args[-1].value))
            edit = TextEdit(p.src.display, sp[1], sp[1], f", {name}={new}") if sp else None
        if edit is None:
            return Fix("display-only", f"pass {name}={new} as the original does.{reexport}")
        return Fix("safe", f"pass {name}={new} to generate() as the original does.{reexport}", [edit])
    if val.node is not None and val.src is p.src and val.how in ("literal", "local", "module", "attribute", "default"):
        sp = span(Site(val.src, val.node))
        if sp:
            edit = TextEdit(val.src.display, sp[0], sp[1], new)
            if val.how == "literal" and _inside(p.src, val.node, p.call):
                return Fix("safe", f"decode with {name}={new} as the original does.{reexport}", [edit])
            return Fix("unsafe", f"set {name} to {new} where it is defined, as the original decodes; other uses of "
                                 f"that value change too.{reexport}", [edit])
    return Fix("display-only", f"decode with {name}={new} as the original does (the value is decided where it is "
                               f"passed, not in this call).{reexport}")


def compare(p: Decode, o: Decode) -> list:
    out = []
    modes = (_mode(p), _mode(o))
    for name in differing(p, o):
        pv, ov = p.settings[name], o.settings[name]
        msg = f"generate() decodes with {_describe(name, pv)}, the original with {_describe(name, ov)}"
        if name in ("num_beams", "do_sample") and all(modes) and modes[0] != modes[1]:
            msg += f": {modes[0]} here, {modes[1]} in the original, so the decoded text can differ"
        elif name in LENGTHS:
            msg += ": the generated sequences are cut at other lengths"
        else:
            msg += ": the next-token scores are changed differently"
        kw = _keyword_arg(p.call, name)
        at_call = Site(p.src, kw) if kw is not None else p.site
        # where the fix goes: the literal that decides the value (in the call or where it is defined)
        defined = pv.node is not None and pv.src is p.src and pv.how in ("literal", "local", "module", "attribute", "default")
        psite = Site(pv.src, pv.node) if defined and not _inside(p.src, pv.node, p.call) else at_call
        related = [(o.site, "the original's generate() call")]
        if psite is not at_call:
            related.insert(0, (at_call, "the ported generate() call"))
        if ov.where is not None and ov.how not in ("library", "literal"):
            related.append((ov.where, f"where the original's {name} comes from"))
        out.append((msg, psite, o.site, related, _fix(p, name, pv, ov.value)))
    return out


def _inside(src, node, call) -> bool:
    """Is `node` written in the call itself (a keyword's literal), not in a dict or a definition?"""
    return node is call or any(a is call for a in ancestors(src, node))


def _keyword_arg(call, name):
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a
    return None


@guarded
def check(pair) -> list:
    ported, _ = decoder_calls(pair.ported)
    if not ported:
        return []
    originals, _ = decoder_calls(pair.original)
    if not originals:
        return []
    findings = []
    for p in ported:
        o, _ = closest(originals, lambda o: _cost(p, o))
        if o is None:
            continue
        if len(originals) > 1 and not _agreeing(p, o):
            continue  # nothing says this is the call the port follows
        for msg, psite, osite, related, fix in compare(p, o):
            findings.append(RULE.finding(msg, psite, osite, fix=fix, related=related))
    return findings
