"""The content-hash cache (.portlint_cache): never changes a result, is invalidated by every
input a result depends on, survives corrupt entries and concurrent runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_support import FIXTURES, cases, run_cli, spec

from portlint import cache as cache_mod
from portlint.checker import CheckOptions, Pair

ROOT = Path(__file__).resolve().parents[1]
SOPHON_DEMO = Path(os.environ.get("SOPHON_DEMO", "/work/sophon-demo"))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working folder whose pyproject puts the cache in ./cache."""
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\ncache-dir = "cache"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _entries(root: Path) -> list[Path]:
    return sorted((root / f"v{cache_mod.FORMAT}").glob("*.json"))


def _case_args(case: Path) -> list[str]:
    s = spec(case)
    return [str(case / s.get("original", "original.py")), str(case / s.get("ported", "ported.py")), *s.get("args", [])]


def _no_analysis(*args, **kwargs):
    raise AssertionError("analysed although the cache holds the pair")


# ----------------------------------------------------------------------------- never changes a result

def test_cold_and_warm_equal_on_every_fixture(project, capsys, monkeypatch):
    all_cases = cases()
    assert all_cases, "no fixture cases"
    for fmt in ("json", "text"):
        shutil.rmtree(project / "cache", ignore_errors=True)
        runs = {c: ["check", *_case_args(c), "--format", fmt, "--no-color"] for c in all_cases}
        uncached = {c: run_cli([*args, "--no-cache"], capsys) for c, args in runs.items()}
        for case, args in runs.items():
            assert run_cli(args, capsys) == uncached[case], case.name  # cold
        assert len(_entries(project / "cache")) == len(all_cases)
        with monkeypatch.context() as m:  # warm: every pair comes from the cache
            m.setattr("portlint.checker.analyze_one", _no_analysis)
            for case, args in runs.items():
                assert run_cli(args, capsys) == uncached[case], case.name


def test_all_fixtures_at_once_cold_warm_and_uncached_agree(project, capsys, monkeypatch):
    args = ["check", "--all", str(FIXTURES), "--format", "json", "--jobs", "1"]
    uncached = run_cli([*args, "--no-cache"], capsys)
    cold = run_cli(args, capsys)
    monkeypatch.setattr("portlint.checker.analyze_one", _no_analysis)
    warm = run_cli(args, capsys)
    assert uncached == cold == warm
    assert json.loads(warm[1])["summary"]["files"] > 0


def test_report_round_trips_through_json_with_fixes(capsys):
    from portlint.checker import analyze_one

    case = next(c for c in cases() if (c / "fixed.py").is_file())
    s = spec(case)
    opts = CheckOptions.from_cli(str(case / s.get("original", "original.py")), str(case / s.get("ported", "ported.py")),
                                 no_cache=True)
    report = analyze_one(opts.pairs[0], opts)
    assert any(f.fix and f.fix.edits for f in report.findings), "expected a finding with fix edits"
    doc = json.loads(json.dumps(cache_mod.encode_report(report)))
    assert cache_mod.decode_report(doc) == report


# ----------------------------------------------------------------------------- invalidation

ORIGINAL = '''\
import torch
from PIL import Image
from torchvision import transforms

t = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
model = torch.jit.load("m.pt")
print(model(t(Image.open("a.jpg").convert("RGB")).unsqueeze(0)))
'''

PORTED = '''\
import cv2
import numpy as np
import sophon.sail as sail
from consts import MEAN, STD

img = cv2.imread("a.jpg")
img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
img = cv2.resize(img, (224, 224), interpolation=cv2.INTER_AREA)
img = (img.astype(np.float32) / 255.0 - MEAN) / STD
img = np.expand_dims(img.transpose(2, 0, 1), 0)
engine = sail.Engine("m.bmodel", 0, sail.IOMode.SYSIO)
print(engine.process(engine.get_graph_names()[0], {"input": img}))
'''

