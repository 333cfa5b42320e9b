"""Property-based fuzzing (bounded for CI; scripts/fuzz.py runs longer): the analyser never lets
an exception escape on any program, and on mutated real ports every fix output parses and
fixing again changes nothing."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixture_support import FIXTURES, cases, copy_case, run_cli

hypothesmith = pytest.importorskip("hypothesmith")

ORIGINAL = FIXTURES / "PL101" / "resize_antialias_cv2_self_attrs" / "original.py"
EXAMPLES = int(os.environ.get("PORTLINT_FUZZ_EXAMPLES", "25"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="PORTLINT_FUZZ_RANDOM" not in os.environ,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])


def _check_in_process(original: Path, ported: Path):
    from portlint.checker import CheckOptions, Pair, run_check

    return run_check(CheckOptions(pairs=[Pair(str(original), str(ported))], no_cache=True))


@SETTINGS
@given(source=hypothesmith.from_grammar())
def test_generated_programs_never_crash_the_analyser(tmp_path_factory, source):
    path = tmp_path_factory.mktemp("gen") / "ported.py"
    path.write_text(source, encoding="utf-8")
    report = _check_in_process(ORIGINAL, path)  # any exception here fails the test
    for err in report.errors:  # the only acceptable error on valid grammar output is a parse refusal
        assert "syntax error" in err.message or "nested too deeply" in err.message or "cannot parse" in err.message, err


PORTED = [c / json.loads((c / "expected.json").read_text()).get("ported", "ported.py") for c in cases()]
PORTED = [p for p in PORTED if p.is_file()]

_MUTATIONS = ("number", "swap_args", "drop_line", "dup_line", "rename")


def _mutate(text: str, rng: random.Random, kind: str) -> str:
    lines = text.splitlines(keepends=True)
    if kind == "number":
        import re
        nums = list(re.finditer(r"(?<![\w.])\d+(\.\d+)?", text))
        if nums:
            m = rng.choice(nums)
            return text[:m.start()] + str(rng.choice([0, 1, 3, 114, 255, 640, 0.5])) + text[m.end():]
    if kind == "swap_args":
        import re
        calls = list(re.finditer(r"\(([^(),]+), ([^(),]+)\)", text))
        if calls:
            m = rng.choice(calls)
            return text[:m.start()] + f"({m.group(2)}, {m.group(1)})" + text[m.end():]
    if kind == "drop_line" and len(lines) > 3:
        i = rng.randrange(len(lines))
        return "".join(lines[:i] + lines[i + 1:])
    if kind == "dup_line" and lines:
        i = rng.randrange(len(lines))
        return "".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    if kind == "rename":
        return text.replace("img", "image_" + str(rng.randrange(100)))
    return text


def _parses(text: str) -> bool:
    try:
        cst.parse_module(text)
        return True
    except Exception:
        return False


@SETTINGS
@given(index=st.integers(min_value=0, max_value=len(PORTED) - 1), seed=st.integers(0, 10_000),
       kind=st.sampled_from(_MUTATIONS))
def test_mutated_ports_check_and_fix_idempotently(tmp_path_factory, capsys, index, seed, kind):
    source = PORTED[index]
    case = source.parent
    work = tmp_path_factory.mktemp("mut")
    original, _ = copy_case(case, work / case.name)
    ported = work / case.name / source.name
    spec = json.loads((case / "expected.json").read_text())
    ported.write_text(_mutate(source.read_text(), random.Random(seed), kind))
    if not _parses(ported.read_text()):
        return  # a mutation that breaks syntax is covered by the hostile-input tests
    args = ["fix", str(original), str(ported), "--apply", "--unsafe-fixes", "--no-cache", *spec.get("args", [])]
    code, out, err = run_cli(args, capsys)
    assert code in (0, 1), err
    assert "Traceback" not in err
    first = ported.read_text()
    assert _parses(first), first
    run_cli(args, capsys)
    assert ported.read_text() == first  # idempotent
