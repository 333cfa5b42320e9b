"""PL209's safe fixes make the evaluation stage exact, in numbers (the eval-script half of
tests/test_fix_post_replay.py, whose harness runs detection programs, not evaluation scripts): each
fixture's port is fixed with `portlint fix --apply`, then the port and the fixed port convert the same
seeded results json (scores from 0.001 to 1, as a run at --conf_thresh 0.001 writes) and the records
they would give COCOeval are compared with the original's: every detection, with the score it was
written with (ultralytics pred_to_json writes round(conf, 5) and evaluates every detection kept).
pycocotools is not installed here: a stand-in COCO object provides what the scripts read."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

from fixture_support import FIXTURES, copy_case, run_cli, spec

pytestmark = pytest.mark.slow

CASES = {"PL209/post_eval_score_filter": "to_coco_keypoints", "PL209/post_eval_score_recomputed": "convert_keypoints"}


class _Coco:
    """What the scripts read of pycocotools' COCO: `dataset['images']`."""

    def __init__(self, names):
        self.dataset = {"images": [{"file_name": n, "id": i + 1} for i, n in enumerate(names)]}


def _results(path, n=200, seed=0):
    rng = np.random.default_rng(seed)
    names = [f"{i:012d}.jpg" for i in range(20)]
    rows = []
    for k in range(n):
        kpts = np.column_stack([rng.uniform(0, 640, 17), rng.uniform(0, 480, 17), rng.uniform(0, 1, 17)])
        rows.append({"image_name": names[k % 20], "category_id": 1, "keypoints": [round(float(v), 3) for v in kpts.ravel()],
                     "score": round(float(rng.uniform(0.001, 1.0)), 5), "bbox": [1.0, 2.0, 30.0, 40.0]})
    path.write_text(json.dumps(rows))
    return names, rows


def _records(program, function, results_json, names, tmp_path, monkeypatch):
    """The records the script's converter hands COCOeval (what it returns or writes)."""
    fake = types.ModuleType("pycocotools")
    for sub in ("coco", "cocoeval"):
        mod = types.ModuleType(f"pycocotools.{sub}")
        mod.COCO, mod.COCOeval = object, object
        monkeypatch.setitem(sys.modules, f"pycocotools.{sub}", mod)
    monkeypatch.setitem(sys.modules, "pycocotools", fake)
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "replayed"}
    exec(compile(program.read_text(), str(program), "exec"), scope)
    got = scope[function](str(results_json), _Coco(names))
    if got is None:  # the converter wrote temp.json for loadRes
        got = "temp.json"
    if isinstance(got, str):  # the converter wrote a file (and returned its path)
        got = json.loads((tmp_path / got).read_text())
    return sorted((r["image_id"], r["score"]) for r in got)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_safe_eval_script_fix_gives_the_original_records(name, tmp_path, capsys, monkeypatch):
    case = FIXTURES / name
    s = spec(case)
    original, ported = copy_case(case, tmp_path / "case")
    code, out, err = run_cli(["check", str(original), str(ported), "--format", "json", "--no-cache", *s.get("args", [])], capsys)
    assert any(f["code"] == "PL209" and f["fix"] and f["fix"]["applicability"] == "safe" for f in json.loads(out)["findings"])
    code, _, err = run_cli(["fix", str(original), str(ported), "--apply", "--no-cache", *s.get("args", [])], capsys)
    assert code in (0, 1), err
    assert ported.read_text() == (case / "fixed.py").read_text()

    results = tmp_path / "results.json"
    names, rows = _results(results)
    ids = {n: i + 1 for i, n in enumerate(names)}
    want = sorted((ids[r["image_name"]], r["score"]) for r in rows)  # every detection, its own score
    before = _records(case / "ported.py", CASES[name], results, names, tmp_path, monkeypatch)
    after = _records(ported, CASES[name], results, names, tmp_path, monkeypatch)
    assert before != want, "the port already gives the original's records: the case shows nothing"
    assert after == want
