"""argparse's reading of a command line, for the programs the user said how to run
(`--original-run`, `--ported-run`): `python yolov34_opencv.py --conf_thresh 0.3` gives
`args.conf_thresh == 0.3`, not the default 0.001.

What is modelled, as CPython's argparse does it (Lib/argparse.py, 3.11): `--opt value`, `--opt=value`,
a unique prefix of a long option (allow_abbrev), `-x value` and `-xvalue`, `store_true`/`store_false`/
`store_const`/`count`/`append`, nargs None, an integer, `?`, `*` and `+`, positionals in the order they
were added, `--` ending the options, and `type=int`/`float`/`str` applied to each word. A word a
value cannot be read from (a `type=` of the program's own, a bad number) gives an unknown value,
never a guess; words no option takes are left over (`parse_known_args`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from portlint.analysis.values import UNKNOWN, ApiRef


@dataclass
class OptionSpec:
    """One `add_argument` call: its option strings (or positional name), dest and how it reads words."""

    names: tuple
    dest: str
    action: Any = None
    nargs: Any = None
    type: Any = None
    const: Any = None

    @property
    def positional(self) -> bool:
        return not self.names[0].startswith("-")

    @property
    def takes_no_value(self) -> bool:
        return self.action in ("store_true", "store_false", "store_const", "count", "append_const", "help", "version")


def _convert(spec: OptionSpec, word: str):
    typ = spec.type
    if typ is None or (isinstance(typ, ApiRef) and typ.qname == "builtins.str"):
        return word
    if isinstance(typ, ApiRef) and typ.qname in ("builtins.int", "builtins.float"):
        try:
            return int(word) if typ.qname.endswith("int") else float(word)
        except ValueError:
            return UNKNOWN  # argparse would exit with an error: no value to go on
    return UNKNOWN  # a converter of the program's own: not run


def _looks_like_option(word: str) -> bool:
    if not word.startswith("-") or word == "-":
        return False
    try:
        float(word)  # a negative number is a value (argparse: when no option looks like one)
        return False
    except ValueError:
        return True


def _find(specs: list, word: str) -> tuple[Optional[OptionSpec], Optional[str]]:
    """(the option a word names, the value attached to it: `--a=1`, `-a1`)."""
    name, eq, attached = word.partition("=")
    exact = {n: s for s in specs if not s.positional for n in s.names}
    if name in exact:
        return exact[name], attached if eq else None
    if word.startswith("--"):
        matches = {id(s): s for n, s in exact.items() if n.startswith("--") and n.startswith(name)}
        if len(matches) == 1:
            return next(iter(matches.values())), attached if eq else None
        return None, None
    short = word[:2]
    if short in exact and len(word) > 2:
        return exact[short], word[2:]
    return None, None


def _take(words: list, i: int, nargs) -> tuple[list, int]:
    """The words an option with `nargs` reads from words[i:]: (the words, the next index)."""
    if isinstance(nargs, int):
        return words[i:i + nargs], i + nargs
    if nargs in ("*", "+"):
        j = i
        while j < len(words) and not _looks_like_option(words[j]):
            j += 1
        return words[i:j], j
    if nargs == "?":
        if i < len(words) and not _looks_like_option(words[i]):
            return [words[i]], i + 1
        return [], i
    return words[i:i + 1], i + 1


def parse_words(specs: list, defaults: dict, words: list, given: Optional[set] = None) -> tuple[dict, list]:
    """({dest: value}, words left over) for `words` (sys.argv[1:]) over the parser's options;
    `given` collects the dests the words set."""
    values = dict(defaults)
    given = set() if given is None else given
    rest: list = []
    positionals = [s for s in specs if s.positional]
    loose: list = []
    i, only_positional = 0, False
    while i < len(words):
        word = words[i]
        if word == "--" and not only_positional:
            only_positional = True
            i += 1
            continue
        if only_positional or not _looks_like_option(word):
            loose.append(word)
            i += 1
            continue
        spec, attached = _find(specs, word)
        i += 1
        if spec is None:
            rest.append(word)
            continue
        given.add(spec.dest)
        if spec.takes_no_value:
            if spec.action == "store_true":
                values[spec.dest] = True
            elif spec.action == "store_false":
                values[spec.dest] = False
            elif spec.action == "count":
                current = values.get(spec.dest)
                values[spec.dest] = (current if isinstance(current, int) else 0) + 1
            elif spec.action in ("store_const", "append_const"):
                values[spec.dest] = spec.const
            continue
        if attached is not None:
            taken = [attached]
        else:
            taken, i = _take(words, i, spec.nargs)
        converted = [_convert(spec, w) for w in taken]
        if spec.nargs == "?" and not taken:
            value = spec.const
        elif spec.nargs in ("*", "+") or isinstance(spec.nargs, int):
            value = converted
        else:
            value = converted[0] if converted else UNKNOWN
        if spec.action == "append":
            current = values.get(spec.dest)
            value = (list(current) if isinstance(current, list) else []) + [value]
        values[spec.dest] = value
    j = 0
    for spec in positionals:
        if j >= len(loose):
            break
        taken, j = _take(loose, j, spec.nargs)
        given.add(spec.dest)
        converted = [_convert(spec, w) for w in taken]
        values[spec.dest] = converted if spec.nargs in ("*", "+") or isinstance(spec.nargs, int) else \
            (converted[0] if converted else spec.const)
    rest.extend(loose[j:])
    return values, rest
