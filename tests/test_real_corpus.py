"""The real corpus (scripts/real_corpus.py): its labels are checked on every run; the corpus itself
is rebuilt and scored only where the upstream mirrors are (PORTLINT_MIRRORS), never downloaded."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

from portlint.findings import KINDS

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "real_corpus"


def _load_script():
    spec = importlib.util.spec_from_file_location("real_corpus", ROOT / "scripts" / "real_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_corpus"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


rc = _load_script()
SPECS = json.loads((CORPUS / "pairs.json").read_text(encoding="utf-8"))
FAMILIES = [s["family"] for s in SPECS]


def test_script_kinds_are_the_contract_kinds():
    assert tuple(rc.KINDS) == tuple(KINDS)


@pytest.mark.parametrize("family", FAMILIES)
def test_labels_are_well_formed(family):
    doc, labels = rc.load_labels(family)
    assert labels, f"no labels for {family} in {CORPUS}"
    assert rc.validate_labels(doc, labels, family) == []
    assert {lab.verdict for lab in labels} == {"real", "aligned"}, "each family has real labels and traps"


def test_labels_balance_real_and_traps():
    real = traps = 0
    for family in FAMILIES:
        _, labels = rc.load_labels(family)
        real += sum(lab.verdict == "real" for lab in labels)
        traps += sum(lab.verdict == "aligned" for lab in labels)
    assert 0.5 <= traps / real <= 2.0, (real, traps)


def test_validation_catches_bad_labels():
    bad = [rc.Label(id="a", kind="resize", verdict="maybe", places=["x.py"], why="short", stage="mid"),
           rc.Label(id="a", kind="nms", verdict="real", places=["x.py:3"], why="a reason long enough here", checked="")]
    problems = rc.validate_labels({"family": "F"}, bad, "F")
    text = "\n".join(problems)
    for expected in ("unknown kind", "verdict", "stage", "places", "say why", "duplicate id", "how it was checked"):
        assert expected in text


def test_a_label_hits_a_finding_of_its_kind_on_one_of_its_lines():
    lab = rc.Label(id="x", kind="nms", verdict="real", places=["python/a.py:10-12", "python/b.py:5"], why="w" * 30)
    def finding(path, line, kind="nms"):
        return {"kind": kind, "ported": {"path": f"/tmp/w/F/ported/{path}", "line": line, "column": 1}}
    assert lab.hits(finding("python/a.py", 11))
    assert lab.hits(finding("python/b.py", 5))
    assert not lab.hits(finding("python/a.py", 13))
    assert not lab.hits(finding("python/a.py", 11, kind="padding"))
    assert not lab.hits({"kind": "nms", "ported": None})


def test_score_counts_found_missed_flagged_and_unlabelled():
    labels = [rc.Label(id="r1", kind="nms", verdict="real", places=["p.py:1"], why="w" * 30, stage="post"),
              rc.Label(id="r2", kind="crop", verdict="real", places=["p.py:2"], why="w" * 30),
              rc.Label(id="t1", kind="padding", verdict="aligned", places=["p.py:3"], why="w" * 30)]
    doc = {"findings": [{"kind": "nms", "ported": {"path": "x/ported/p.py", "line": 1}},
                        {"kind": "padding", "ported": {"path": "x/ported/p.py", "line": 3}},
                        {"kind": "layout", "ported": {"path": "x/ported/p.py", "line": 9}}]}
    pair = rc.Pair(family="F", spec={}, root=Path("r"), original=Path("o"), ported=Path("p"))
    s = rc.score(pair, labels, doc, 0.0)
    assert [lab.id for lab, _ in s.found] == ["r1"]
    assert [lab.id for lab, _ in s.missed] == ["r2"]
    assert [lab.id for lab, _ in s.flagged] == ["t1"]
    assert len(s.unlabelled) == 1
    assert rc.summarise([s], "post")["recall"] == 1.0
    assert rc.summarise([s], "pre")["recall"] == 0.0


def _mirrors_present() -> bool:
    try:
        return all(rc.git_dir(s["upstream_repo"]).exists() and rc.git_dir(s["port_repo"]).exists() for s in SPECS)
    except rc.CorpusError:
        return False


@pytest.mark.skipif(not _mirrors_present(), reason="no upstream git mirrors here (PORTLINT_MIRRORS)")
def test_real_corpus_score_does_not_fall(tmp_path, monkeypatch):
    # the portlint subprocesses must run this tree's code, not whichever checkout the venv installed
    # (scripts/real_corpus.py's main() does the same)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    floor = json.loads((CORPUS / "floor.json").read_text(encoding="utf-8"))
    scores = rc.run(work=tmp_path / "corpus", portlint=[sys.executable, "-m", "portlint"])
    assert all(s.traced.get("ported") for s in scores), [s.family for s in scores if not s.traced.get("ported")]
    for stage, limits in floor.items():
        if stage.startswith("_"):
            continue
        got = rc.summarise(scores, None if stage == "all" else stage)
        assert got["recall"] >= limits["recall"], (stage, got)
        assert got["trap_rate"] <= limits["trap_rate"], (stage, got)
