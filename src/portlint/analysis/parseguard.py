"""Parse only what libcst's native parser parses in bounded time; refuse the rest with one line.

Why: libcst's parser is super-quadratic in the length of an operator chain (`1+1+...`: 17 s at
5k terms; `a[0][0]...` 45 s at 4k), crashes the process (stack overflow) on a 40 KB `a.b.b...`
line, and cannot be interrupted while it runs. So, before libcst sees a file:

1. `cost()`, cheap (plain string and regex operations, ~1% of a parse): every logical line's
   length, strings collapsed and comments dropped (f-strings kept: their expressions are
   parsed), cubed and summed. A chain of n tokens needs a logical line of at least n characters
   and costs libcst at most about `C * n**3` seconds (measured: the worst chains above), so a file
   under BUDGET seconds is parsed as usual. Real code has short logical lines; only files with
   long ones (a big literal table) go on.
2. `ast.parse` (CPython's parser: linear time, a native depth check) with the recursion limit
   lowered so that a tree deeper than MAX_DEPTH raises: such a file is refused at once. On the
   tree, `chain_cost()` measures what libcst's left-recursive rules cost: the cube of each
   maximal `a.b(c)[d] + e` chain. A file under BUDGET (a flat 400 KB list) is parsed as usual.
3. Else libcst parses it in a forked child under the per-file time limit
   (PORTLINT_FILE_TIME_LIMIT); only when the child finishes is the file parsed here (twice the
   parse, for rare files). A child that runs out of time or crashes is killed, and the file is
   refused.

Nothing in the file runs: `ast.parse` and libcst only parse.
"""

from __future__ import annotations

import ast
import os
import re
import select
import signal
import sys
from typing import Optional

MAX_DEPTH = 1000  # syntax-tree levels (CPython itself refuses about 3000)
BUDGET = 1.0  # seconds of worst-case super-linear parsing a file may cost before it is checked
C = 3e-11  # seconds per (logical-line character)**3, libcst's worst measured chains (x1.2)

# strings (collapsed to one character) and comments (dropped); an f-string is kept as it is
_TOKENS = re.compile(
    r"""#[^\r\n]*"""
    r"""|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"""
    r'''|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'''
    r"""|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'"""
    r'''|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"''',
    re.S,
)
_F_PREFIX = re.compile(r"(?<![\w])(?:[fF][rR]?|[rR][fF])$")
_BRACKETS_ONLY = {i: None for i in range(128) if chr(i) not in "()[]{}\n"}  # str.translate: ASCII others dropped
_CONTINUATION = re.compile(r"\\\r?\n")
_DELTAS: dict = {}


def _collapse(m: re.Match) -> str:
    i = m.start()
    if m.string[i] == "#":
        return ""
    if _F_PREFIX.search(m.string, max(0, i - 3), i):
        return "x" * (m.end() - i)  # an f-string: its expressions are parsed, keep their length
    return "0"


def _delta(s: str) -> int:
    d = _DELTAS.get(s)
    if d is None:
        d = s.count("(") + s.count("[") + s.count("{") - s.count(")") - s.count("]") - s.count("}")
        if len(_DELTAS) < 10_000:
            _DELTAS[s] = d
    return d


def cost(text: str) -> float:
    """An upper bound, in seconds, of what libcst may spend on the file beyond linear time."""
    code = _CONTINUATION.sub(" ", _TOKENS.sub(_collapse, text))
    lines = code.split("\n")
    brackets = code.translate(_BRACKETS_ONLY).split("\n")
    total = run = depth = 0
    for line, b in zip(lines, brackets):
        run += len(line) + 1
        if b:
            depth += _delta(b)
        if depth <= 0:
            total += run * run * run
            run = depth = 0
    total += run * run * run
    return total * C


def _frames() -> int:
    f, n = sys._getframe(), 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def _deeper_than(tree, limit: int) -> bool:
    """Whether the tree has more than `limit` levels, walked without recursion. Python 3.11's AST
    builder refuses such a tree under the lowered recursion limit; Python 3.10's builds it (no
    depth check there), so the depth is measured here as well."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False


def _tree(text: str):
    """CPython's syntax tree of `text`; DEEP when it is deeper than MAX_DEPTH (the AST builder
    counts three levels per unit of the recursion limit; on Python 3.10 the depth is measured on
    the built tree); None for a syntax error."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + MAX_DEPTH // 3 + 5)
    try:
        tree = ast.parse(text)
    except (RecursionError, MemoryError):
        return DEEP
    except SyntaxError as exc:
        return DEEP if "too many nested" in str(exc) or "too complex" in str(exc) else None
    except ValueError:
        return None
    finally:
        sys.setrecursionlimit(old)
    return DEEP if _deeper_than(tree, MAX_DEPTH) else tree


DEEP = object()
# the operand libcst's left-recursive rules grow from: `a + b`, `a.b`, `a(b)`, `a[b]`
_LEFT = {ast.BinOp: "left", ast.Attribute: "value", ast.Call: "func", ast.Subscript: "value"}
C_CHAIN = 1e-9  # seconds per (chain length)**3: `a[0][0]...` 0.8 s at 1000 terms, 45 s at 4000


def chain_cost(tree) -> float:
    """libcst's super-linear time on a tree, from its longest left-recursive chains: each maximal
    chain of n nodes costs about C_CHAIN * n**3 (a flat 400 KB list costs nothing here)."""
    total, inner = 0, set()
    for node in ast.walk(tree):  # breadth first: a chain's head comes before its links
        if type(node) not in _LEFT or id(node) in inner:
            continue
        n, cur = 0, node
        while True:
            attr = _LEFT.get(type(cur))
            if attr is None:
                break
            n += 1
            cur = getattr(cur, attr)
            inner.add(id(cur))
        total += n * n * n
    return total * C_CHAIN


def time_limit() -> float:
    try:
        return float(os.environ.get("PORTLINT_FILE_TIME_LIMIT", "20"))
    except ValueError:
        return 20.0


def _parse_in_child(text: str, limit: float) -> Optional[str]:
    """None when libcst parses (or rejects) `text` within `limit` seconds in a child process,
    else why not."""
    from portlint.analysis import fastparse

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, say so, and leave without running any of the parent's code
        try:
            os.close(read)
            try:
                fastparse.parse_module(text)
            except BaseException:
                pass  # a syntax error: the parent parses it again and reports it
            os.write(write, b"1")
        finally:
            os._exit(0)
    os.close(write)
    done = False
    try:
        ready, _, _ = select.select([read], [], [], max(limit, 0.01))
        done = bool(ready) and os.read(read, 1) == b"1"
        if done:
            return None
        if not ready:
            return f"not analysed: parsing it takes longer than the time limit ({limit:g} s, PORTLINT_FILE_TIME_LIMIT)"
        return "not analysed: the parser (libcst) crashed on it"
    finally:
        os.close(read)
        if not done:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass


def refusal(text: str) -> Optional[str]:
    """None when the file can be parsed with libcst here, else the one-line reason it is not."""
    if cost(text) <= BUDGET:
        return None
    tree = _tree(text)
    if tree is DEEP:
        return (f"not analysed: nested too deeply or too long an operator chain to parse "
                f"(more than {MAX_DEPTH} levels)")
    if tree is not None and chain_cost(tree) <= BUDGET:
        return None
    if not hasattr(os, "fork"):  # pragma: no cover - portlint runs on Linux
        return None
    return _parse_in_child(text, time_limit())
