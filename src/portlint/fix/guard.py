"""Signals during `fix`: whatever arrives, the user's files are the old or the new ones, the
temporary copy is removed, and the command ends with one line at most, never a traceback.

Why: Python's default SIGTERM ends the process without running `finally` blocks (the
`portlint-fix-*` copy stayed in the temp folder); Ctrl-C can land while another exception is being
handled, and the traceback then printed is the other exception's (once 265 KB of syntax-tree
dumps); and a Ctrl-C between two of --apply's file writes would leave a half-applied fix set.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator

SIGTERM_EXIT = 143  # 128 + SIGTERM, as a shell reports a process ended by it
SIGINT_EXIT = 130
_SEEN: list[int] = []  # signals received during the current `fix` command


class Terminated(SystemExit):
    """SIGTERM, raised where the process is, so that cleanup runs; exits 143 when uncaught."""

    def __init__(self) -> None:
        super().__init__(SIGTERM_EXIT)


def _raise_terminated(signum, frame) -> None:
    _SEEN.append(signum)
    raise Terminated()


def _interrupted(exc: BaseException) -> bool:
    """`exc` is, or was raised while handling, a Ctrl-C."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__context__ or exc.__cause__
    return False


def _raise_interrupt(signum, frame) -> None:
    _SEEN.append(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def fix_signals() -> Iterator[None]:
    """For the whole of a `fix` command: SIGTERM unwinds like Ctrl-C; once a Ctrl-C arrived, the
    command ends with exit 130 whatever exception is then in flight (libcst code interrupted
    half-way can raise another one, without the KeyboardInterrupt in its chain), and errors
    ignored in finalizers stay quiet."""
    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        yield
        return
    old_term, old_int = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    old_hook = sys.unraisablehook

    def quiet(unraisable) -> None:
        if not (_SEEN or isinstance(unraisable.exc_value, (KeyboardInterrupt, SystemExit))):
            old_hook(unraisable)

    del _SEEN[:]
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGINT, _raise_interrupt)
    sys.unraisablehook = quiet
    try:
        yield
    except SystemExit:
        raise
    except BaseException as exc:
        if _interrupted(exc) or signal.SIGINT in _SEEN:
            raise SystemExit(SIGINT_EXIT) from None
        if signal.SIGTERM in _SEEN:
            raise SystemExit(SIGTERM_EXIT) from None
        raise
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        sys.unraisablehook = old_hook


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held until the block ends, then acted on: --apply's writes (each one
    atomic) all happen once they have started, so no fix that spans files is half-applied."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum, frame) -> None:
        pending.append(signum)

    old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if pending:
        _SEEN.extend(pending)
        if pending[0] == signal.SIGTERM:
            raise Terminated()
        raise KeyboardInterrupt