GOOD = "import numpy as np\nMEAN = np.array([0.485, 0.456, 0.406])\nSTD = np.array([0.229, 0.224, 0.225])\n"
BAD = "import numpy as np\nMEAN = np.array([0.5, 0.5, 0.5])\nSTD = np.array([0.5, 0.5, 0.5])\n"


def _write_pair(root: Path) -> tuple[str, str]:
    (root / "orig").mkdir()
    (root / "port" / "app").mkdir(parents=True)
    (root / "orig" / "classify.py").write_text(ORIGINAL)
    (root / "port" / "app" / "classify.py").write_text(PORTED)
    (root / "port" / "app" / "consts").mkdir()
    (root / "port" / "app" / "consts" / "__init__.py").write_text(GOOD)  # a package beside the program
    return "orig/classify.py", "port/app/classify.py"


def _check(capsys, *args):
    code, out, err = run_cli(["check", *args, "--format", "json", "--input-shape", "1,3,224,224"], capsys)
    return code, json.loads(out)


def _same_as_uncached(capsys, o, p):
    cached = _check(capsys, o, p)
    assert cached == _check(capsys, o, p, "--no-cache")
    return cached


def test_editing_an_imported_module_invalidates(project, capsys):
    o, p = _write_pair(project)
    clean = _same_as_uncached(capsys, o, p)
    assert not [f for f in clean[1]["findings"] if f["kind"] == "normalize"]
    (project / "port" / "app" / "consts" / "__init__.py").write_text(BAD)
    changed = _same_as_uncached(capsys, o, p)
    assert [f for f in changed[1]["findings"] if f["kind"] == "normalize"], changed
    (project / "port" / "app" / "consts" / "__init__.py").write_text(GOOD)
    assert _same_as_uncached(capsys, o, p) == clean


def test_a_new_module_that_shadows_an_import_invalidates(project, capsys):
    o, p = _write_pair(project)
    clean = _same_as_uncached(capsys, o, p)
    (project / "port" / "app" / "consts.py").write_text(BAD)  # a module wins over a package
    shadowed = _same_as_uncached(capsys, o, p)
    assert shadowed != clean
    (project / "port" / "app" / "consts.py").unlink()
    assert _same_as_uncached(capsys, o, p) == clean


def test_key_covers_options_bmodel_and_code(project, monkeypatch):
    o, p = _write_pair(project)
    base = CheckOptions(pairs=[Pair(o, p)])
    key = cache_mod.pair_key(Pair(o, p), base)
    assert key == cache_mod.pair_key(Pair(o, p), base)
    variants = [
        cache_mod.pair_key(Pair(o, p, input_shape=(1, 3, 224, 224)), base),
        cache_mod.pair_key(Pair(o, p), CheckOptions(pairs=[], select={"PL101"})),
        cache_mod.pair_key(Pair(o, p), CheckOptions(pairs=[], ignore={"normalize"})),
        cache_mod.pair_key(Pair(o, p), CheckOptions(pairs=[], rule_options={"PL202": {"iou-tolerance": 0.1}})),
        cache_mod.pair_key(Pair(o, p, bmodel="m.bmodel"), base),
    ]
    (project / "m.bmodel").write_bytes(b"one")
    variants.append(cache_mod.pair_key(Pair(o, p, bmodel="m.bmodel"), base))
    (project / "m.bmodel").write_bytes(b"two")
    variants.append(cache_mod.pair_key(Pair(o, p, bmodel="m.bmodel"), base))
    with monkeypatch.context() as m:
        m.setattr(cache_mod, "_CODE_HASH", "another portlint")
        variants.append(cache_mod.pair_key(Pair(o, p), base))
    assert len({key, *variants}) == len(variants) + 1
    # what does not change a pair's analysis does not change its key
    same = CheckOptions(pairs=[Pair("x", "y")], no_cache=True, jobs=7, show_unused_suppressions=True,
                        cache_dir=project / "elsewhere")
    assert cache_mod.pair_key(Pair(o, p), same) == key


