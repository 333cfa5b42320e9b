"""--ported-run: the port run with the arguments its README or test script gives, as sys.argv
(a documented `--conf_thresh 0.3` is what the port's results come from, not the argparse default)."""

from __future__ import annotations

import json
import textwrap

import pytest

ORIGINAL = """
import cv2
import numpy as np
import torch


def main():
    model = torch.jit.load("m.pt").eval()
    img = cv2.imread("a.jpg")
    img = cv2.resize(img, (256, 256))
    x = torch.from_numpy(img.transpose(2, 0, 1)).float().unsqueeze(0) / 255.0
    print(model(x))


if __name__ == "__main__":
    main()
"""

PORTED = """
import argparse

import cv2
import numpy as np
import sophon.sail as sail


def main(args):
    net = sail.Engine(args.bmodel, 0, sail.IOMode.SYSIO)
    graph = net.get_graph_names()[0]
    name = net.get_input_names(graph)[0]
    img = cv2.imread(args.input)
    img = cv2.resize(img, (args.size, args.size))
    x = np.expand_dims(img.transpose(2, 0, 1).astype(np.float32) / 255.0, 0)
    print(net.process(graph, {name: x}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", default="a.jpg")
    parser.add_argument("--bmodel", default="m.bmodel")
    parser.add_argument("--size", type=int, default=224)
    main(parser.parse_args())
"""


def _check(tmp_path, capsys, *extra):
    from portlint.cli import main

    (tmp_path / "original.py").write_text(textwrap.dedent(ORIGINAL))
    (tmp_path / "ported.py").write_text(textwrap.dedent(PORTED))
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path / "original.py"), str(tmp_path / "ported.py"), "--no-cache", "--format", "json", *extra])
    out = capsys.readouterr()
    return exc.value.code, out


def test_the_documented_arguments_are_the_ports_argv(tmp_path, capsys):
    code, out = _check(tmp_path, capsys)
    assert code == 1 and any(f["code"] == "PL103" for f in json.loads(out.out)["findings"])  # 224 vs 256
    code, out = _check(tmp_path, capsys, "--ported-run", "python ported.py --size 256")
    assert code == 0, out.out
    assert not json.loads(out.out)["findings"]


def test_a_command_naming_no_ported_file_is_one_line_exit_2(tmp_path, capsys):
    code, out = _check(tmp_path, capsys, "--ported-run", "python nosuch.py --size 256")
    assert code == 2
    err = out.err.strip()
    assert err.count("\n") == 0 and "--ported-run" in err and "ported side" in err


def test_pyproject_pairs_take_ported_run(tmp_path, capsys, monkeypatch):
    from portlint.cli import main

    (tmp_path / "original.py").write_text(textwrap.dedent(ORIGINAL))
    (tmp_path / "ported.py").write_text(textwrap.dedent(PORTED))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.portlint]\npairs = [{original = "original.py", ported = "ported.py", '
        'ported-run = "python ported.py --size 256"}]\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["check", "--no-cache"])
    assert exc.value.code == 0, capsys.readouterr().out


def test_a_threshold_set_by_the_command_is_fixed_in_the_command_not_the_default(capsys):
    """The finding points at the option's add_argument; its fix is display-only and says the value
    comes from the command (editing the default would not change what runs)."""
    from pathlib import Path

    from portlint.cli import main

    case = Path(__file__).resolve().parent / "fixtures" / "PL202" / "post_nms_iou_threshold_ported_run"
    with pytest.raises(SystemExit):
        main(["check", str(case / "original.py"), str(case / "ported.py"), "--no-cache", "--format", "json",
              "--ported-run", "python3 ported.py --nms_thresh 0.5"])
    nms = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["code"] == "PL202" and "IoU" in f["message"]]
    assert len(nms) == 1 and nms[0]["ported"]["line"] == 103
    assert nms[0]["fix"]["applicability"] == "display-only"
    assert "--nms_thresh 0.5 in the command it is run with" in nms[0]["fix"]["description"]
