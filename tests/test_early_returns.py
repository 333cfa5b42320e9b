"""An early `return` under a symbolic condition (a size helper that returns the image size as it is
when the shorter side already fits) gives ifelse(path condition, early, later): the traced size
equals what the function computes, at every image size tried. The test runs its own copy of the
helper to compare; the analyser only reads it."""

from __future__ import annotations

import textwrap

from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.source import load_side
from portlint.analysis.values import sym_eval

HELPER = textwrap.dedent('''
    def scaled_size(image_size, size, max_size=None):
        w, h = image_size
        if max_size is not None:
            short, long = float(min((w, h))), float(max((w, h)))
            if long / short * size > max_size:
                size = int(round(max_size * short / long))
        if (w <= h and w == size) or (h <= w and h == size):
            return (h, w)
        if w < h:
            return (int(size * h / w), size)
        return (size, int(size * w / h))
''')

PROGRAM = HELPER + textwrap.dedent('''
    import torch
    import torchvision.transforms.functional as F
    from PIL import Image

    model = torch.jit.load("m.pt")
    img = Image.open("a.jpg").convert("RGB")
    img = F.resize(img, scaled_size(img.size, 800, 1333))
    model(F.to_tensor(img)[None])
''')


def _resize_out(tmp_path):
    (tmp_path / "prog.py").write_text(PROGRAM)
    facts = interpret(load_side(str(tmp_path / "prog.py")), PairContext())
    ops = [op for s in facts.sinks for op in s.img.state.ops if op.stage == "resize"]
    assert ops, "the resize was not traced"
    return ops[0].out


def test_early_return_gives_the_size_the_function_computes(tmp_path):
    out = _resize_out(tmp_path)
    scope: dict = {}
    exec(HELPER, scope)  # the test's own copy of the helper, to compare with
    for h, w in [(480, 640), (640, 480), (800, 600), (600, 800), (800, 800), (300, 451), (720, 1280),
                 (1080, 1920), (800, 3000), (100, 100), (799, 801)]:
        expected = scope["scaled_size"]((w, h), 800, 1333)
        got = tuple(sym_eval(v, {"H": h, "W": w}) for v in out)
        assert got == expected, (h, w, got, expected)
