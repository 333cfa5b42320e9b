"""Runs `portlint check`: resolves which pairs to check, analyses each, filters and suppresses.

The analysis lives in `portlint.analysis` and the rules in `portlint.rules`; this module is the glue between the command
line, the `[tool.portlint]` configuration and the report. Pairs come from the arguments, from
`--all DIR` (portlint.discover) or from pyproject.toml; `portlint.parallel` takes each pair's
result from the cache (portlint.cache) or analyses it, on `--jobs` processes, in pair order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from portlint.errors import PortlintError
from portlint.report import CheckReport


@dataclass(frozen=True)
class Pair:
    original: str
    ported: str
    bmodel: Optional[str] = None
    input_shape: Optional[tuple[int, ...]] = None
    original_runs: tuple[str, ...] = ()  # how the user runs a framework original (analysis/runspec.py)
    ported_runs: tuple[str, ...] = ()  # the arguments the port is documented to run with
    image_sizes: tuple = ()  # ((h, w), ...): the sizes of the user's images, when they are all known


@dataclass
class CheckOptions:
    pairs: list[Pair]
    select: set[str] = field(default_factory=set)
    ignore: set[str] = field(default_factory=set)
    no_cache: bool = False
    show_unused_suppressions: bool = False
    rule_options: dict = field(default_factory=dict)
    cache_dir: Optional[Path] = None
    jobs: Optional[int] = None  # processes for the analysis; None: one per core

    @classmethod
    def from_cli(cls, original=None, ported=None, bmodel=None, input_shape=None, select=None, ignore=None,
                 config=None, no_cache=False, files=(), show_unused_suppressions=False,
                 all_dir=None, jobs=None, original_run=(), ported_run=(), image_size=()) -> "CheckOptions":
        from portlint.config import load_config

        cfg = load_config(config, Path.cwd())
        shape = parse_shape(input_shape) if input_shape else None
        runs = tuple(original_run or ())
        if any(not r.strip() for r in runs):
            raise PortlintError("--original-run: expected a command, e.g. \"yolo predict model=yolov8s.pt source=bus.jpg\"")
        p_runs = tuple(ported_run or ())
        from portlint.config import parse_image_size

        sizes = tuple(parse_image_size(t) for t in image_size or ())
        if any(not r.strip() for r in p_runs):
            raise PortlintError("--ported-run: expected a command, e.g. \"python yolov5_opencv.py --conf_thresh 0.3\"")
        if jobs is not None and jobs < 1:
            raise PortlintError(f"--jobs {jobs}: expected a positive number of processes")
        if all_dir is not None:
            if original or ported:
                raise PortlintError("give either ORIGINAL and PORTED or --all DIR, not both")
            from portlint.discover import CONVENTION, discover_pairs

            pairs = [Pair(f.original, f.ported, bmodel, shape, runs, p_runs, sizes) for f in discover_pairs(all_dir)]
            if not pairs:
                raise PortlintError(f"--all {all_dir}: no pairs found (expected {CONVENTION})")
        elif original and ported:
            pairs = [Pair(original, ported, bmodel, shape, runs, p_runs, sizes)]
        elif original or ported:
            raise PortlintError("give both ORIGINAL and PORTED, or neither to check the pairs in pyproject.toml")
        else:
            if not cfg.pairs:
                raise PortlintError("no ORIGINAL and PORTED given and no [tool.portlint] pairs configured in pyproject.toml")
            pairs = [Pair(p.original, p.ported, bmodel or p.bmodel, shape or p.input_shape, runs or p.original_runs,
                          p_runs or p.ported_runs, sizes or p.image_sizes) for p in cfg.pairs]
            if files:
                wanted = {Path(f).resolve() for f in files}
                pairs = [p for p in pairs if _pair_touches(p, wanted)]
        return cls(
            pairs=pairs,
            select=_codes(select, "--select") or set(cfg.select),
            ignore=_codes(ignore, "--ignore") | set(cfg.ignore),
            no_cache=no_cache,
            show_unused_suppressions=show_unused_suppressions,
            rule_options=cfg.rule_options,
            cache_dir=cfg.cache_dir,
            jobs=jobs,
        )


def _pair_touches(pair: Pair, wanted: set[Path]) -> bool:
    for side in (pair.original, pair.ported):
        root = Path(side).resolve()
        for w in wanted:
            if w == root or root in w.parents or (root.is_file() and w.parent == root.parent):
                return True
    return False


def _codes(text: Optional[str], option: str) -> set[str]:
    """Codes, code prefixes or kinds, comma separated; one that names no rule is a usage error."""
    from portlint.codes import UnknownSelector, resolve_all

    try:
        return set(resolve_all(text.split(","))) if text else set()
    except UnknownSelector as exc:
        raise PortlintError(f"{option} {exc}") from None


def parse_shape(text: str) -> tuple[int, ...]:
    """`1,3,224,224`, `1x3x224x224` or `[1, 3, 224, 224]` -> (1, 3, 224, 224)."""
    cleaned = text.strip().strip("[]()").replace("x", ",").replace(" ", "")
    try:
        dims = tuple(int(p) for p in cleaned.split(",") if p)
    except ValueError:
        raise PortlintError(f"--input-shape {text!r}: expected integers like 1,3,224,224") from None
    if len(dims) not in (3, 4) or any(d <= 0 for d in dims):
        raise PortlintError(f"--input-shape {text!r}: expected 3 or 4 positive dimensions, e.g. 1,3,224,224")
    return dims if len(dims) == 4 else (1,) + dims


def selected(code: str, kind: str, options: CheckOptions) -> bool:
    from portlint.codes import selected as is_selected

    return is_selected(code, kind, options.select, options.ignore)


def _load(arg: str, report: CheckReport):
    from portlint.analysis.source import load_side
    from portlint.errors import SourceError
    from portlint.report import FileError

    try:
        side = load_side(arg)
    except SourceError as err:
        report.errors.append(FileError(err.path, err.detail))
        return None
    for err in side.errors:
        report.errors.append(FileError(err.path, err.detail))
    return side


def analyze_pair(pair: Pair, options: CheckOptions) -> CheckReport:
    """Load both sides, interpret them, run the rules. A side without a .py file, or sides given
    the wrong way round, are input errors; a side whose pipeline was not found is in `pairs`."""
    from portlint.analysis.analyze import interpret
    from portlint.analysis.context import pair_context
    from portlint.pipelines import check_not_swapped, pair_entry, side_pipelines
    from portlint.report import FileError
    from portlint.rules.run import PairFacts, run_rules

    report = CheckReport()
    original = _load(pair.original, report)
    ported = _load(pair.ported, report)
    for side in (original, ported):
        if side is not None:
            report.inputs.update(side.digests)
    if original is None or ported is None:
        return report
    empty = [arg for arg, side in ((pair.original, original), (pair.ported, ported)) if not side.files]
    if empty:
        for arg in empty:
            if not any(e.path == arg for e in report.errors):
                report.errors.append(FileError(arg, "no .py file to analyse"))
        report.input_error = True
        return report
    report.files = len(original.files) + len(ported.files)
    report.paths = [src.display for side in (original, ported) for src in side.files.values()]
    ctx = pair_context(pair, options)
    from portlint.analysis.runspec import resolve_run

    o_facts = _side_facts(pair.original, original, ctx, pair, lambda: interpret(
        original, ctx, runs=[resolve_run(cmd, original) for cmd in pair.original_runs]))
    p_facts = _side_facts(pair.ported, ported, ctx, pair, lambda: interpret(
        ported, ctx, runs=[resolve_run(cmd, ported, "ported") for cmd in pair.ported_runs]))
    report.inputs.update(_data_digests(o_facts, p_facts))
    report.notes.extend(o_facts.limits_hit + p_facts.limits_hit)
    o_pipes, p_pipes = side_pipelines(o_facts), side_pipelines(p_facts)
    swapped = check_not_swapped(pair.original, pair.ported, original, ported, o_pipes, p_pipes)
    entry = pair_entry(pair.original, pair.ported, o_pipes, p_pipes)
    report.pairs.append(entry)
    if swapped:
        entry["swapped"] = True
        report.errors.append(FileError(pair.original, swapped))
        report.input_error = True
        return report
    for name, side_arg, pipes in (("original", pair.original, o_pipes), ("ported", pair.ported, p_pipes)):
        if not pipes:
            report.notes.append(f"{side_arg}: no image pipeline reaching a model call was found in the {name} program; "
                                "pre-processing was not compared")
    report.findings = run_rules(PairFacts(o_facts, p_facts, ctx))
    return report


# One run's interpreted sides, by what the interpretation depends on: a side checked against
# several others (one original with its opencv and its bmcv port, a pyproject's list of pairs)
# is interpreted once. Facts are read-only to the rules; cleared by every run_check.
_FACTS: dict = {}


def _side_facts(arg: str, side, ctx, pair: Pair, compute):
    key = (arg, tuple(sorted(side.digests.items())), ctx.input_shape, str(pair.bmodel or ""), ctx.strict,
           tuple(pair.original_runs) if arg == pair.original else tuple(pair.ported_runs))
    found = _FACTS.get(key)
    if found is None or found.side.digests != side.digests:
        found = _FACTS[key] = compute()
    return found


def _data_digests(*facts) -> dict:
    """The configuration files the programs read as data (yaml, json): the cache checks their
    bytes are unchanged before it serves the result (cache.py)."""
    import hashlib

    return {path: hashlib.sha256(data).hexdigest() for f in facts for path, data in f.data_files.items()}


def analyze_one(pair: Pair, options: CheckOptions) -> CheckReport:
    """One pair's report. A bmodel that cannot be read is an error entry naming it, and the
    programs are still compared, without what the bmodel would have told (shapes, outputs)."""
    from portlint.errors import SourceError
    from portlint.report import FileError

    try:
        return analyze_pair(pair, options)
    except SourceError as err:
        if not pair.bmodel or err.path != str(pair.bmodel):
            raise
        report = analyze_pair(dataclasses.replace(pair, bmodel=None), options)
        report.errors.insert(0, FileError(err.path, err.detail))
        return report


def _forget_file_system() -> None:
    """Each run sees the files as they are now: drop what was remembered about the file system
    layout (folder listings, resolved imports) in an earlier run of this process (`fix` rounds,
    tests, editors). Parsed trees stay: they are keyed by content."""
    from portlint import local_files

    local_files.forget()


def import_engine() -> None:
    """The analyser and the rules, imported before the worker processes are forked, so they
    share them: importing them takes about 0.3 s (measured with their bytecode compiled), paid
    once instead of once per worker. Not called when the cache answers every pair: a warm check never
    imports libcst."""
    import portlint.analysis.analyze  # noqa: F401
    import portlint.analysis.context  # noqa: F401
    import portlint.analysis.runspec  # noqa: F401
    import portlint.analysis.source  # noqa: F401
    import portlint.pipelines  # noqa: F401
    import portlint.rules.run  # noqa: F401


def run_check(options: CheckOptions) -> CheckReport:
    from portlint.parallel import analyze_pairs
    from portlint.suppressions import apply_suppressions

    _forget_file_system()
    _FACTS.clear()
    report = CheckReport()
    bmodels = {str(p.bmodel) for p in options.pairs if p.bmodel}
    for result in analyze_pairs(options.pairs, options, options.jobs, analyze_one, import_engine):
        result.findings = [f for f in result.findings if selected(f.code, f.kind, options)]
        report.extend(result)
    _FACTS.clear()
    apply_suppressions(report, show_unused=options.show_unused_suppressions)
    # A bmodel the user named that cannot be read is an input error (exit 2, docs/contract.md) even
    # though every pair was still analysed and reported without it.
    report.input_error = report.input_error or any(e.path in bmodels for e in report.errors)
    return report
