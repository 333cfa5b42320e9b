"""PL211, token edits: the original rewrites a token of the tokenized text before its text model,
the port feeds the tokenizer's ids unchanged.

BLIP's VQA replaces the question's first token ([CLS]) with its [ENC] token before the multimodal
text encoder (`question.input_ids[:, 0] = self.tokenizer.enc_token_id`, models/blip_vqa.py), and its
decoders replace it with [DEC] (`bos_token_id`); its ITM model does not. A port that tokenizes the
same text and feeds `input_ids` as they come gives the encoder a token it was never trained on in
that position. Read statically: a tokenization assigned to a name (`q = tokenizer(text, ...)`, also
`.to(device)`, or `ids = tokenizer(text).input_ids`) and an item assignment into its ids at a fixed
position from a `*_token_id` value, in the same function. A port tokenization is compared with the
original tokenizations of the original file whose name shares the most words with the port's
(`blip_vqa.py` with `models/blip_vqa.py`, not `blip_itm.py`), or with the only original file that
tokenizes; with no single such file, nothing is compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import code, functions, last_name, walk
from portlint.findings import Fix
from portlint.rules.common import ran_functions


@dataclass
class Tokenization:
    src: object
    call: cst.Call
    edits: list  # (assignment node, position code, token value code)


def _target_of(fn, call) -> tuple[Optional[str], bool]:
    """(name, is_ids) of the assignment holding the tokenizer call: `q = tokenizer(...)` (or
    `.to(device)` of it) -> ('q', False); `ids = tokenizer(...).input_ids` -> ('ids', True)."""
    for n in walk(fn.body):
        if type(n) is not cst.Assign or len(n.targets) != 1 or type(n.targets[0].target) is not cst.Name:
            continue
        if not any(x is call for x in walk(n.value)):
            continue
        is_ids = any(type(x) is cst.Attribute and x.attr.value == "input_ids" and any(y is call for y in walk(x.value))
                     for x in walk(n.value))  # tokenizer(...).input_ids, also .to(device) of it
        return n.targets[0].target.value, is_ids
    return None, False


def _ids_of(node, name: str, is_ids: bool) -> bool:
    """`q.input_ids`, `q['input_ids']` (or the ids name itself) is the subscripted array."""
    if is_ids:
        return type(node) is cst.Name and node.value == name
    if type(node) is cst.Attribute:
        return node.attr.value == "input_ids" and type(node.value) is cst.Name and node.value.value == name
    if type(node) is cst.Subscript and type(node.value) is cst.Name and node.value.value == name and len(node.slice) == 1:
        key = node.slice[0].slice
        return type(key) is cst.Index and type(key.value) is cst.SimpleString and "input_ids" in key.value.value
    return False


def edits_of(src, fn, call) -> list:
    name, is_ids = _target_of(fn, call)
    if name is None:
        return []
    out = []
    for n in walk(fn.body):
        if type(n) is not cst.Assign or len(n.targets) != 1 or type(n.targets[0].target) is not cst.Subscript:
            continue
        target = n.targets[0].target
        if _ids_of(target.value, name, is_ids) and last_name(n.value).endswith("token_id"):
            position = code(src, target.slice[-1].slice).strip() if target.slice else "?"
            out.append((n, position, code(src, n.value).strip()))
    return out


def _words(src) -> set:
    return {w for w in Path(str(src.display)).stem.lower().split("_") if w}


def tokenizations(facts, tokenizer_calls, every_file: bool = False) -> list[Tokenization]:
    """The tokenizations in the functions the side's programs ran; with `every_file`, also those of
    every file that tokenizes (an original library's model classes: BLIP's `BLIP_VQA.forward` is
    called through a model object its demo builds from a checkpoint)."""
    seen, out = set(), []
    defs = [(src, fn) for prog in facts.programs() for src, fn in ran_functions(prog)]
    if every_file:
        defs += [(src, fn) for src in facts.side.files.values()
                 if src.module is not None and "tokeniz" in src.text for fn in functions(src)]
    for src, fn in defs:
        if "token" not in src.text:
            continue
        for call in tokenizer_calls(fn):
            if id(call) not in seen:
                seen.add(id(call))
                out.append(Tokenization(src, call, edits_of(src, fn, call)))
    return out


def _counterpart(port: Tokenization, originals: list[Tokenization]) -> Optional[Tokenization]:
    """The first original tokenization of the one original file whose name shares the most words
    with the port's file, else None."""
    words = _words(port.src)
    scored = [(len(words & _words(o.src)), o) for o in originals]
    best = max((s for s, _ in scored), default=0)
    if best == 0 and len({id(o.src) for o in originals}) == 1:
        return originals[0]  # one original file tokenizes: it is the counterpart whatever its name
    if best == 0:
        return None
    files = {id(o.src) for s, o in scored if s == best}
    if len(files) != 1:
        return None
    return next(o for s, o in scored if s == best)


_FIX = ("set the first token of these ids as the original does before the text model (BLIP: "
        "text_inputs['input_ids'][:, 0] = tokenizer.enc_token_id, the [ENC] id init_tokenizer adds), or "
        "do it inside the exported graph")


def findings(pair, rule, tokenizer_calls) -> list:
    originals = tokenizations(pair.original, tokenizer_calls, every_file=True)
    if not any(t.edits for t in originals):
        return []
    out = []
    for port in tokenizations(pair.ported, tokenizer_calls):
        if port.edits:
            continue
        ref = _counterpart(port, originals)
        if ref is None or not ref.edits:
            continue
        edit, position, token = ref.edits[0]
        msg = (f"the original rewrites token {position} of this text after tokenizing it ({code(ref.src, edit).strip()}) "
               f"before its text model; the port feeds the tokenizer's ids unchanged, so the model gets the tokenizer's "
               f"own token there ([CLS] for a BERT tokenizer) where the original gives it {token}")
        out.append(rule.finding(msg, Site(port.src, port.call), Site(ref.src, edit), fix=Fix("display-only", _FIX),
                                related=[(Site(ref.src, ref.call), "the original's tokenization")]))
    return out
