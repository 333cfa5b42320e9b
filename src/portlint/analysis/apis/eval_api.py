"""`eval` of a text the analyser knows, without executing it, and `contextlib.suppress`.

- A Python literal (`"640"`, `"[1, 3]"`, `"0.25"`) is its value (`ast.literal_eval` builds
  plain data only).
- A text that is not an expression raises SyntaxError; an expression that names only names the
  program does not define (not a local, a global or a builtin; the module has no star import
  and no `globals()`/`exec` that could define them) raises NameError: `eval("yolov8s.pt")`.
- Anything else stays unknown: a defined name may evaluate to anything.
"""

from __future__ import annotations

import ast
import builtins

from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.raising import EXCEPTION_NAMES, ProgramRaise
from portlint.analysis.values import UNKNOWN, ApiObject

MAX_TEXT = 10_000
_BUILTIN_NAMES = frozenset(dir(builtins))


def eval_text(text: str, frame):
    """The value of eval(text) in `frame`, UNKNOWN, or a ProgramRaise when it certainly raises."""
    if len(text) > MAX_TEXT:
        return UNKNOWN
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ProgramRaise("SyntaxError") from None
    except (ValueError, MemoryError, RecursionError):
        return UNKNOWN
    try:
        return ast.literal_eval(tree)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if names and frame is not None and not any(_maybe_defined(n, frame) for n in names) and _closed(frame):
        # the first name evaluated is undefined: Python raises before anything else runs
        raise ProgramRaise("NameError")
    return UNKNOWN


def _maybe_defined(name: str, frame) -> bool:
    func = getattr(frame, "func", None)
    closure = getattr(func, "closure", None) or {}
    return name in frame.locals or name in frame.globals or name in closure or name in _BUILTIN_NAMES


def _closed(frame) -> bool:
    """The module's names are all visible statically: no star import, no globals()/exec/vars()."""
    text = getattr(frame.file, "text", None)
    if not isinstance(text, str):
        return False
    return not any(marker in text for marker in ("import *", "globals()", "exec(", "vars()", "__builtins__", "locals()"))


@handles("contextlib.suppress")
def _suppress(ctx: Ctx):
    """`contextlib.suppress(Exception, ...)`: the builtin classes it swallows, by name."""
    handled = []
    for arg in (ctx.node.args if ctx.node is not None else ()):
        value = arg.value
        name = getattr(value, "value", None) if type(value).__name__ == "Name" else None
        if name in EXCEPTION_NAMES and name not in (ctx.frame.locals if ctx.frame else {}) and name not in (ctx.frame.globals if ctx.frame else {}):
            handled.append(name)
    return ApiObject("contextlib.suppress", attrs={"handled": tuple(handled)}, site=ctx.site)
