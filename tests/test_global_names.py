"""`global` declarations: a function that declares `global args` and assigns it sets the module's
name (yolact's eval.py parses its options this way; every other function reads `args.<option>`)."""

from __future__ import annotations

import textwrap

import libcst as cst

from portlint.analysis import source
from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.events import FunctionCall
from portlint.analysis.scoping import global_names

PROGRAM = """
    import argparse

    def parse_args(argv=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--fast_nms", default=True)
        parser.add_argument("--score_threshold", default=0.05, type=float)
        global args
        args = parser.parse_args(argv)
        local_only = 3

    def evaluate(thr):
        return thr

    if __name__ == "__main__":
        parse_args()
        evaluate(args.score_threshold)
        evaluate(local_only)
"""


def test_global_declaration_writes_the_module_name(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(PROGRAM))
    facts = interpret(source.load_side(str(path)), PairContext(strict=True))
    calls = [c for c in facts.programs()[0].of(FunctionCall) if c.func.name == "evaluate"]
    assert [c.args["thr"] for c in calls][0] == 0.05
    assert calls[1].args["thr"] != 3  # a name the function did not declare global stays local


def test_global_names_are_read_from_the_own_body_only():
    fn = cst.parse_module(textwrap.dedent("""
        def outer():
            global a, b
            if True:
                global c
            def inner():
                global d
    """)).body[0]
    assert global_names(fn) == {"a", "b", "c"}