def test_directory_side_key_sees_new_files(project):
    o, p = _write_pair(project)
    base = CheckOptions(pairs=[])
    key = cache_mod.pair_key(Pair("orig", "port"), base)
    (project / "port" / "extra.py").write_text("x = 1\n")
    assert cache_mod.pair_key(Pair("orig", "port"), base) != key


# ----------------------------------------------------------------------------- robustness

@pytest.mark.parametrize("damage", [b"", b"{", b"\x00\xff garbage", b'{"key": "x", "report": {}}',
                                    b'{"report": {"findings": [{"code": 1}]}}', b"[]", b"null"])
def test_corrupt_entries_are_misses_and_get_rewritten(project, capsys, damage):
    o, p = _write_pair(project)
    (project / "port" / "app" / "consts" / "__init__.py").write_text(BAD)
    first = _check(capsys, o, p)
    entries = _entries(project / "cache")
    assert len(entries) == 1
    for e in entries:
        e.write_bytes(damage)
    assert _check(capsys, o, p) == first
    assert json.loads(entries[0].read_text())["report"]["findings"]  # rewritten whole


def test_unusable_cache_dir_is_not_an_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\ncache-dir = "blocker/cache"\n')
    monkeypatch.chdir(tmp_path)
    o, p = _write_pair(tmp_path)
    code, doc = _check(capsys, o, p)
    assert code in (0, 1) and not doc["errors"]
    assert code, doc == _check(capsys, o, p, "--no-cache")


def test_no_cache_reads_and_writes_nothing(project, capsys, monkeypatch):
    o, p = _write_pair(project)
    _check(capsys, o, p, "--no-cache")
    assert not (project / "cache").exists()
    monkeypatch.setattr(cache_mod.PairCache, "get", _no_analysis)
    _check(capsys, o, p, "--no-cache")


def test_time_limited_results_are_not_stored(tmp_path):
    from portlint.report import CheckReport, FileError

    store = cache_mod.PairCache(tmp_path)
    report = CheckReport(errors=[FileError("a.py", f"analysis stopped at the {cache_mod.TIME_LIMIT_MARK} of 1 s")], files=1)
    assert not store.put("ab" * 32, report)
    noted = CheckReport(files=1, notes=[f"a.py: analysis stopped at the {cache_mod.TIME_LIMIT_MARK} (20 s)"])
    assert not store.put("ef" * 32, noted)
    assert store.put("cd" * 32, CheckReport(files=1))
    assert store.get("cd" * 32) == CheckReport(files=1)


