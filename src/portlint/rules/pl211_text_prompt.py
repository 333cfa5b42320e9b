"""PL211 other: the text each program tokenizes, normalised differently.

Open-vocabulary models (GroundingDINO, and others that decode phrases from token positions) predict
over the tokens of the text prompt; to name a detection, the post-processing indexes the token
positions the model scored into a tokenization of the caption. GroundingDINO's demo normalises the
caption before both the model and that tokenization (`caption.lower().strip()`, then a '.' appended
when missing: 'person' -> '[CLS] person . [SEP]'). A port that feeds the model the normalised text
but tokenizes the raw prompt for its phrases indexes another token sequence: from the appended '.'
on, every position points at a different token. Read statically: for each call of a tokenizer
(`tokenizer(text)`, `self.tokenizer(self.caption)`, GroundingDINO's `tokenlizer`), the steps applied
to its text (`.lower()`, `.strip()`, an appended '.'), followed through names, `self.` attributes set
in `__init__`, and one level of callers; a text whose origin is not read is unknown and not compared.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import functions, last_name, params_of, walk
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules import pl211_token_edits as token_edits
from portlint.rules.common import guarded, ran_functions

RULE = RuleMeta("PL211", "other", "warning", ("display-only",),
                "text prompt tokenized with different normalisation, or its tokens rewritten on one side only")

_TOKENIZER = re.compile(r"token(l)?izer$|^tokenize$", re.I)
_NAMESPACES = ("args", "opt", "opts", "cfg", "config", "FLAGS")
STEPS = ("lower", "strip", "period")
_DESCRIBE = {"lower": "lower-cased", "strip": "stripped", "period": "'.' appended"}
_DEPTH = 3


_MAKERS = ("init_", "build_", "load_", "get_", "create_", "make_")


def is_tokenizer_name(name: str) -> bool:
    """`tokenizer`, `self.tokenizer`, `text_tokenizer`, `tokenlizer`, `tokenize`; not a function
    that makes one (`init_tokenizer(path)`, `build_tokenizer(cfg)`)."""
    return bool(_TOKENIZER.search(name)) and not name.lower().startswith(_MAKERS)


def tokenizer_calls(fn) -> list:
    return [n for n in walk(fn.body) if type(n) is cst.Call and n.args and n.args[0].keyword is None
            and is_tokenizer_name(last_name(n.func) or "")]


def _period(node) -> bool:
    return type(node) is cst.SimpleString and node.value.strip("'\"") == "."


def _expr_steps(node) -> tuple[set, Optional[cst.CSTNode]]:
    """Steps an expression applies to the text it is made of, and that text's node:
    `c.lower().strip()` -> ({lower, strip}, c); `c + '.'` -> ({period}, c); `[c]` -> ((), c)."""
    steps: set = set()
    for _ in range(8):
        if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value in ("lower", "strip"):
            steps.add(node.func.attr.value)
            node = node.func.value
        elif type(node) is cst.BinaryOperation and type(node.operator) is cst.Add and _period(node.right):
            steps.add("period")
            node = node.left
        elif type(node) is cst.List and len(node.elements) == 1:
            node = node.elements[0].value
        else:
            break
    return steps, node


class _Files:
    """The functions of one side's files, by name, for following a parameter to its callers."""

    def __init__(self, files):
        self.defs = [(src, fn) for src in files if src.module is not None for fn in functions(src)]
        self.classes = {}
        for src in files:
            if src.module is None:
                continue
            for n in src.module.body:  # module-level classes
                if type(n) is cst.ClassDef:
                    self.classes[n.name.value] = n

    def owner_class(self, fn) -> Optional[cst.ClassDef]:
        for cls in self.classes.values():
            if any(s is fn for s in cls.body.body):
                return cls
        return None

    def callers(self, fn):
        """(file, calling function, call) of each call of `fn` by name (a class name for __init__)."""
        name = fn.name.value
        if name == "__init__":
            cls = self.owner_class(fn)
            if cls is None:
                return
            name = cls.name.value
        for src, caller in self.defs:
            for n in walk(caller.body):
                if type(n) is cst.Call and last_name(n.func) == name:
                    yield src, caller, n


def _argument(call, fn, param: str):
    names = [p for p in params_of(fn) if p not in ("self", "cls")]
    for a in call.args:
        if a.keyword is not None and a.keyword.value == param:
            return a.value
    if param in names:
        i = names.index(param)
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if i < len(positional):
            return positional[i]
    return None


