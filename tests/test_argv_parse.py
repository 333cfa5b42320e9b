"""The argparse model's reading of a command line (analysis/apis/argv_parse.py) against CPython's
argparse itself, on the option shapes real scripts declare."""

from __future__ import annotations

import argparse

import pytest

from portlint.analysis.apis.argv_parse import OptionSpec, parse_words
from portlint.analysis.values import UNKNOWN, ApiRef

TYPES = {int: ApiRef("builtins.int"), float: ApiRef("builtins.float"), str: ApiRef("builtins.str"), None: None}

# (option strings, keyword arguments) as scripts write them
DECLARED = [
    (("config",), {}),
    (("--input",), {"type": str, "default": "../datasets/test"}),
    (("--conf_thresh",), {"type": float, "default": 0.001}),
    (("--nms-thresh",), {"type": float, "default": 0.6}),
    (("--dev_id", "-d"), {"type": int, "default": 0}),
    (("--img-size", "--imgsz"), {"type": int, "nargs": "+", "default": [640]}),
    (("--half",), {"action": "store_true"}),
    (("--no-rect",), {"action": "store_false", "dest": "rect"}),
    (("-v",), {"action": "count", "default": 0}),
    (("--classes",), {"nargs": "*", "type": int}),
    (("--save",), {"nargs": "?", "const": "out", "default": None}),
    (("--tag",), {"action": "append"}),
]


def _real():
    parser = argparse.ArgumentParser()
    for names, kw in DECLARED:
        parser.add_argument(*names, **kw)
    return parser


def _model():
    specs, defaults = [], {}
    for names, kw in DECLARED:
        longs = [n for n in names if n.startswith("--")]
        dest = kw.get("dest") or (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
        specs.append(OptionSpec(names, dest, kw.get("action"), kw.get("nargs"), TYPES[kw.get("type")], kw.get("const")))
        defaults[dest] = kw.get("default", False if kw.get("action") == "store_true" else
                                True if kw.get("action") == "store_false" else None)
    return specs, defaults


@pytest.mark.parametrize("line", [
    "cfg.py",
    "cfg.py --conf_thresh 0.3 --nms-thresh=0.5",
    "--conf_thresh=0.25 cfg.py --dev_id 2",
    "cfg.py -d3 --half --no-rect",
    "cfg.py --img-size 480 640 --half",
    "cfg.py --imgsz 320",
    "cfg.py --conf 0.4",  # a unique prefix
    "cfg.py -v -v --classes 0 2 5",
    "cfg.py --classes --save",
    "cfg.py --save result --tag a --tag b",
    "cfg.py --input ../img/bus.jpg --conf_thresh -0.5",
    "cfg.py -- --not-an-option",
])
def test_values_match_cpython_argparse(line):
    words = line.split()
    specs, defaults = _model()
    ours, rest = parse_words(specs, defaults, words)
    if line.endswith("-- --not-an-option"):  # argparse: an extra argument (parse_known_args leaves it)
        real, real_rest = _real().parse_known_args(words)
        assert ours == vars(real) and rest == real_rest == ["--not-an-option"]
        return
    assert ours == vars(_real().parse_args(words)) and rest == []


def test_unknown_options_are_left_over_as_parse_known_args_does():
    words = ["cfg.py", "--weights", "yolov5s.pt", "--conf_thresh", "0.3"]
    real, real_rest = _real().parse_known_args(words)
    specs, defaults = _model()
    ours, rest = parse_words(specs, defaults, words)
    assert ours["conf_thresh"] == real.conf_thresh == 0.3
    assert "--weights" in rest and "--weights" in real_rest


def test_a_value_the_model_cannot_read_is_unknown_not_guessed():
    specs = [OptionSpec(("--flag",), "flag", None, None, object()), OptionSpec(("--n",), "n", None, None, ApiRef("builtins.int"))]
    values, _ = parse_words(specs, {"flag": True, "n": 1}, ["--flag", "no", "--n", "ten"])
    assert values["flag"] is UNKNOWN and values["n"] is UNKNOWN
