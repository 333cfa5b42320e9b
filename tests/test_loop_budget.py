"""Long loop nests are not unrolled past interp.MAX_LOOP_WORK body runs: the loop runs its body
once and what the body writes becomes unknown (never a value from a partial unrolling); short
loops are still unrolled exactly. `writes.loop_writes` finds what a body writes."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from portlint.analysis import interp, source
from portlint.analysis.values import UNKNOWN
from portlint.analysis.writes import loop_writes

PRIORS = """
    class Priors:
        def __init__(self, sizes):
            self.sizes = sizes
            self.ratios = [1, 0.5, 2]

        def make(self):
            data = []
            boxes = {}
            for size in self.sizes:
                for i in range(size):
                    for j in range(size):
                        for r in self.ratios:
                            data += [(j + 0.5) / size, (i + 0.5) / size, r]
                            boxes[(i, j)] = r
                            self.last = r
            self.count = len(data)
            return data

    small = Priors([4, 2]).make()
    big_priors = Priors([40, 20])
    big = big_priors.make()
    tail = 7
"""


def _run(tmp_path, text):
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(text))
    side = source.load_side(str(path))
    it = interp.Interpreter(side, {})
    src = side.entries[0]
    it._start(src)
    env = {"__name__": "prog"}
    it.exec_block(src.module.body, interp.Frame(src, env, env, is_module=True))
    return it, env


def test_short_nests_unroll_exactly(tmp_path):
    it, env = _run(tmp_path, PRIORS)
    assert isinstance(env["small"], list) and len(env["small"]) == (16 + 4) * 3 * 3


def test_long_nests_leave_what_the_body_writes_unknown(tmp_path, monkeypatch):
    it, env = _run(tmp_path, PRIORS)
    assert env["big"] is UNKNOWN  # 2000 x 3 body runs: over the budget, the list is not guessed
    obj = env["big_priors"]
    assert obj.attrs["count"] is UNKNOWN and obj.attrs["last"] is UNKNOWN
    assert env["tail"] == 7  # analysis goes on after the loop
    assert not it.limits_hit
    monkeypatch.setattr(interp, "MAX_LOOP_WORK", 10**9)
    unbounded, env = _run(tmp_path, PRIORS)
    assert len(env["big"]) == (1600 + 400) * 3 * 3
    assert it.steps * 3 < unbounded.steps


def test_the_budget_counts_body_runs_of_the_whole_nest(tmp_path, monkeypatch):
    monkeypatch.setattr(interp, "MAX_LOOP_WORK", 10)
    _, env = _run(tmp_path, """
        out = []
        for i in range(3):
            for j in range(3):
                out.append(i)
        n = 0
        for k in range(4):
            n += k
        """)
    assert env["out"] is UNKNOWN  # 3 + 9 body runs > 10
    assert env["n"] == 6  # a new nest gets a new budget


def test_loops_inside_a_widened_outermost_loop_stay_in_its_nest(tmp_path, monkeypatch):
    monkeypatch.setattr(interp, "MAX_LOOP_WORK", 5)
    it, env = _run(tmp_path, """
        total = 0
        for i in range(8):
            for j in range(4):
                total += j
        """)
    assert env["total"] is UNKNOWN
    assert it.steps < 16  # the inner loop ran once too (13 steps), not four times (22)


@pytest.mark.parametrize("body, expected", [
    ("a = 1", [("name", "a", False)]),
    ("a, (b, *c) = f()", [("name", "a", False), ("name", "b", False), ("name", "c", False)]),
    ("a += 1\nb: int = 2\nc: int", [("name", "a", False), ("name", "b", False)]),
    ("self.x = 1\nself.y.z += 1\nf().w = 3", [("attr", "self.x", False), ("attr", "self.y.z", False)]),
    ("d[k] = 1\nself.m[k][j] = 2", [("name", "d", True), ("attr", "self.m", True)]),
    ("out.append(x)\nself.boxes.extend(y)\nq.popleft()\nlen(z)",
     [("name", "out", True), ("attr", "self.boxes", True), ("name", "q", True)]),
    ("img = cv2.resize(img, s)\nout.append(img)\nout = []", [("name", "img", False), ("name", "cv2", True), ("name", "out", False)]),
    ("with open(p) as fh:\n    pass", [("name", "fh", False)]),
    ("if (m := g()):\n    pass", [("name", "m", False)]),
    ("import numpy.linalg\nfrom os import path as p", [("name", "numpy", False), ("name", "p", False)]),
    ("def f():\n    inner = 1\nclass C:\n    pass\nh = lambda: 0", [("name", "f", False), ("name", "C", False), ("name", "h", False)]),
    ("for u in v:\n    w = u", [("name", "u", False), ("name", "w", False)]),
    ("try:\n    pass\nexcept E as e:\n    pass", [("name", "e", False)]),
])
def test_loop_writes(body, expected):
    loop = cst.parse_statement("for item in items:\n" + textwrap.indent(body, "    ") + "\n")
    found = [(kind, t if kind == "name" else cst.Module([]).code_for_node(t), in_place) for kind, t, in_place in loop_writes(loop)]
    assert found == [("name", "item", False)] + expected


def test_module_references_survive_a_widened_loop(tmp_path, monkeypatch):
    """`cv2.resize(...)` in a loop past the budget leaves `cv2` a module; the results are unknown."""
    monkeypatch.setattr(interp, "MAX_LOOP_WORK", 4)
    _, env = _run(tmp_path, """
        import cv2
        out = []
        for i in range(8):
            out.append(cv2.resize(i, (2, 2)))
        """)
    assert env["out"] is UNKNOWN
    assert type(env["cv2"]).__name__ == "ApiRef"
