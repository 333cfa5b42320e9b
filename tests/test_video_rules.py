"""PL212 (frame sampling) and PL213 (clip averaging) on their parts: the modulo tests read as a
step, the read loops found or refused, and the numbers the PL212 message states."""

from __future__ import annotations

import libcst as cst

from portlint.rules.pl212_frame_sampling import ReadLoop, Sampler, _message, _modulo_test, read_loops


def _fn(text):
    return cst.parse_module(text).body[0]


def test_modulo_tests_give_the_step():
    def step(expr):
        found = _modulo_test(cst.parse_expression(expr))
        return cst.Module([]).code_for_node(found) if found is not None else None

    assert step("i % self.step == 0") == "self.step"
    assert step("0 == idx % 6") == "6"
    assert step("not i % k") == "k"
    assert step("i % 6 == 1") is None  # an offset, not a step from the start
    assert step("i < 6") is None


def test_read_loops_found_and_refused():
    kept = _fn("def f(cap, step):\n    out = []\n    for i in range(300):\n        ok, frame = cap.read()\n"
               "        if not ok:\n            break\n        if i % step == 0:\n            out.append(frame)\n")
    assert [type(r.test).__name__ for r in read_loops(None, kept)] == ["Comparison"]
    every = _fn("def f(cap):\n    out = []\n    while True:\n        ok, frame = cap.read()\n        if not ok:\n"
                "            break\n        out.append(frame)\n")
    assert [r.test for r in read_loops(None, every)] == [None]
    seeking = _fn("def f(cap, n):\n    out = []\n    for i in range(n):\n        cap.set(1, i * 6)\n"
                  "        ok, frame = cap.read()\n        out.append(frame)\n")
    assert read_loops(None, seeking) == []  # the frames it reads are chosen by seeking: not compared


def test_message_numbers():
    loop = _fn("def f(cap):\n    for i in range(9):\n        ok, frame = cap.read()\n        if i % 6 == 0:\n"
               "            out.append(frame)\n")
    found = read_loops(None, loop)[0]
    found = ReadLoop(cst.Module([]), found.fn, found.read, found.test, found.step_expr)
    text = _message(6, found, Sampler(16, 1, 10, None))
    # 16 frames 6 apart span (16 - 1) * 6 + 1 = 91 frames; 16 consecutive ones span 16
    assert "a clip of 16 frames spans 91 frames" in text and "spanning 16 frames" in text and "6x the speed" in text
