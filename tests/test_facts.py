"""The analysis result rules read: typed events per program, scopes, and evaluation through the
interpreter that leaves the facts as they were. Rules never reach into the interpreter."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import libcst as cst

from portlint.analysis import source
from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.events import ArgparseDefault, Entry, FunctionCall
from portlint.analysis.values import UNKNOWN

PROGRAM = """
    import argparse

    def post(boxes, thr):
        keep = thr * 2
        return keep

    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--conf-thres", type=float, default=0.25)
        args = parser.parse_args()
        post(None, args.conf_thres)
"""


def _facts(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(PROGRAM))
    return interpret(source.load_side(str(path)), PairContext(strict=True))


def test_events_are_typed_and_grouped_by_program(tmp_path):
    facts = _facts(tmp_path)
    (prog,) = facts.programs()
    assert prog.entry.path.name == "prog.py"
    (default,) = prog.of(ArgparseDefault)
    assert (default.dest, default.default) == ("conf_thres", 0.25)
    assert [type(e) for e in prog.events][:1] == [Entry]
    indices = [e.index for e in prog.events]
    assert indices == sorted(indices) and all(e.entry is prog.entry for e in prog.events)


def test_evaluate_in_a_recorded_scope_keeps_the_facts(tmp_path):
    facts = _facts(tmp_path)
    (prog,) = facts.programs()
    (call,) = prog.of(FunctionCall)
    assert facts.executed(call.func.node)
    before = list(prog.events)
    expr = cst.parse_expression("thr + keep")
    assert facts.evaluate(expr, call.scope()) == 0.75
    assert facts.evaluate(cst.parse_expression("post(1, 2)"), call.scope()) is UNKNOWN  # runs no calls
    assert facts.evaluate(expr, None) is UNKNOWN
    assert facts.programs()[0].events == before


def test_rules_do_not_drive_the_interpreter():
    rules = Path(__file__).resolve().parents[1] / "src" / "portlint" / "rules"
    for path in rules.glob("*.py"):
        text = path.read_text()
        assert "analysis.interp" not in text, path.name
        assert not re.search(r"\binterp\.|\._interp\b|\.steps\b|\bFrame\(", text), path.name
