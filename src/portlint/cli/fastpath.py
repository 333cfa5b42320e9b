"""`portlint check ...` without typer's argument machinery, for well-formed command lines.

Why: typer (0.2x) validates every argument through a pydantic TypeAdapter, and importing pydantic
for that costs about 0.13 s per process, half of a warm (cached) check, which a pre-commit hook
pays on every commit. This parser reads the options from `check`'s own typer declarations (one
definition), and gives up (None) on anything it does not handle exactly as typer would: `--help`,
an unknown option, a missing or malformed value, extra arguments. typer then runs as before and
says what is wrong. tests/test_fastpath.py checks both paths give the same call.
"""

from __future__ import annotations

import typing
from enum import Enum
from typing import Callable, Optional


def _kind(hint) -> object:
    """bool, int, str, list or an Enum class, from an annotation like Optional[List[str]]."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is typing.Union and len(args) == 1:
        hint = args[0]
    if typing.get_origin(hint) in (list, typing.List):
        return list
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    return hint if hint in (bool, int, str) else None


def _spec(func: Callable):
    """(positional parameter names, {option string: (name, kind)}, defaults) from typer infos."""
    from typer.models import ArgumentInfo, OptionInfo

    import inspect

    hints = typing.get_type_hints(func)
    positional, options, defaults = [], {}, {}
    for name, param in inspect.signature(func).parameters.items():
        info = param.default
        kind = _kind(hints.get(name))
        if kind is None:
            return None
        if isinstance(info, ArgumentInfo):
            positional.append(name)
        elif isinstance(info, OptionInfo):
            decls = info.param_decls
            if not decls:
                if kind is bool:
                    return None  # typer would make a --x/--no-x pair: leave it to typer
                decls = (f"--{name.replace('_', '-')}",)  # the name typer derives
            if any("/" in d for d in decls):
                return None
            for decl in decls:
                options[decl] = (name, kind)
        else:
            return None
        if info.default is ...:
            return None  # required: typer's message when missing
        defaults[name] = list(info.default) if isinstance(info.default, (list, tuple)) else info.default
    return positional, options, defaults


def parse(func: Callable, args: list[str]) -> Optional[dict]:
    """The keyword arguments typer would call `func` with, or None to let typer parse `args`."""
    spec = _spec(func)
    if spec is None:
        return None
    positional, options, kwargs = spec
    kwargs = dict(kwargs)
    given: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            given.extend(args[i + 1:])
            break
        if a.startswith("-") and a != "-":
            key, eq, value = a.partition("=")
            if key not in options and not a.startswith("--") and a[:2] in options and options[a[:2]][1] is not bool:
                key, eq, value = a[:2], "=", a[2:]  # -j2, as click reads it
            if key not in options:
                return None
            name, kind = options[key]
            if kind is bool:
                if eq:
                    return None
                kwargs[name] = True
                i += 1
                continue
            if not eq:
                i += 1
                if i >= len(args):
                    return None
                value = args[i]
            try:
                if kind is int:
                    kwargs[name] = int(value)
                elif kind is list:
                    kwargs[name] = [*(kwargs[name] or []), value]
                elif isinstance(kind, type) and issubclass(kind, Enum):
                    kwargs[name] = kind(value)
                else:
                    kwargs[name] = value
            except ValueError:
                return None
        else:
            given.append(a)
        i += 1
    if len(given) > len(positional):
        return None
    for name, value in zip(positional, given):
        kwargs[name] = value
    for name, value in list(kwargs.items()):
        if isinstance(value, list) and not value:
            kwargs[name] = None if spec[2][name] is None else []
    return kwargs


def try_check(argv: Optional[list[str]], check: Callable) -> Optional[dict]:
    """For `check ARGS` (no help asked), the arguments for `check` (portlint.cli.check, passed
    in so this module does not import the CLI back); else None."""
    if not argv or argv[0] != "check" or any(a in ("--help", "-h") for a in argv[1:]):
        return None
    return parse(check, list(argv[1:]))


def try_pre_commit(argv: Optional[list[str]]) -> Optional[tuple[str, list[str]]]:
    """For `pre-commit MODE FILES...` with no option (how the hooks in .pre-commit-hooks.yaml
    call it: pre-commit appends the staged file names), (MODE, FILES); else None, and typer
    parses. A commit is checked on every `git commit`: typer's validation would cost its
    pydantic import before portlint learns that no configured pair holds the files."""
    if not argv or argv[0] != "pre-commit" or len(argv) < 2:
        return None
    if any(a.startswith("-") for a in argv[1:]):
        return None
    return argv[1], list(argv[2:])
