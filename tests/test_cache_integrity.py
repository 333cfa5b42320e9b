"""The cache under races and tampering (issue 14, items 2 and 9): a result is stored only as the
analysis of the bytes its key covers, data files the programs read are checked before a result
is served, and an entry that is not one portlint wrote (wrong shape, a FIFO, a link to
/dev/zero, a changed digit) is a miss, read without blocking."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from fixture_support import finishes_in_time, run_cli
from test_cache import BAD, GOOD, _entries, _write_pair

from portlint import cache as cache_mod


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.portlint]\ncache-dir = "cache"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(capsys, *args):
    code, out, err = run_cli(["check", *args, "--format", "json", "--input-shape", "1,3,224,224"], capsys)
    return code, json.loads(out)


def _findings(doc) -> list:
    return sorted(f["code"] for f in doc[1]["findings"])


def test_a_file_saved_during_the_run_is_not_cached_under_the_old_key(project, capsys, monkeypatch):
    """The key is computed, the user saves the module, the analysis reads the new bytes: that
    result must not be served later for the old bytes."""
    o, p = _write_pair(project)
    consts = project / "port" / "app" / "consts" / "__init__.py"
    good = _check(capsys, o, p, "--no-cache")
    consts.write_text(BAD)
    bad = _check(capsys, o, p, "--no-cache")
    assert _findings(good) != _findings(bad)
    consts.write_text(GOOD)

    import portlint.checker as checker

    real = checker.analyze_one

    def saved_meanwhile(pair, options):
        consts.write_text(BAD)  # the editor saves between the key and the analysis
        return real(pair, options)

    with monkeypatch.context() as m:
        m.setattr(checker, "analyze_one", saved_meanwhile)
        assert _check(capsys, o, p) == bad  # this run analysed the new bytes
    assert _check(capsys, o, p) == bad  # the file is BAD now: its own key
    consts.write_text(GOOD)
    assert _check(capsys, o, p) == good  # was the BAD result, stored under GOOD's key


DATA_PORTED = '''\
import cv2
import numpy as np
import sophon.sail as sail
import yaml

cfg = yaml.safe_load(open("norm.yaml"))
img = cv2.imread("a.jpg")
img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
img = cv2.resize(img, (224, 224), interpolation=cv2.INTER_AREA)
img = (img.astype(np.float32) / 255.0 - np.array(cfg["mean"])) / np.array(cfg["std"])
img = np.expand_dims(img.transpose(2, 0, 1), 0)
engine = sail.Engine("m.bmodel", 0, sail.IOMode.SYSIO)
print(engine.process(engine.get_graph_names()[0], {"input": img}))
'''


def test_a_changed_data_file_is_not_served_from_the_cache(project, capsys):
    """yaml/json files the programs read as data are inputs too (analysis/apis/config_api.py)."""
    o, p = _write_pair(project)
    (project / "port" / "app" / "classify.py").write_text(DATA_PORTED)
    cfg = project / "port" / "app" / "norm.yaml"
    cfg.write_text("mean: [0.485, 0.456, 0.406]\nstd: [0.229, 0.224, 0.225]\n")
    aligned = _check(capsys, o, p)
    assert "normalize" not in {f["kind"] for f in aligned[1]["findings"]}
    cfg.write_text("mean: [0.5, 0.5, 0.5]\nstd: [0.5, 0.5, 0.5]\n")
    uncached = _check(capsys, o, p, "--no-cache")
    assert "normalize" in {f["kind"] for f in uncached[1]["findings"]}
    assert _check(capsys, o, p) == uncached
    assert _check(capsys, o, p) == uncached  # and now cached as such


def _cached_pair(project, capsys):
    o, p = _write_pair(project)
    (project / "port" / "app" / "consts" / "__init__.py").write_text(BAD)
    first = _check(capsys, o, p)
    [entry] = _entries(project / "cache")
    return o, p, first, entry


@pytest.mark.parametrize("shape", [
    {"key": None, "report": {"findings": 5}},
    {"report": {"notes": 5, "findings": [], "errors": []}},
    {"report": {"files": "many"}},
    {"report": {"errors": [{"path": 1, "message": None}]}},
    {"report": {"findings": [{"code": "PL107"}]}},
    {"unkeyed": [], "report": {}},
])
def test_valid_json_of_the_wrong_shape_is_a_miss(project, capsys, shape):
    o, p, first, entry = _cached_pair(project, capsys)
    key = json.loads(entry.read_text())["key"]
    doc = {"key": key, "unkeyed": {}, **shape}
    if doc.get("key") is None:
        doc["key"] = key
    entry.write_text(cache_mod.seal(json.dumps(doc)))  # even a valid checksum does not save it
    assert _check(capsys, o, p) == first
    assert _check(capsys, o, p) == first
    assert json.loads(entry.read_text())["report"]["findings"]  # rewritten


def test_a_changed_digit_is_a_miss(project, capsys):
    o, p, first, entry = _cached_pair(project, capsys)
    text = entry.read_text()
    assert '"line": ' in text
    import re

    tampered = re.sub(r'"line": (\d+)', lambda m: f'"line": {int(m.group(1)) + 1}', text, count=1)
    entry.write_text(tampered)
    assert _check(capsys, o, p) == first




def test_an_entry_replaced_by_a_fifo_or_a_link_is_a_miss(project, capsys):
    o, p, first, entry = _cached_pair(project, capsys)
    key = json.loads(entry.read_text())["key"]
    store = cache_mod.PairCache(project / "cache")
    entry.unlink()
    os.mkfifo(entry)
    assert finishes_in_time(lambda: store.get(key), 30) is None
    entry.unlink()
    entry.symlink_to("/dev/zero")
    assert finishes_in_time(lambda: store.get(key), 30) is None
    entry.unlink()
    entry.symlink_to(project / "pyproject.toml")
    assert finishes_in_time(lambda: store.get(key), 30) is None
    t0 = time.monotonic()
    assert _check(capsys, o, p) == first
    assert time.monotonic() - t0 < 60
    assert entry.is_file() and not entry.is_symlink()  # replaced by a real entry


def test_key_reader_never_blocks_on_a_fifo_beside_the_program(project):
    (project / "a.py").write_text("import helper\n")
    os.mkfifo(project / "helper.py")
    from portlint.checker import CheckOptions, Pair

    key = finishes_in_time(lambda: cache_mod.pair_key(Pair(str(project / "a.py"), str(project / "a.py")), CheckOptions(pairs=[])))
    assert key