def test_unreadable_files_are_not_cached(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    real = cache_mod._Reader._read
    monkeypatch.setattr(cache_mod._Reader, "_read", staticmethod(lambda path: ("unreadable:13", None)))
    assert cache_mod.pair_key(Pair(str(tmp_path / "a.py"), str(tmp_path / "a.py")), CheckOptions(pairs=[])) is None
    monkeypatch.setattr(cache_mod._Reader, "_read", staticmethod(real))
    assert cache_mod.pair_key(Pair(str(tmp_path / "a.py"), str(tmp_path / "a.py")), CheckOptions(pairs=[]))


def test_concurrent_runs_share_one_cache(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\ncache-dir = "cache"\n')
    for case in cases()[:16]:
        shutil.copytree(case, tmp_path / "corpus" / case.name)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    cmd = [sys.executable, "-m", "portlint", "check", "--all", "corpus", "--format", "json", "--jobs", "1"]
    expected = subprocess.run([*cmd, "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [proc.communicate(timeout=600) for proc in procs]
    for (out, err), proc in zip(outs, procs):
        assert proc.returncode == expected.returncode, err
        assert out == expected.stdout
    leftovers = [p for p in (tmp_path / "cache").rglob(".tmp-*")]
    assert not leftovers
    for entry in _entries(tmp_path / "cache"):
        json.loads(entry.read_text())  # every entry whole


def test_prune_removes_old_entries_only(tmp_path):
    store = cache_mod.PairCache(tmp_path)
    from portlint.report import CheckReport

    store.put("aa" * 32, CheckReport(files=1))
    store.put("bb" * 32, CheckReport(files=2))
    old = store._path("aa" * 32)
    os.utime(old, (1, 1))
    assert store.prune() == 1
    assert not old.exists() and store.get("bb" * 32) is not None
    assert store.prune() == 0  # at most once a day


def test_cache_dir_defaults_beside_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    assert cache_mod.default_cache_dir(tmp_path / "sub" / "deeper") == tmp_path / ".portlint_cache"
    bare = tmp_path / "sub" / "deeper"
    (tmp_path / "pyproject.toml").unlink()
    assert cache_mod.default_cache_dir(bare).name == ".portlint_cache"


# ----------------------------------------------------------------------------- the key's file set

def _sides():
    out = []
    for case in cases():
        s = spec(case)
        out += [case / s.get("original", "original.py"), case / s.get("ported", "ported.py")]
    out += [ROOT / "examples" / "resnet" / "resnet_sail.py", ROOT / "examples" / "resnet" / "resnet_torch.py"]
    if SOPHON_DEMO.is_dir():
        for d in sorted(SOPHON_DEMO.glob("sample/*/python")):
            out.append(d)
            out.extend(sorted(d.glob("*.py")))
    return out


def test_key_file_set_covers_what_the_loader_reads():
    from portlint.analysis.source import load_side

    for side in _sides():
        reader = cache_mod._Reader()
        keyed = {os.path.realpath(p) for p, _ in cache_mod.side_files(str(side), reader)}
        loaded = load_side(str(side))
        read = {os.path.realpath(p) for p in loaded.files} | {os.path.realpath(e.path) for e in loaded.errors
                                                              if os.path.exists(e.path)}
        assert read <= keyed, (side, sorted(read - keyed))


def test_a_side_in_many_pairs_is_listed_once_per_run(monkeypatch):
    """One original checked against many ports: its files and imports are found once per run
    (the keys and the pool's dispatch order share the list); a new run looks again."""
    scans = []
    real_scan = cache_mod.scan_imports
    monkeypatch.setattr(cache_mod, "scan_imports", lambda text: scans.append(1) or real_scan(text))
    original = str(ROOT / "examples" / "resnet" / "resnet_torch.py")
    reader = cache_mod._Reader()
    first = cache_mod.side_files(original, reader)
    assert scans and cache_mod.side_files(original, reader) is first
    assert len(scans) == len(first)
    cache_mod.side_files(original, cache_mod._Reader())
    assert len(scans) == 2 * len(first)


def test_scan_imports_is_a_superset_of_the_parsed_imports():
    import libcst as cst
    from portlint.analysis.source import imported_modules

    files = {p for side in _sides() for p in ([side] if side.is_file() else side.rglob("*.py"))}
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(files)]
    texts += [
        "from . import (a,  # ) tricky\n b)\n",
        "from.x import y\nfrom .import z\nfrom ... a . b import c as d, e\n",
        "import a.b as c, d . e\\\n, f\n",
        "if x:\n    from p import (q,\n r)\nelse:\n    import s; import t\n",
        "try:\n    import u\nexcept ImportError:\n    from v import *\n",
        "def f():\n    class C:\n        import w\n",
        "from x import (\n    a as b,\n    c,\n)\n",
    ]
    for text in texts:
        try:
            module = cst.parse_module(text)
        except Exception:
            continue
        missing = set(imported_modules(module)) - cache_mod.scan_imports(text)
        assert not missing, (text[:200], missing)


def test_walk_and_resolution_match_the_loader(tmp_path):
    from portlint.analysis import source

    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for rel in ("a.py", "pkg/__init__.py", "pkg/b.py", "pkg/sub/c.py", ".hidden.py", "venv/x.py", "__pycache__/y.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    # one walk for the key and the loader: skipped folders and the symlink loop left out
    expected = [tmp_path / rel for rel in (".hidden.py", "a.py", "pkg/__init__.py", "pkg/b.py", "pkg/sub/c.py")]
    assert cache_mod.walk_py(tmp_path) == expected
    assert [src.path for src in source.load_side(str(tmp_path)).files.values()] == [p.resolve() for p in expected]
    importer = tmp_path / "pkg" / "sub" / "c.py"
    roots = [tmp_path, tmp_path.parent]
    reader = cache_mod._Reader()
    for level in range(4):
        for dotted in ("", "a", "pkg", "pkg.b", "b", "sub.c", "c", "nothing", "pkg.sub.c", "loop.a", "loop.pkg.b"):
            expected = _plain_resolution(importer, level, dotted, roots)
            assert source.resolve_local_module(importer, level, dotted, roots) == expected, (level, dotted)
            assert cache_mod.resolve_local_module(importer, level, dotted, roots) == expected, (level, dotted)
            assert reader.resolve(importer, level, dotted, roots) == expected, (level, dotted)


def _plain_resolution(importer, level, dotted, roots):
    """The resolution rule written plainly with pathlib stats: the reference for the listing-based one."""
    parts = [p for p in dotted.split(".") if p]
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        bases = [importer.parent] + roots
    for base in bases:
        candidate = base.joinpath(*parts) if parts else base
        if parts and candidate.with_suffix(".py").is_file():
            return candidate.with_suffix(".py").resolve()
        if (candidate / "__init__.py").is_file():
            return (candidate / "__init__.py").resolve()
    return None


def test_a_new_run_sees_a_module_created_since_the_last(tmp_path):
    from portlint import local_files

    importer = tmp_path / "main.py"
    importer.write_text("import helper\n")
    cache_mod._Reader()
    assert local_files.resolve(importer, 0, "helper", [tmp_path]) is None
    (tmp_path / "helper.py").write_text("")
    cache_mod._Reader()  # a new run
    assert local_files.resolve(importer, 0, "helper", [tmp_path]) == (tmp_path / "helper.py").resolve()


def test_hostile_side_cold_warm_equal(project, capsys, monkeypatch):
    """Broken files (syntax, encoding, binary, huge, deep, FIFO, dangling link, symlink loop) in a
    side: the key is computed without blocking or failing, and the warm result is the cold one."""
    side = project / "hostile"
    side.mkdir()
    good = ROOT / "examples" / "resnet" / "resnet_sail.py"
    (side / "good.py").write_text(good.read_text())
    (side / "syntax.py").write_text("def broken(:\n    pass\n")
    (side / "latin1.py").write_bytes(b"# caf\xe9\nimport good\n")
    (side / "binary.py").write_bytes(bytes(range(256)))
    (side / "empty.py").write_text("")
    (side / "huge.py").write_text("import good\n" + "x = 1\n" * (2_100_000 // 6))
    (side / "deep.py").write_text("import good\nx = " + "(" * 500 + "1" + ")" * 500 + "\n")
    (side / "loop").mkdir()
    (side / "loop" / "again").symlink_to(side / "loop", target_is_directory=True)
    (side / "dangling.py").symlink_to(side / "nowhere.py")
    os.mkfifo(side / "fifo.py")
    original = str(ROOT / "examples" / "resnet" / "resnet_torch.py")
    for target in ("hostile", "hostile/deep.py", "hostile/latin1.py"):
        args = ["check", original, target, "--format", "json"]
        uncached = run_cli([*args, "--no-cache"], capsys)
        assert run_cli(args, capsys) == uncached
        with monkeypatch.context() as m:
            m.setattr("portlint.checker.analyze_one", _no_analysis)
            assert run_cli(args, capsys) == uncached, target
