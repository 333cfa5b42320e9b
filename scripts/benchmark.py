#!/usr/bin/env python3
"""Benchmark `portlint check` against libcst parsing the same files, in one run.

    python scripts/benchmark.py [--sophon-demo /work/sophon-demo] [--real-corpus WORK] [--jobs N] [--repeat 3] [--profile]

Builds a corpus in a temporary folder: every fixture pair of tests/fixtures (each file given a
unique trailing comment, so no two files of the corpus have the same content and the parser's
in-process content cache cannot make portlint look faster than parsing), the ResNet example, and
with --sophon-demo each `sample/*/python` folder of sophon-demo paired with the example's original
(read where it is, not copied), and with --real-corpus WORK the real corpus's pairs as
scripts/real_corpus.py rebuilt them there. The pairs, with their input shapes, go into the corpus's
pyproject.toml, so `portlint check` with no arguments checks them all.

Then, each measurement in a fresh process (best of --repeat; parse-only and cold --jobs 1 in
alternating rounds, the cold target judged on the median of the rounds' ratios, which a machine
whose speed drifts during the run affects least):

* parse-only: read and `libcst.parse_module` every file the pairs read (the files the cache key
  covers: both sides and the local modules they import) — the floor for any libcst-based tool;
* cold: `run_check` with an empty cache, --jobs 1 and --jobs N;
* warm: `run_check` again with the cache the cold run filled;
* portlint's modules are compiled to bytecode first, as an installed package has them;
* the headline: the same through the command line (`python -m portlint check --jobs 1`), what a
  user and a pre-commit hook wait for, wall clock with Python's start-up and every import,
  measured in the same alternating rounds as parse-only; and where its time goes beyond the
  in-process run: interpreter start-up, imports (of portlint, typer, libcst), the rest
  (reading the configuration, rendering, printing).

With `--fixit BIN` (Fixit 2.2.1 installed from PyPI, e.g. in its own venv), `BIN --rules
fixit_noop lint` (one rule that visits nothing, instead of Fixit's built-in rules) runs over the
ported sides of the pairs, for comparison (wall and CPU time), alternating round by round with a
cold parallel portlint run over both sides; the ratios are the medians of the rounds'.

Wall time on a shared machine counts other people's work too, so the CLI's CPU time against
parse-only's (each a whole process) is printed beside the wall-clock ratio.

In-process times exclude importing libcst/portlint for both sides of the ratio; the CLI figure
includes them. Targets: CLI cold <= 1.3x parse-only (judged on the median of the rounds' ratios),
warm <= 0.1x parse-only. Exit status 1 when a target is missed with --strict.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLE = ROOT / "examples" / "resnet"


# ----------------------------------------------------------------------------- the corpus

def _copy_unique(src: Path, dst: Path, tag: str) -> None:
    if src.is_dir():
        for p in sorted(src.rglob("*")):
            if p.is_file():
                _copy_unique(p, dst / p.relative_to(src), tag)
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    if src.suffix == ".py":
        data = data.rstrip(b"\n") + f"\n# portlint benchmark copy: {tag}\n".encode()
    dst.write_bytes(data)


def _shape(args: list) -> list | None:
    if "--input-shape" in args:
        return [int(x) for x in args[args.index("--input-shape") + 1].replace("x", ",").split(",")]
    return None


def _real_pairs(work: Path) -> list[dict]:
    """The real corpus's pairs as scripts/real_corpus.py rebuilt them under `work` (its --work),
    each with its family's arguments (tests/real_corpus/<family>.toml): input shape and the
    commands the original and the port are run with. Read where they are, not copied."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    pairs = []
    for toml in sorted((ROOT / "tests" / "real_corpus").glob("*.toml")):
        family = work / toml.stem
        if not ((family / "original").is_dir() and (family / "ported").is_dir()):
            continue
        args = tomllib.loads(toml.read_text()).get("args", [])
        runs = {"--original-run": [], "--ported-run": []}
        for flag, value in zip(args, args[1:]):
            if flag in runs:
                runs[flag].append(value)
        pairs.append({"original": str(family / "original"), "ported": str(family / "ported"),
                      "input-shape": _shape(args), "original-run": runs["--original-run"],
                      "ported-run": runs["--ported-run"]})
    if not pairs:
        raise SystemExit(f"--real-corpus {work}: no family rebuilt there (run scripts/real_corpus.py --work {work} first)")
    return pairs


