"""Analyses many pairs: cached results first, the rest in a process pool, results in pair order.

`analyze_pairs(pairs, options, jobs)` returns one CheckReport per pair, in the order of `pairs`,
whatever order the workers finish in, so output never depends on `--jobs`. A pool is started only
when at least two pairs miss the cache and more than one job is allowed; workers are forked where
the platform allows (no re-import), spawned elsewhere.

While analysing, the cyclic garbage collector runs less often: libcst trees are large and live
until the end of the run, so the default thresholds make the collector rescan them over and over
(about a fifth of a cold run on the benchmark corpus, scripts/benchmark.py).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from typing import Callable, Iterator, Optional


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_THRESHOLDS = (100_000, 50, 1000)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Objects alive now (modules, tables) and every tree parsed from now on are frozen out of the
    collector's scans (engine/source.FREEZE_TREES), and it runs about a hundred times less often."""
    from portlint.analysis import source

    old, old_freeze = gc.get_threshold(), source.FREEZE_TREES
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)
    source.FREEZE_TREES = True
    try:
        yield
    finally:
        source.FREEZE_TREES = old_freeze
        gc.set_threshold(*old)
        gc.unfreeze()


_WORKER: dict = {}


def _init_worker(func, options, parent: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it stops us)
    _die_with_parent(parent)
    _WORKER["func"], _WORKER["options"], _WORKER["parent"] = func, options, parent
    gc.freeze()  # what the fork inherited: never scanned, never copied on write by the collector
    gc.set_threshold(*_THRESHOLDS)
    from portlint.analysis import source

    source.FREEZE_TREES = True  # and each tree this worker parses


def _die_with_parent(parent: int) -> None:
    """A worker whose parent was killed (kill -9) ends at once and silently: it would otherwise
    finish its pair and print a BrokenPipeError traceback sending the result. Linux tells the
    worker (PR_SET_PDEATHSIG); elsewhere `_run_one` looks before each pair."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if parent and os.getppid() != parent:  # it died before the call above
        os._exit(0)


def _run_one(pair):
    parent = _WORKER.get("parent")
    if parent and os.getppid() != parent:
        os._exit(0)
    return _WORKER["func"](pair, _WORKER["options"])


def _context():
    import multiprocessing  # only when a pool is started: importing it costs ~16 ms, a quarter of a warm run

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def run_pairs(func: Callable, pairs: list, options, jobs: Optional[int], prepare: Optional[Callable] = None) -> list:
    """[func(pair, options) for pair in pairs], in order, on up to `jobs` processes. `prepare()`
    runs once before a pool starts: what it imports, the forked workers share instead of each
    importing it again."""
    jobs = default_jobs() if not jobs or jobs < 1 else jobs
    jobs = min(jobs, len(pairs))
    if jobs <= 1:
        with fewer_collections():
            return [func(pair, options) for pair in pairs]
    if prepare is not None:
        prepare()
    pool = _context().Pool(processes=jobs, initializer=_init_worker, initargs=(func, options, os.getpid()))
    try:
        results = list(pool.imap(_run_one, pairs, chunksize=1))  # in order, whoever finishes first
    except BaseException:  # Ctrl-C or a failing pair: stop the other workers now
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
    return results


def _largest_first(todo: list, pairs: list, reader) -> list:
    """The pairs to analyse, the most source text first (the keys read it all already): the pool
    hands out one pair at a time, so the last pairs, when a worker may wait for the other,
    are the short ones. The reports still come back in the pairs' order."""
    from portlint import cache as cache_mod

    def size(i: int) -> int:
        total = 0
        for side in (pairs[i].original, pairs[i].ported):
            for path, _state in cache_mod.side_files(str(side), reader):
                text = reader.files.get(path, ("", None))[1]
                total += len(text) if text else 0
        return total

    sizes = {i: size(i) for i in todo}
    return sorted(todo, key=lambda i: -sizes[i])  # stable: equal sizes keep their order


def analyze_pairs(pairs: list, options, jobs: Optional[int], analyze: Callable, prepare: Optional[Callable] = None) -> list:
    """One report per pair (in order): from the cache where it has the pair, else `analyze`
    (`prepare`: see run_pairs)."""
    from portlint import cache as cache_mod

    store = None
    if not getattr(options, "no_cache", False):
        directory = getattr(options, "cache_dir", None) or cache_mod.default_cache_dir()
        store = cache_mod.PairCache(directory)
    results: list = [None] * len(pairs)
    keys: list = [None] * len(pairs)
    reader = None
    if store is not None:
        reader = cache_mod._Reader()
        for i, pair in enumerate(pairs):
            try:
                keys[i] = cache_mod.pair_key(pair, options, reader)
            except (OSError, ValueError, RecursionError):
                keys[i] = None
            results[i] = store.get(keys[i])
    todo = [i for i, r in enumerate(results) if r is None]
    if reader is not None and len(todo) > 1 and (default_jobs() if not jobs or jobs < 1 else jobs) > 1:
        todo = _largest_first(todo, pairs, reader)
    if todo:
        done = run_pairs(analyze, [pairs[i] for i in todo], options, jobs, prepare)
        for i, report in zip(todo, done):
            results[i] = report
            if store is not None:
                store.put(keys[i], report, reader)  # only if the analysis read what the key covers
        if store is not None and store.stored:
            store.prune()
    return results
