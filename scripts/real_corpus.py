#!/usr/bin/env python3
"""The real corpus: upstream PyTorch programs paired with their sophon-demo ports, rebuilt from
local git mirrors and checked with portlint, scored against hand-written labels.

    .venv/bin/python scripts/real_corpus.py                 # rebuild, check, score every pair
    .venv/bin/python scripts/real_corpus.py YOLOv9_det -v   # one family, every finding and miss
    .venv/bin/python scripts/real_corpus.py --markdown      # the README's table

Nothing of the upstream code is committed here. `tests/real_corpus/pairs.json` names each pair
(repository, commit, paths); each side is rebuilt verbatim from a mirror made with the search
tool's `fetch` (`$PORTLINT_MIRRORS`, default /work/.mirror, one `<owner>+<name>/repo` git dir
per repository) into `.real_corpus/` (ignored by git), and every file is checked against the
blob hash git recorded for it. The original side is the listed paths plus, transitively, the
local modules they import and the config files they inherit (`_base_`), as a user pointing
portlint at the upstream checkout would have them; the ported side is the listed sophon-demo
paths under `sample/<family>/`.

Labels (`tests/real_corpus/<family>.toml`, written by us, see tests/real_corpus/README.md) say
where the real mismatches are and which look-alike aligned places must stay quiet (traps).
A real label is found when a finding of its kind has its primary (`ported`) location at one of
the label's places; a trap is flagged when such a finding hits it.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "real_corpus"
PAIRS = CORPUS / "pairs.json"
WORK = ROOT / ".real_corpus"
MIRRORS = Path(os.environ.get("PORTLINT_MIRRORS", "/work/.mirror"))
# Repositories read through another mirror that carries their history (pairs.json says why).
MIRROR_OF = {"ultralytics/ultralytics": "THU-MIG/yolov10"}
MAX_CLOSURE = 400  # files of the original side's import closure
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".ipynb", ".py", ".toml")  # .toml: a listed pyproject (console scripts)


class CorpusError(Exception):
    pass


# ------------------------------------------------------------------ git mirrors

def git_dir(repo: str, mirrors: Path = MIRRORS) -> Path:
    name = MIRROR_OF.get(repo, repo).replace("/", "+")
    for candidate in (mirrors / name / "repo" / ".git", mirrors / name / "repo", mirrors / name):
        if (candidate / "objects").is_dir() and (candidate / "HEAD").is_file():
            return candidate
    raise CorpusError(f"no mirror of {repo} under {mirrors} (fetch github:{MIRROR_OF.get(repo, repo)})")


def _git(gd: Path, *args: str, binary: bool = False):
    out = subprocess.run(["git", "--git-dir", str(gd), *args], capture_output=True, check=False)
    if out.returncode:
        raise CorpusError(f"git {' '.join(args)}: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout if binary else out.stdout.decode()


def tree_of(gd: Path, commit: str) -> dict[str, str]:
    """path -> blob id of every file of the commit."""
    out = {}
    for line in _git(gd, "ls-tree", "-r", "--full-tree", commit).splitlines():
        meta, _, path = line.partition("\t")
        mode, kind, oid = meta.split()
        if kind == "blob" and mode != "120000":
            out[path] = oid
    return out


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# ------------------------------------------------------------------ which files a side holds

def _parse(data: bytes) -> ast.Module:
    """Upstream code as a tree; its own warnings (invalid escapes) are not ours to print."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(data)


