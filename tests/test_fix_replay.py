"""A safe fix makes its stage exact, in numbers (issue 15.3): every safe fix of every fixture is
applied, then both pipelines are replayed with verify's replay on a real photo (no model), and
the stage each fixed rule is about must be aligned — unless a finding that remains after the fix
sits at that stage or before it (an unfixable antialias under a fixed interpolation, say), which
the fix does not claim to remove."""

from __future__ import annotations

import json
import shutil

import pytest

from fixture_support import case_id, cases, run_cli, spec
from portlint.verify.explain import STAGE_OF_RULE as STAGE

pytestmark = pytest.mark.slow
pytest.importorskip("torch")
pytest.importorskip("cv2")
Image = pytest.importorskip("PIL.Image")
skdata = pytest.importorskip("skimage.data")

ORDER = ["decode", "colour", "resize", "crop", "pad", "normalize", "layout", "input"]
DEFAULT_SHAPE = "1,3,224,224"  # the fixtures' classifier bmodels; a case's own --input-shape wins


def _shape(s: dict) -> str:
    args = s.get("args", [])
    return args[args.index("--input-shape") + 1] if "--input-shape" in args else DEFAULT_SHAPE


def _findings(original, ported, shape, capsys) -> list:
    code, out, err = run_cli(["check", original, ported, "--format", "json", "--no-cache", "--input-shape", shape],
                             capsys)
    assert code in (0, 1, 3), err
    return json.loads(out)["findings"]


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "chelsea.jpg"
    Image.fromarray(skdata.chelsea()).save(path, quality=90)
    return str(path)


def _replay(original, ported, shape, photo) -> dict:
    from portlint.checker import parse_shape
    from portlint.verify.run import Session, VerifyOptions

    result = Session(VerifyOptions(original, ported, image=photo, input_shape=parse_shape(shape))).verify(photo)
    return {row.name: row for row in result.stages}


SAFE_CASES = []
for _case in cases():
    if (_case / "fixed.py").is_file() or _case.parent.name in STAGE:
        SAFE_CASES.append(_case)


def test_every_safe_fix_makes_its_stage_exact(tmp_path, capsys, photo):
    judged, problems = [], []
    for case in SAFE_CASES:
        s = spec(case)
        work = tmp_path / case_id(case).replace("/", "__")
        shutil.copytree(case, work)
        original, ported = str(work / s.get("original", "original.py")), str(work / s.get("ported", "ported.py"))
        shape = _shape(s)
        safe = {f["code"] for f in _findings(original, ported, shape, capsys)
                if f["fix"] and f["fix"]["applicability"] == "safe" and f["code"] in STAGE}
        if not safe:
            continue
        code, _, err = run_cli(["fix", original, ported, "--apply", "--no-cache", "--input-shape", shape], capsys)
        assert code in (0, 1), f"{case_id(case)}: {err}"
        remaining = {STAGE[f["code"]] for f in _findings(original, ported, shape, capsys) if f["code"] in STAGE}
        rows = _replay(original, ported, shape, photo)
        for rule in sorted(safe):
            stage = STAGE[rule]
            if any(ORDER.index(r) <= ORDER.index(stage) for r in remaining):
                continue  # another difference remains at or before this stage: not the fix's to remove
            row = rows.get(stage)
            if row is None:
                continue  # neither side has the stage any more (a fix that removed a step)
            judged.append(f"{case_id(case)} {rule}")
            if not row.aligned:
                problems.append(f"{case_id(case)}: {rule} fixed, {stage} still differs: {row.message}")
    assert not problems, "\n".join(problems)
    assert len(judged) >= 14, judged  # the test keeps meaning something as fixtures change
    assert "PL107/normalize_mean_scale_separate_statements PL107" in judged


def test_a_fix_that_cannot_rewrite_the_whole_chain_is_display_only(capsys):
    """Two chained convert_to: a 'safe' rewrite of the last one divided by 255 twice."""
    from fixture_support import FIXTURES

    case = FIXTURES / "PL107" / "normalize_chained_convert_to"
    findings = _findings(str(case / "original.py"), str(case / "ported.py"), "1,3,224,224", capsys)
    [f] = [f for f in findings if f["code"] == "PL107"]
    assert f["fix"]["applicability"] == "display-only" and "one convert_to" in f["fix"]["description"]