def build_corpus(root: Path, sophon_demo: Path | None, only_sophon_demo: bool = False,
                 real_corpus: Path | None = None) -> list[dict]:
    pairs = []
    cases = [] if only_sophon_demo else sorted(e.parent for e in FIXTURES.glob("*/*/expected.json"))
    for case in cases:  # tests/fixtures/<CODE>/<case>/
        spec = json.loads((case / "expected.json").read_text())
        o, p = spec.get("original", "original.py"), spec.get("ported", "ported.py")
        rel = case.relative_to(FIXTURES).as_posix()
        dst = root / "fixtures" / rel
        _copy_unique(case / o, dst / o, f"{rel}/{o}")
        _copy_unique(case / p, dst / p, f"{rel}/{p}")
        pairs.append({"original": f"fixtures/{rel}/{o}", "ported": f"fixtures/{rel}/{p}",
                      "input-shape": _shape(spec.get("args", []))})
    for name in ("resnet_torch.py", "resnet_sail.py"):
        _copy_unique(EXAMPLE / name, root / "example" / name, f"example/{name}")
    if not only_sophon_demo:
        pairs.append({"original": "example/resnet_torch.py", "ported": "example/resnet_sail.py", "input-shape": None})
    if sophon_demo:
        for d in sorted(sophon_demo.glob("sample/*/python")):
            pairs.append({"original": "example/resnet_torch.py", "ported": str(d), "input-shape": None})
    if real_corpus:
        pairs.extend(_real_pairs(real_corpus))
    lines = ["[tool.portlint]", 'cache-dir = ".bench_cache"', "pairs = ["]
    for pr in pairs:
        extra = f", input-shape = {pr['input-shape']}" if pr["input-shape"] else ""
        for key in ("original-run", "ported-run"):
            if pr.get(key):
                extra += f", {key} = {json.dumps(pr[key])}"
        lines.append(f"  {{original = {json.dumps(pr['original'])}, ported = {json.dumps(pr['ported'])}{extra}}},")
    lines.append("]")
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return pairs


# ----------------------------------------------------------------------------- measurements (child)

def _files_read(corpus: Path) -> list[str]:
    from portlint import cache
    from portlint.config import load_config

    cfg = load_config(str(corpus / "pyproject.toml"), corpus)
    reader = cache._Reader()
    files = set()
    for p in cfg.pairs:
        for side in (p.original, p.ported):
            files.update(path for path, state in cache.side_files(side, reader) if not state.startswith(("large", "missing")))
    return sorted(files)


def _import_analyser() -> None:
    """Import every module `check` uses (the rule modules load lazily on first use), so the timed
    run measures checking, not Python importing code; the same as importing libcst up front."""
    import importlib
    import pkgutil

    import portlint.analysis
    import portlint.checker  # noqa: F401
    import portlint.report
    import portlint.rules

    for package in (portlint.analysis, portlint.rules, portlint.report):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)


def child(mode: str, corpus: Path, jobs: int, profile: bool) -> dict:
    os.chdir(corpus)
    if mode == "parse":
        import libcst

        files = _files_read(corpus)
        t0 = time.perf_counter()
        ok = 0
        for f in files:
            data = Path(f).read_bytes()
            try:
                libcst.parse_module(data.decode("utf-8"))
                ok += 1
            except Exception:
                pass
        return {"seconds": time.perf_counter() - t0, "files": len(files), "parsed": ok}
    _import_analyser()  # outside the timed part, as libcst's import is for parse-only
    from portlint.checker import CheckOptions, run_check
    from portlint.report.json_format import render

    options = CheckOptions.from_cli(config=str(corpus / "pyproject.toml"), jobs=jobs, no_cache=(mode == "nocache"))
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    report = run_check(options)
    seconds = time.perf_counter() - t0
    if prof:
        import io
        import pstats

        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_TOP", "40")))
        sys.stderr.write(out.getvalue())
    doc = json.loads(render(report))
    return {"seconds": seconds, "files": doc["summary"]["files"], "findings": doc["summary"]["findings"],
            "errors": doc["errors"], "digest": hash(json.dumps(doc, sort_keys=True))}


