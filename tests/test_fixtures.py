"""Every fixture case: the findings are exactly the expected ones; fixes give fixed.py, are
idempotent, and leave none of the fixed findings behind."""

from __future__ import annotations

import json

import pytest

from fixture_support import case_id, cases, copy_case, run_cli, spec

CASES = cases()


def _check(case, ported, capsys, extra=()):
    s = spec(case)
    original = str(case / s.get("original", "original.py"))
    code, out, err = run_cli(["check", original, str(ported), "--format", "json", *s.get("args", []), *extra], capsys)
    doc = json.loads(out)
    # 3: no finding, and a side's pipeline was not found (README, "Exit codes")
    assert code == (1 if doc["findings"] else 3 if doc["not_compared"] else 0), err
    assert not doc["errors"], doc["errors"]
    return doc["findings"]


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_findings(case, capsys):
    s = spec(case)
    findings = _check(case, case / s.get("ported", "ported.py"), capsys)
    actual = sorted((f["code"], f["ported"]["line"]) for f in findings)
    expected = sorted((e["code"], e["ported_line"]) for e in s["findings"])
    assert actual == expected, "\n".join(f"{f['code']} {f['ported']['line']}: {f['message']}" for f in findings)
    by_key: dict = {}  # several findings can share a line: each expected entry takes the one its message names
    for f in findings:
        by_key.setdefault((f["code"], f["ported"]["line"]), []).append(f)
    for e in s["findings"]:
        same = by_key[(e["code"], e["ported_line"])]
        f = next((x for x in same if all(part in x["message"] for part in e.get("message", []))), same[0])
        same.remove(f)
        if "original_line" in e:
            assert f["original"] is not None and f["original"]["line"] == e["original_line"], f
        if "program" in e:
            assert f.get("program", "").endswith(e["program"]), f
        for part in e.get("message", []):
            assert part in f["message"], (part, f["message"])


FIX_CASES = [c for c in CASES if (c / "fixed.py").is_file()]


@pytest.mark.parametrize("case", FIX_CASES, ids=[case_id(c) for c in FIX_CASES])
def test_fix(case, tmp_path, capsys):
    s = spec(case)
    original, ported = copy_case(case, tmp_path / case.name)
    original = str(original)
    before = {f["code"] for f in _check(case, ported, capsys) if f["fix"] and f["fix"]["applicability"] == "safe"}
    code, out, err = run_cli(["fix", original, str(ported), "--apply", *s.get("args", []), *s.get("fix_args", [])], capsys)
    assert code in (0, 1), err
    assert ported.read_text() == (case / "fixed.py").read_text()
    # idempotent: a second run changes nothing
    run_cli(["fix", original, str(ported), "--apply", *s.get("args", []), *s.get("fix_args", [])], capsys)
    assert ported.read_text() == (case / "fixed.py").read_text()
    # the fixed findings are gone
    after = {f["code"] for f in _check(case, ported, capsys)}
    assert not (before & after), after
