"""Each program of a side is analysed as a process of its own (interp._new_process): module state
one program changes (the bubbliiiing `_defaults` dict its constructor updates) is not what the
next program starts from, as with two `python` runs."""

from __future__ import annotations

import textwrap

from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.source import load_side

LIB = """
import cv2
import numpy as np
import torch


class Net:
    _defaults = {"size": 224}

    def __init__(self, **kwargs):
        self.__dict__.update(self._defaults)
        for name, value in kwargs.items():
            setattr(self, name, value)
            self._defaults[name] = value
        self.model = torch.jit.load("m.pt")

    def __call__(self, img):
        img = cv2.resize(img, (self.size, self.size))
        return self.model(torch.from_numpy(img).permute(2, 0, 1)[None].float())
"""

EVAL = """
import cv2
from lib import Net

if __name__ == "__main__":
    Net(size=320)(cv2.imread("a.jpg"))
"""

DEMO = """
import cv2
from lib import Net

if __name__ == "__main__":
    Net()(cv2.imread("b.jpg"))
"""


def test_a_program_does_not_see_what_an_earlier_one_did_to_a_class(tmp_path):
    for name, text in (("lib.py", LIB), ("a_eval.py", EVAL), ("b_demo.py", DEMO)):
        (tmp_path / name).write_text(textwrap.dedent(text))
    facts = interpret(load_side(str(tmp_path)), PairContext(), strict=True)
    sizes = sorted(tuple(s.img.state.size) for s in facts.sinks)
    assert sizes == [(224, 224), (320, 320)]  # b_demo runs with the class default, not a_eval's 320