def _run_child(mode: str, corpus: Path, jobs: int, profile: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), PYTHONHASHSEED="0")
    before = os.times()
    r = subprocess.run([sys.executable, __file__, "--_child", mode, str(corpus), "--jobs", str(jobs)]
                       + (["--profile"] if profile else []), capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"benchmark child {mode} failed:\n{r.stderr}")
    if profile:
        sys.stderr.write(r.stderr)
    after = os.times()
    out = json.loads(r.stdout.strip().splitlines()[-1])
    # the whole process's CPU (start-up and imports too): on a shared machine, wall time also
    # counts other people's work, CPU time does not
    out["process_cpu"] = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return out


def _compile_package() -> None:
    """portlint's bytecode, as a user has it: pip compiles a wheel's modules at install, and
    Python writes them on the first run of an editable install, unless PYTHONDONTWRITEBYTECODE
    is set (it is on this kind of machine: each process would then compile ~90 modules, about
    0.2 s, measured). scripts/install.sh compiles them too; this makes the figures independent
    of how the checkout was installed."""
    import compileall

    compileall.compile_dir(str(ROOT / "src" / "portlint"), quiet=1)


def _startup() -> dict:
    """Interpreter start-up, and the imports a cold `check` does, each in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    code = ("import time; t = time.perf_counter(); import portlint.cli; t1 = time.perf_counter(); "
            "import portlint.analysis.analyze, portlint.rules.run, portlint.report.json_format, portlint.cache; "
            "t2 = time.perf_counter(); print(t1 - t, t2 - t1)")
    best = {"python": 1e9, "cli": 1e9, "engine": 1e9}
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        best["python"] = min(best["python"], time.perf_counter() - t0)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        cli, engine = map(float, out.split())
        best["cli"], best["engine"] = min(best["cli"], cli), min(best["engine"], engine)
    return best


def _fixit(bin_path: Path, corpus: Path, pairs: list[dict]) -> dict:
    """`fixit --rules fixit_noop lint` (one rule that visits nothing) over the ported files: wall
    and CPU seconds (children). `--rules` replaces fixit's built-in rules, which a config's
    `enable` would only add to."""
    rules = corpus / "fixit_noop"
    rules.mkdir(exist_ok=True)
    (rules / "__init__.py").write_text("from fixit import LintRule\n\n\nclass NoOp(LintRule):\n    pass\n")
    files = sorted({str((corpus / p["ported"]).resolve()) if not Path(p["ported"]).is_absolute() else p["ported"]
                    for p in pairs})
    before = os.times()
    t0 = time.perf_counter()
    r = subprocess.run([str(bin_path), "--rules", "fixit_noop", "lint", *files], cwd=corpus,
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(corpus)))
    wall = time.perf_counter() - t0
    after = os.times()
    last = ((r.stdout + r.stderr).strip().splitlines() or [""])[-1]  # fixit says its summary on stderr
    if r.returncode != 0 or "clean" not in last:
        raise SystemExit(f"fixit did not run its no-op rule cleanly ({r.returncode}): {last}\n{r.stderr[-1000:]}")
    return {"seconds": wall, "cpu": (after.children_user - before.children_user) + (after.children_system - before.children_system),
            "files": last}


def _cli(corpus: Path, jobs: int, no_cache: bool = False, cpu: list | None = None) -> float:
    """Wall seconds of one `portlint check` process; its CPU seconds (with its workers) are
    appended to `cpu` when given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    before = os.times()
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "portlint", "check", "--format", "json", "--jobs", str(jobs)]
                       + (["--no-cache"] if no_cache else []), cwd=corpus, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    after = os.times()
    if cpu is not None:
        cpu.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    if r.returncode not in (0, 1, 3):
        raise SystemExit(f"portlint check failed ({r.returncode}):\n{r.stderr}")
    return seconds