def text_steps(files: _Files, fn, node, depth: int = _DEPTH) -> tuple[set, bool]:
    """(steps, complete): the normalisation applied to the text `node` stands for inside `fn`, and
    whether its origin was read to the end (a literal, a command-line option); not complete when it
    comes from a parameter whose callers are not found or disagree, or a value computed elsewhere
    (then the steps are the ones seen, a lower bound)."""
    steps, node = _expr_steps(node)
    if type(node) is cst.SimpleString:
        return steps, True
    if type(node) is cst.Attribute and type(node.value) is cst.Name:
        base, attr = node.value.value, node.attr.value
        if base in _NAMESPACES:
            return steps, True  # the text as given on the command line
        if base == "self":
            cls = files.owner_class(fn)
            init = next((s for s in cls.body.body if type(s) is cst.FunctionDef and s.name.value == "__init__"), None) \
                if cls is not None else None
            if init is None:
                return steps, False
            got, complete = _assigned(files, init, lambda t: type(t) is cst.Attribute and type(t.value) is cst.Name
                                      and t.value.value == "self" and t.attr.value == attr, None, depth)
            return steps | got, complete
        return steps, False
    if type(node) is cst.Name:
        name = node.value
        got, complete = _assigned(files, fn, lambda t: type(t) is cst.Name and t.value == name, name, depth)
        return steps | got, complete
    return steps, False


def _assigned(files: _Files, fn, is_target, name: Optional[str], depth: int) -> tuple[set, bool]:
    """Steps of the assignments to a target in `fn` (`c = c.lower()`, `c += '.'`), with those of
    where its value first comes from: another expression, or, for a parameter, its callers."""
    steps, origins = set(), []
    for n in walk(fn.body):
        if type(n) is cst.Assign and any(is_target(t.target) for t in n.targets):
            got, base = _expr_steps(n.value)
            steps |= got
            if not is_target(base):
                origins.append(base)
        elif type(n) is cst.AugAssign and is_target(n.target) and type(n.operator) is cst.AddAssign and _period(n.value):
            steps.add("period")
    if origins and type(origins[0]) is cst.Name and origins[0].value in params_of(fn):
        name, origins = origins[0].value, []
    if origins:
        if depth <= 0:
            return steps, False
        got, complete = text_steps(files, fn, origins[0], depth - 1)
        return steps | got, complete
    if name is None or name not in params_of(fn) or depth <= 0:
        return steps, False
    got, complete = _from_callers(files, fn, name, depth - 1)
    return steps | got, complete


def _from_callers(files: _Files, fn, param: str, depth: int) -> tuple[set, bool]:
    """The steps of a parameter's text: those of every caller's argument, complete when all callers
    are read and agree."""
    seen = []
    for src, caller, call in files.callers(fn):
        arg = _argument(call, fn, param)
        if arg is not None:
            seen.append(text_steps(files, caller, arg, depth))
    if not seen:
        return set(), False
    common = set.intersection(*(s for s, _ in seen))
    return common, all(c for _, c in seen) and all(s == seen[0][0] for s, _ in seen)


def _describe(steps: set) -> str:
    return ", ".join(_DESCRIBE[s] for s in STEPS if s in steps) or "as given"


def _original_reference(pair):
    """(file, call, steps) of the original tokenization with the most normalisation, among the
    functions its programs ran."""
    files = _Files(list(pair.original.side.files.values()))
    best = None
    for prog in pair.original.programs():
        for src, fn in ran_functions(prog):
            if "token" not in src.text:
                continue
            for call in tokenizer_calls(fn):
                got, _complete = text_steps(files, fn, call.args[0].value)  # a lower bound is enough here
                if got and (best is None or len(got) > len(best[2])):
                    best = (src, call, got)
    return best


_FIX = ("normalise the text the same way before this tokenization (lower-case, strip, append '.' as the "
        "original does), or tokenize the very text the model was given; which text a caller passes is for "
        "you to check")


@guarded
def check(pair) -> list:
    return _normalisation_findings(pair) + token_edits.findings(pair, RULE, tokenizer_calls)


def _normalisation_findings(pair) -> list:
    ref = _original_reference(pair)
    if ref is None:
        return []
    osrc, ocall, osteps = ref
    files = _Files(list(pair.ported.side.files.values()))
    calls, done = [], set()
    for prog in pair.ported.programs():
        for src, fn in ran_functions(prog):
            if "token" not in src.text:
                continue
            for call in tokenizer_calls(fn):
                if id(call) not in done:
                    done.add(id(call))
                    calls.append((src, call, *text_steps(files, fn, call.args[0].value)))
    out = []
    for src, call, got, complete in calls:
        if not complete or osteps <= got:
            continue
        same = next(((s, c) for s, c, g, _ in calls if osteps <= g), None)  # the port's own normalised text
        missing = _describe(osteps - got)
        msg = (f"ported tokenizes the text prompt {_describe(got)}, the original {_describe(osteps)}: this "
               f"tokenization lacks {missing}, so it is a different token sequence; the token positions the model "
               "scores index other tokens from the first difference on (GroundingDINO: a hit on the appended '.' "
               "decodes as '[SEP]', the phrases after it shift)")
        if same is not None:
            msg += "; the port normalises the text it gives the model, so the two tokenizations of the port disagree"
        related = [(Site(same[0], same[1]), "the port's normalised tokenization")] if same is not None else []
        out.append(RULE.finding(msg, Site(src, call), Site(osrc, ocall), fix=Fix("display-only", _FIX), related=related))
    return out
