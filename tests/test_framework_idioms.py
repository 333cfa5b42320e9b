"""Idioms of framework originals (ultralytics-like) the interpreter follows: `overrides.pop(k, d)`
on a known dict, a progress-bar subclass (`class TQDM(tqdm)`) over a DataLoader, and frames
read with VideoCapture.grab()/retrieve()."""

from __future__ import annotations

import textwrap

from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.source import load_side


def _sinks(tmp_path, text):
    (tmp_path / "prog.py").write_text(textwrap.dedent(text))
    facts = interpret(load_side(str(tmp_path / "prog.py")), PairContext(), strict=True)
    return facts._interp.sinks


LOADER_PROG = """
import cv2
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm as tqdm_original


class TQDM(tqdm_original):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("bar_format", "{l_bar}{bar:10}{r_bar}")
        super().__init__(*args, **kwargs)


class Images(Dataset):
    def __init__(self, files):
        self.files = files

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        img = cv2.imread(self.files[i])
        img = cv2.resize(img, (640, 640))
        return torch.from_numpy(img.transpose(2, 0, 1)).float() / 255


def run(model, overrides):
    task = overrides.pop("task", None)
    batch = overrides.setdefault("batch", 4)
    loader = DataLoader(Images(["a.jpg", "b.jpg"]), batch_size=batch)
    for i, x in enumerate(TQDM(loader, desc=task)):
        model(x)


if __name__ == "__main__":
    net = torch.jit.load("det.torchscript").eval()
    run(net, {"task": "detect"})
"""


def test_tqdm_subclass_iterates_the_loader(tmp_path):
    sinks = _sinks(tmp_path, LOADER_PROG)
    assert sinks, "the image reaches the model through the progress-bar subclass"
    apis = [op.api for op in sinks[0].img.state.ops]
    assert apis[0] == "cv2.imread" and "cv2.resize" in apis


def test_without_the_subclass_init_nothing_is_iterated(tmp_path):
    """The wrapped iterable is what super().__init__ received: a subclass that never calls it is not followed."""
    text = LOADER_PROG.replace("        super().__init__(*args, **kwargs)\n", "        self.n = 0\n")
    assert not _sinks(tmp_path, text)


def test_dict_pop_and_setdefault_match_python(tmp_path):
    from portlint.analysis.events import FunctionCall

    (tmp_path / "prog.py").write_text(textwrap.dedent("""
        def main():
            overrides = {"task": "detect", "mode": "predict"}
            task = overrides.pop("task", None)
            missing = overrides.pop("model", "yolov8n.pt")
            batch = overrides.setdefault("batch", 16)
            kept = overrides.setdefault("mode", "val")
            return task, missing, batch, kept, overrides

        if __name__ == "__main__":
            main()
    """))
    facts = interpret(load_side(str(tmp_path / "prog.py")), PairContext(), strict=True)
    call = next(e for e in facts._interp.events if isinstance(e, FunctionCall) and e.func.node.name.value == "main")
    got = {k: call.locals[k] for k in ("task", "missing", "batch", "kept", "overrides")}
    overrides = {"task": "detect", "mode": "predict"}
    want = {"task": overrides.pop("task", None), "missing": overrides.pop("model", "yolov8n.pt"),
            "batch": overrides.setdefault("batch", 16), "kept": overrides.setdefault("mode", "val"), "overrides": overrides}
    assert got == want


def test_video_retrieve_is_a_video_decode(tmp_path):
    sinks = _sinks(tmp_path, """
        import cv2
        import torch

        cap = cv2.VideoCapture("test.mp4")
        net = torch.jit.load("det.torchscript")
        while True:
            cap.grab()
            ok, frame = cap.retrieve()
            if not ok:
                break
            x = torch.from_numpy(cv2.resize(frame, (640, 640)).transpose(2, 0, 1)).float() / 255
            net(x[None])
    """)
    assert sinks and sinks[0].img.state.ops[0].api == "cv2.VideoCapture.retrieve"
    assert sinks[0].img.state.ops[0].source == "video"


SAME_SHAPES = """
import cv2


def check(images, sizes):
    same_shapes = len({x.shape for x in images}) == 1
    distinct = len({s for s in sizes})
    return same_shapes, distinct


if __name__ == "__main__":
    a, b = cv2.imread("a.jpg"), cv2.imread("b.jpg")
    check([a, b], [640, 640, 320])
    check([a], [])
"""


def test_set_comprehension_counts_equal_elements_once(tmp_path):
    """`len({x.shape for x in im}) == 1` (ultralytics pre_transform's same_shapes): the shapes of two
    images may be equal, so it is not known; known constants are deduplicated as Python does."""
    from portlint.analysis.events import FunctionCall
    from portlint.analysis.values import UNKNOWN

    (tmp_path / "prog.py").write_text(textwrap.dedent(SAME_SHAPES))
    facts = interpret(load_side(str(tmp_path / "prog.py")), PairContext(), strict=True)
    calls = [e for e in facts._interp.events if isinstance(e, FunctionCall) and e.func.node.name.value == "check"]
    two, one = calls[0].locals, calls[1].locals
    assert two["same_shapes"] is UNKNOWN and two["distinct"] == 2
    assert one["same_shapes"] is True and one["distinct"] == 0


def test_or_with_an_unknown_left_is_not_true_unless_the_right_is():
    """`weights or 'yolov8s.pt'` with `weights` unknown is one of the two, not True (AutoBackend got
    weights=True); `flag or True` stays True."""
    from portlint.analysis.values import UNKNOWN

    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        prog = pathlib.Path(tmp) / "prog.py"
        prog.write_text("import sys\nw = sys.argv[1]\na = w or 'yolov8s.pt'\nb = w or True\nc = w and False\n"
                        "d = w and 0\n")
        facts = interpret(load_side(str(prog)), PairContext(), strict=True)
        env = facts._interp.entry_envs[prog.resolve()]
    assert env["a"] is UNKNOWN and env["b"] is True and env["c"] is False and env["d"] is UNKNOWN