# ----------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--sophon-demo", type=Path, help="also pair every sample/*/python of this sophon-demo checkout")
    ap.add_argument("--jobs", type=int, default=0, help="parallel run's --jobs (default: cores)")
    ap.add_argument("--repeat", type=int, default=3, help="measurements per figure (the best is kept)")
    ap.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one cold --jobs 1 run")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--only-sophon-demo", action="store_true", help="the sophon-demo sample folders alone (no fixtures)")
    ap.add_argument("--real-corpus", type=Path, metavar="WORK", help="also the real corpus's pairs, as scripts/real_corpus.py "
                    "--work WORK rebuilt them (with each family's input shape and run commands)")
    ap.add_argument("--fixit", type=Path, help="a fixit 2.2.1 executable: also time `fixit lint` with a no-op rule")
    ap.add_argument("--_child", nargs=2, metavar=("MODE", "CORPUS"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._child:
        mode, corpus = args._child
        print(json.dumps(child(mode, Path(corpus), args.jobs or 1, args.profile)))
        # as the CLI does (cli.run): without it, freeing the trees at exit (seconds) would count in
        # this process's CPU time, which is compared with the CLI's
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    from portlint.parallel import default_jobs

    jobs = args.jobs or default_jobs()
    tmp = None
    if args.keep:
        corpus = args.keep
        shutil.rmtree(corpus, ignore_errors=True)
        corpus.mkdir(parents=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="portlint-bench-")
        corpus = Path(tmp.name)
    try:
        pairs = build_corpus(corpus, args.sophon_demo, args.only_sophon_demo, args.real_corpus)
        _compile_package()
        cache = corpus / ".bench_cache"

        def best(fn, n=args.repeat):
            runs = [fn() for _ in range(max(1, n))]
            return min(runs, key=lambda r: r["seconds"] if isinstance(r, dict) else r)

        def cold(j):
            def run():
                shutil.rmtree(cache, ignore_errors=True)
                return _run_child("cold", corpus, j)
            return run

        # parse-only and cold --jobs 1 are measured in alternating rounds (the order flipped every
        # round), so a machine whose speed drifts (shared or virtual CPUs) slows both alike; each
        # round's cold/parse ratio is kept and the target is judged on their median.
        parses, colds, clis = [], [], []
        for i in range(max(1, args.repeat)):
            def cli_run():
                shutil.rmtree(cache, ignore_errors=True)
                cpu: list = []
                return {"seconds": _cli(corpus, 1, cpu=cpu), "process_cpu": cpu[0]}
            pair = [lambda: _run_child("parse", corpus, 1), cold(1), cli_run]
            order = pair if i % 2 == 0 else pair[::-1]
            got = {id(fn): fn() for fn in order}
            parses.append(got[id(pair[0])])
            colds.append(got[id(pair[1])])
            clis.append(got[id(pair[2])])

        def median(values):
            values = sorted(values)
            n = len(values)
            return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2

        ratios = sorted(c["seconds"] / q["seconds"] for c, q in zip(colds, parses))
        cli_ratios = sorted(c["seconds"] / q["seconds"] for c, q in zip(clis, parses))
        cpu_ratios = sorted(c["process_cpu"] / q["process_cpu"] for c, q in zip(clis, parses))
        median_ratio, cli_median = median(ratios), median(cli_ratios)
        parse = min(parses, key=lambda r: r["seconds"])
        cold1 = min(colds, key=lambda r: r["seconds"])
        cli_cold = min(r["seconds"] for r in clis)
        coldn = best(cold(jobs))
        warm1 = best(lambda: _run_child("warm", corpus, 1))
        warmn = best(lambda: _run_child("warm", corpus, jobs))
        nocache = _run_child("nocache", corpus, 1)
        digests = {cold1["digest"], coldn["digest"], warm1["digest"], warmn["digest"], nocache["digest"]}
        if args.profile:
            shutil.rmtree(cache, ignore_errors=True)
            _run_child("cold", corpus, 1, profile=True)

        shutil.rmtree(cache, ignore_errors=True)
        _cli(corpus, 1)
        cli_warm = min(_cli(corpus, 1) for _ in range(max(1, args.repeat)))
        shutil.rmtree(cache, ignore_errors=True)
        cpu_n: list = []
        cli_cold_n = _cli(corpus, jobs, cpu=cpu_n)
        start = _startup()
        # Fixit and portlint -jN alternate, round by round (order flipped every round), and each
        # round's ratio is kept: the comparison is the median of those, as for parse-only
        fixit_rounds: list = []
        for i in range(max(1, args.repeat) if args.fixit else 0):
            def portlint_run():
                shutil.rmtree(cache, ignore_errors=True)
                cpu: list = []
                return {"seconds": _cli(corpus, jobs, cpu=cpu), "cpu": cpu[0]}
            order = [lambda: _fixit(args.fixit, corpus, pairs), portlint_run]
            got = [fn() for fn in (order if i % 2 == 0 else order[::-1])]
            fixit_rounds.append((got[0], got[1]) if i % 2 == 0 else (got[1], got[0]))

        p = parse["seconds"]
        print(f"corpus: {len(pairs)} pairs, {parse['files']} distinct files read "
              f"({parse['parsed']} parse), {cold1['files']} files analysed, {cold1['findings']} findings, "
              f"{len(cold1['errors'])} file errors")
        print(f"same report cold/warm/parallel/uncached: {'yes' if len(digests) == 1 else 'NO'}")
        print(f"HEADLINE  portlint check (CLI) cold --jobs 1: {cli_cold:.3f} s = {cli_cold / p:.2f}x libcst parse-only "
              f"({p:.3f} s); median of rounds {cli_median:.2f}x")
        print(f"{'':26}{'seconds':>9}{'x parse-only':>14}")
        print(f"{'libcst parse-only':26}{p:9.3f}{1.0:14.2f}")
        for label, r in ((f"CLI cold --jobs 1", {"seconds": cli_cold}), (f"CLI cold --jobs {jobs}", {"seconds": cli_cold_n}),
                         (f"CLI warm --jobs 1", {"seconds": cli_warm}),
                         (f"in-process cold --jobs 1", cold1), (f"in-process cold --jobs {jobs}", coldn),
                         (f"in-process warm --jobs 1", warm1), (f"in-process warm --jobs {jobs}", warmn)):
            print(f"{label:26}{r['seconds']:9.3f}{r['seconds'] / p:14.2f}")
        # the CLI's extra time, per round (the CLI and the in-process run of one round are measured
        # back to back; the best of each would come from different moments of a drifting machine)
        extra = [c["seconds"] - q["seconds"] for c, q in zip(clis, colds)]
        extra_cpu = [c["process_cpu"] - q["process_cpu"] for c, q in zip(clis, colds)]
        rest = median(extra) - start["python"] - start["cli"] - start["engine"]
        print(f"CLI cold -j1 beyond the in-process run, median of the rounds: {median(extra):.3f} s wall "
              f"(rounds {', '.join(f'{e:+.2f}' for e in extra)}), {median(extra_cpu):+.3f} s CPU of the whole "
              f"process (rounds {', '.join(f'{e:+.2f}' for e in extra_cpu)}): interpreter start-up {start['python']:.3f} s, "
              f"importing portlint.cli (typer) {start['cli']:.3f} s, importing the engine (libcst, rules) "
              f"{start['engine']:.3f} s, the rest (configuration, cache, rendering, printing, noise) {rest:.3f} s")
        print(f"CPU time of the whole process (start-up, imports, reading the configuration included): CLI cold "
              f"--jobs 1 / parse-only per round: {', '.join(f'{r:.2f}' for r in cpu_ratios)} "
              f"(median {median(cpu_ratios):.2f}; CLI {min(r['process_cpu'] for r in clis):.3f} s, parse-only "
              f"{min(r['process_cpu'] for r in parses):.3f} s)")
        print(f"CLI cold --jobs 1 / parse-only per round: {', '.join(f'{r:.2f}' for r in cli_ratios)} "
              f"(median {cli_median:.2f}); in-process: {', '.join(f'{r:.2f}' for r in ratios)} (median {median_ratio:.2f})")
        if fixit_rounds:
            walls = [f["seconds"] / q["seconds"] for f, q in fixit_rounds]
            cpus = [f["cpu"] / q["cpu"] for f, q in fixit_rounds]
            print(f"fixit 2.2.1, one no-op rule, the ported sides ({fixit_rounds[0][0]['files']}), against portlint CLI "
                  f"cold -j{jobs} (both sides), alternating rounds: "
                  + "; ".join(f"{f['seconds']:.1f} s / {q['seconds']:.1f} s wall, {f['cpu']:.1f} s / {q['cpu']:.1f} s CPU"
                              for f, q in fixit_rounds)
                  + f": portlint {median(walls):.1f}x faster in wall time (rounds {', '.join(f'{r:.1f}' for r in walls)}), "
                  f"{median(cpus):.1f}x less CPU (rounds {', '.join(f'{r:.1f}' for r in cpus)}), medians of rounds")
        ok_cold = cli_median <= 1.3
        ok_warm = warm1["seconds"] <= 0.1 * p
        print(f"targets: CLI cold <= 1.3x: {'met' if ok_cold else 'MISSED'} (median of rounds {cli_median:.2f}x); "
              f"warm <= 0.1x: {'met' if ok_warm else 'MISSED'} ({warm1['seconds'] / p:.3f}x)")
        if len(digests) != 1:
            print("ERROR: reports differ between runs", file=sys.stderr)
            return 1
        return 0 if (ok_cold and ok_warm) or not args.strict else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