def _imports(path: str, data: bytes) -> list[tuple[int, str, list[str]]]:
    """(level, module, names) of every import in a Python file; never executes anything."""
    try:
        tree = _parse(data)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((0, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", [a.name for a in node.names]))
    return out


def _config_bases(path: str, data: bytes) -> list[str]:
    """`_base_ = '../x.py'` / `_base_ = [...]` of mmcv-style configs, as repository paths."""
    try:
        tree = _parse(data)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_base_" for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            for v in values:
                if isinstance(v, ast.Constant) and isinstance(v.value, str):
                    out.append(posixpath.normpath(posixpath.join(posixpath.dirname(path), v.value)))
    return out


def _resolve(tree: dict, importer: str, level: int, module: str, roots: list[str]) -> list[str]:
    parts = [p for p in module.split(".") if p]
    folder = posixpath.dirname(importer)
    if level:
        for _ in range(level - 1):
            folder = posixpath.dirname(folder)
        bases = [folder]
    else:
        bases = [folder, *roots]
    for base in bases:
        stem = posixpath.join(base, *parts) if parts else base
        stem = stem.lstrip("/") if stem != "/" else ""
        for cand in (stem + ".py", posixpath.join(stem, "__init__.py")):
            cand = posixpath.normpath(cand).lstrip("./") if cand.startswith("./") else posixpath.normpath(cand)
            if cand in tree:
                return [cand]
    return []


def _ancestors(folder: str) -> list[str]:
    out = []
    while folder:
        out.append(folder)
        folder = posixpath.dirname(folder)
    return out


def closure(tree: dict, read, start: list[str], limit: int = MAX_CLOSURE) -> list[str]:
    """The listed files and, transitively, the local modules and config bases they need."""
    # absolute imports resolve from the folders of the listed files and their parents (an
    # OpenMMLab project in a subfolder, detection/scrfd, imports its installed package mmdet
    # from detection/scrfd/tools/test_widerface.py)
    roots = sorted({""} | {d for p in start for d in _ancestors(posixpath.dirname(p))})
    todo, seen = list(start), []
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen or path not in tree:
            continue
        seen.append(path)
        if not path.endswith(".py"):
            continue
        data = read(path)
        found = _config_bases(path, data)
        for level, module, names in _imports(path, data):
            hits = _resolve(tree, path, level, module, roots)
            found += hits
            for name in names:  # `from pkg import submodule`
                found += _resolve(tree, path, level, f"{module}.{name}" if module else name, roots)
        todo.extend(p for p in found if p not in seen)
    return seen


# ------------------------------------------------------------------ rebuilding a pair

@dataclass
class Pair:
    family: str
    spec: dict
    root: Path
    original: Path
    ported: Path
    original_files: list = field(default_factory=list)
    ported_files: list = field(default_factory=list)


def _slug(family: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", family).strip("_")


def has_blob(gd: Path, oid: str) -> bool:
    """Snapshots leave out files of 4 MiB and more (the search tool's README): such a blob is absent."""
    return subprocess.run(["git", "--git-dir", str(gd), "cat-file", "-e", oid], capture_output=True).returncode == 0


def _write_verbatim(gd: Path, tree: dict, repo_path: str, dest: Path) -> None:
    oid = tree[repo_path]
    if dest.is_file():
        data = dest.read_bytes()
        if blob_id(data) == oid:
            return
    data = _git(gd, "cat-file", "blob", oid, binary=True)
    if blob_id(data) != oid:
        raise CorpusError(f"{repo_path}: the mirror's blob does not hash to {oid}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def rebuild(spec: dict, work: Path = WORK, mirrors: Path = MIRRORS) -> Pair:
    family = spec["family"]
    root = work / _slug(family)
    o_gd, p_gd = git_dir(spec["upstream_repo"], mirrors), git_dir(spec["port_repo"], mirrors)
    o_tree, p_tree = tree_of(o_gd, spec["upstream_commit"]), tree_of(p_gd, spec["port_commit"])
    listed = [p for p in spec["original_paths"] if p in o_tree and has_blob(o_gd, o_tree[p])]
    cache: dict = {}

    def read(path):
        if path not in cache:
            cache[path] = _git(o_gd, "cat-file", "blob", o_tree[path], binary=True)
        return cache[path]

    o_files = [p for p in closure(o_tree, read, listed) if p.endswith(DATA_SUFFIXES) and has_blob(o_gd, o_tree[p])]
    # the data files the programs read (yaml configs) next to the listed ones
    pair = Pair(family, spec, root, root / "original", root / "ported")
    wanted_o = set(o_files)
    wanted_p = set()
    prefix = _port_prefix(spec["ported_paths"])
    for p in spec["ported_paths"]:
        if p not in p_tree or not has_blob(p_gd, p_tree[p]):
            raise CorpusError(f"{family}: {p} is not in {spec['port_repo']}@{spec['port_commit'][:12]}")
        wanted_p.add(p)
    for side_dir, wanted, gd, tree, strip in ((pair.original, wanted_o, o_gd, o_tree, ""),
                                             (pair.ported, wanted_p, p_gd, p_tree, prefix)):
        side_dir.mkdir(parents=True, exist_ok=True)
        for existing in [f for f in side_dir.rglob("*") if f.is_file()]:
            rel = existing.relative_to(side_dir).as_posix()
            if strip + rel not in wanted:
                existing.unlink()  # a file of an earlier corpus version
        for repo_path in sorted(wanted):
            _write_verbatim(gd, tree, repo_path, side_dir / repo_path[len(strip):])
    pair.original_files = sorted(wanted_o)
    pair.ported_files = sorted(p[len(prefix):] for p in wanted_p)
    return pair


def _port_prefix(paths: list[str]) -> str:
    """`sample/YOLOv9_det/`: the sample folder holding the port's python/ and tools/, so that
    label places always read `python/...` or `tools/...`."""
    parts = [p.split("/") for p in paths]
    common = os.path.commonprefix(parts)[:2]
    return "/".join(common) + "/" if common else ""


# ------------------------------------------------------------------ labels and scoring

KINDS = ("decode", "channel-order", "resize-antialias", "resize-interpolation", "resize-size", "crop",
         "padding", "normalize", "layout", "dtype", "output-order", "nms", "coco-rounding", "dynamic-shape",
         "trace", "other")
PLACE = re.compile(r"^[^:]+:\d+(-\d+)?$")


@dataclass
class Label:
    id: str
    kind: str
    verdict: str  # real | aligned
    places: list
    why: str
    original: list = field(default_factory=list)
    checked: str = ""
    stage: str = "pre"  # pre | post: which issue's recall it counts for

    def hits(self, finding: dict) -> bool:
        loc = finding.get("ported") or {}
        path, line = _rel(loc.get("path", "")), loc.get("line")
        if finding.get("kind") != self.kind or line is None:
            return False
        for place in self.places:
            p, _, lines = place.rpartition(":")
            lo, _, hi = lines.partition("-")
            if path == p and int(lo) <= line <= int(hi or lo):
                return True
        return False


def _rel(path: str) -> str:
    marker = "/ported/"
    i = path.find(marker)
    return path[i + len(marker):] if i >= 0 else path


def load_labels(family: str, corpus: Path = CORPUS) -> tuple[dict, list[Label]]:
    path = corpus / f"{_slug(family)}.toml"
    if not path.is_file():
        return {}, []
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    labels = [Label(**{k: v for k, v in item.items()}) for item in doc.get("label", [])]
    return doc, labels


def validate_labels(doc: dict, labels: list[Label], family: str) -> list[str]:
    problems = []
    ids = set()
    if doc.get("family") not in (None, family):
        problems.append(f"family {doc.get('family')!r} in the file of {family!r}")
    for lab in labels:
        where = f"{family}:{lab.id}"
        if lab.id in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(lab.id)
        if lab.kind not in KINDS:
            problems.append(f"{where}: unknown kind {lab.kind!r}")
        if lab.verdict not in ("real", "aligned"):
            problems.append(f"{where}: verdict must be real or aligned, not {lab.verdict!r}")
        if lab.stage not in ("pre", "post"):
            problems.append(f"{where}: stage must be pre or post")
        if not lab.places or not all(isinstance(p, str) and PLACE.match(p) for p in lab.places):
            problems.append(f"{where}: places must be 'path:line' or 'path:line-line'")
        if len(lab.why.strip()) < 20:
            problems.append(f"{where}: say why (at least a sentence)")
        if not lab.checked.strip():
            problems.append(f"{where}: say how it was checked")
    return problems


@dataclass
class Score:
    family: str
    traced: dict
    findings: list
    found: list
    missed: list
    flagged: list
    quiet: list
    unlabelled: list
    errors: list
    notes: list
    seconds: float


def check_pair(pair: Pair, args: list[str], portlint: list[str]) -> dict:
    cmd = [*portlint, "check", str(pair.original), str(pair.ported), "--format", "json", "--no-cache", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1, 3):  # 3: a side's pipeline was not found (still a report)
        raise CorpusError(f"{pair.family}: portlint exited {out.returncode}: {out.stderr.strip()[:500]}")
    doc = json.loads(out.stdout)
    doc["_stderr"] = out.stderr
    return doc


def traced(doc: dict) -> dict:
    """Per side: whether a pipeline from a decode to a model call was found."""
    out = {}
    pairs = doc.get("pairs") or []
    for side in ("original", "ported"):
        if pairs:
            items = [p for pair in pairs for p in (pair.get("pipelines") or {}).get(side, [])]
            out[side] = any(p.get("decode") and p.get("model") for p in items)
        else:
            out[side] = not any(f"in the {side} program" in n for n in doc.get("notes", []) + [doc.get("_stderr", "")])
    return out


def score(pair: Pair, labels: list[Label], doc: dict, seconds: float) -> Score:
    findings = doc.get("findings", [])
    found, missed, flagged, quiet = [], [], [], []
    used = set()
    for lab in labels:
        hits = [i for i, f in enumerate(findings) if lab.hits(f)]
        used.update(hits)
        if lab.verdict == "real":
            (found if hits else missed).append((lab, hits))
        else:
            (flagged if hits else quiet).append((lab, hits))
    unlabelled = [f for i, f in enumerate(findings) if i not in used]
    return Score(pair.family, traced(doc), findings, found, missed, flagged, quiet, unlabelled,
                 doc.get("errors", []), doc.get("notes", []), seconds)


def ratio(a: int, b: int) -> str:
    return f"{a}/{b}" if b else "-"


def summarise(scores: list[Score], stage: Optional[str] = None) -> dict:
    def count(items):
        return sum(1 for lab, _ in items if stage is None or lab.stage == stage)
    found = sum(count(s.found) for s in scores)
    missed = sum(count(s.missed) for s in scores)
    flagged = sum(count(s.flagged) for s in scores)
    quiet = sum(count(s.quiet) for s in scores)
    return {"real": found + missed, "found": found, "traps": flagged + quiet, "flagged": flagged,
            "recall": found / (found + missed) if found + missed else None,
            "trap_rate": flagged / (flagged + quiet) if flagged + quiet else None}


def _fmt_loc(loc: Optional[dict]) -> str:
    return f"{_rel(loc['path'])}:{loc['line']}" if loc else "-"


def print_verbose(s: Score, stage: Optional[str] = None) -> None:
    def keep(items):
        return [(lab, hits) for lab, hits in items if stage is None or lab.stage == stage]
    s = Score(s.family, s.traced, s.findings, keep(s.found), keep(s.missed), keep(s.flagged), keep(s.quiet),
              s.unlabelled, s.errors, s.notes, s.seconds)
    print(f"\n== {s.family}: traced original={s.traced.get('original')} ported={s.traced.get('ported')}  ({s.seconds:.1f} s)")
    for lab, hits in s.found:
        print(f"  found    {lab.id} [{lab.kind}] {', '.join(lab.places)}")
    for lab, _ in s.missed:
        print(f"  MISSED   {lab.id} [{lab.kind}] {', '.join(lab.places)}: {lab.why.strip()[:160]}")
    for lab, hits in s.flagged:
        print(f"  FLAGGED  trap {lab.id} [{lab.kind}] {', '.join(lab.places)}: " +
              "; ".join(s.findings[i]["message"][:120] for i in hits))
    for lab, _ in s.quiet:
        print(f"  quiet    trap {lab.id} [{lab.kind}] {', '.join(lab.places)}")
    for f in s.unlabelled:
        print(f"  unlabelled {f['code']} [{f['kind']}] {_fmt_loc(f.get('ported'))} (orig {_fmt_loc(f.get('original'))}): {f['message'][:200]}")
    for e in s.errors:
        print(f"  error    {e['path']}: {e['message']}")
    for n in s.notes:
        print(f"  note     {n[:200]}")


def markdown(scores: list[Score]) -> str:
    rows = ["| family | original traced | port traced | real found | traps flagged | other findings |",
            "|---|---|---|---|---|---|"]
    for s in scores:
        rows.append(f"| {s.family} | {'yes' if s.traced.get('original') else 'no'} | {'yes' if s.traced.get('ported') else 'no'} | "
                    f"{ratio(len(s.found), len(s.found) + len(s.missed))} | {ratio(len(s.flagged), len(s.flagged) + len(s.quiet))} | "
                    f"{len(s.unlabelled)} |")
    total = summarise(scores)
    rows.append(f"| **all** | {sum(1 for s in scores if s.traced.get('original'))}/{len(scores)} | "
                f"{sum(1 for s in scores if s.traced.get('ported'))}/{len(scores)} | {ratio(total['found'], total['real'])} | "
                f"{ratio(total['flagged'], total['traps'])} | {sum(len(s.unlabelled) for s in scores)} |")
    return "\n".join(rows)


def run(families: Optional[list[str]] = None, work: Path = WORK, mirrors: Path = MIRRORS,
        portlint: Optional[list[str]] = None, verbose: bool = False, stage: Optional[str] = None) -> list[Score]:
    specs = json.loads(PAIRS.read_text(encoding="utf-8"))
    if families:
        wanted = {f.lower() for f in families}
        specs = [s for s in specs if s["family"].lower() in wanted or _slug(s["family"]).lower() in wanted]
        if not specs:
            raise CorpusError(f"no family named {', '.join(families)} in {PAIRS}")
    portlint = portlint or [sys.executable, "-m", "portlint"]
    scores = []
    for spec in specs:
        pair = rebuild(spec, work, mirrors)
        doc, labels = load_labels(spec["family"])
        t0 = time.monotonic()
        result = check_pair(pair, list(doc.get("args", [])), portlint)
        s = score(pair, labels, result, time.monotonic() - t0)
        scores.append(s)
        if verbose:
            print_verbose(s, stage)
    return scores


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("families", nargs="*", help="families to run (default: all)")
    ap.add_argument("-v", "--verbose", action="store_true", help="every finding, miss and trap")
    ap.add_argument("--markdown", action="store_true", help="print the README table")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    ap.add_argument("--mirrors", type=Path, default=MIRRORS)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--rebuild-only", action="store_true", help="rebuild the pairs and print where they are")
    ap.add_argument("--stage", choices=("pre", "post"), help="with -v: only the labels of this stage")
    a = ap.parse_args(argv)
    env_src = str(ROOT / "src")
    os.environ["PYTHONPATH"] = env_src + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    try:
        if a.rebuild_only:
            specs = json.loads(PAIRS.read_text(encoding="utf-8"))
            for spec in specs:
                if a.families and spec["family"] not in a.families and _slug(spec["family"]) not in a.families:
                    continue
                pair = rebuild(spec, a.work, a.mirrors)
                print(f"{pair.family}: {pair.original} ({len(pair.original_files)} files)  {pair.ported} ({len(pair.ported_files)} files)")
            return 0
        scores = run(a.families, a.work, a.mirrors, verbose=a.verbose, stage=a.stage)
    except CorpusError as exc:
        print(f"real_corpus: error: {exc}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps({"pairs": [{"family": s.family, "traced": s.traced, "found": [l.id for l, _ in s.found],
                                     "missed": [l.id for l, _ in s.missed], "flagged": [l.id for l, _ in s.flagged],
                                     "unlabelled": len(s.unlabelled)} for s in scores],
                          "all": summarise(scores), "pre": summarise(scores, "pre"), "post": summarise(scores, "post")}, indent=1))
    elif a.markdown:
        print(markdown(scores))
    else:
        if not a.verbose:
            for s in scores:
                print(f"{s.family:24} traced o={'y' if s.traced.get('original') else 'N'} p={'y' if s.traced.get('ported') else 'N'} "
                      f"real {ratio(len(s.found), len(s.found) + len(s.missed)):>6} traps {ratio(len(s.flagged), len(s.flagged) + len(s.quiet)):>6} "
                      f"other {len(s.unlabelled):3} {s.seconds:5.1f}s")
        for stage in (None, "pre", "post"):
            t = summarise(scores, stage)
            rec = f"{t['recall']:.0%}" if t["recall"] is not None else "-"
            trap = f"{t['trap_rate']:.0%}" if t["trap_rate"] is not None else "-"
            print(f"{stage or 'all':4}: recall {ratio(t['found'], t['real'])} ({rec}), traps flagged {ratio(t['flagged'], t['traps'])} ({trap})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
