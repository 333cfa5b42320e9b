"""--original-run: the command that starts a framework original (analysis/runspec.py), and the
certain raises of eval on known text (analysis/raising.py, apis/eval_api.py)."""

from __future__ import annotations

import textwrap

import pytest

from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.runspec import resolve_run
from portlint.analysis.source import load_side
from portlint.errors import PortlintError


def _tree(root, files: dict):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return load_side(str(root))


PKG = {"kit/__init__.py": "", "kit/cli.py": "def main():\n    pass\n", "tools/run.py": "print('x')\n"}


def test_console_script_from_pyproject(tmp_path):
    side = _tree(tmp_path, {**PKG, "pyproject.toml": '[project.scripts]\nkit = "kit.cli:main"\n'})
    run = resolve_run("kit predict model=a.pt source='my img.jpg'", side)
    assert run.file.path.name == "cli.py" and run.function == "main"
    assert run.argv == ["kit", "predict", "model=a.pt", "source=my img.jpg"]
    assert any(p.endswith("pyproject.toml") for p in run.read)  # in the cache key


def test_console_script_from_setup_cfg_and_setup_py(tmp_path):
    side = _tree(tmp_path / "a", {**PKG, "setup.cfg": "[options.entry_points]\nconsole_scripts =\n    kit = kit.cli:main\n"})
    assert resolve_run("kit", side).function == "main"
    side = _tree(tmp_path / "b", {**PKG, "setup.py": "from setuptools import setup\n"
                                  "setup(name='kit', entry_points={'console_scripts': ['kit=kit.cli:main']})\n"})
    assert resolve_run("kit x=1", side).argv == ["kit", "x=1"]


def test_module_function_file_and_dash_m(tmp_path):
    side = _tree(tmp_path, PKG)
    assert resolve_run("kit.cli:main a=1", side).function == "main"
    run = resolve_run("python tools/run.py --x 1", side)
    assert run.function is None and run.argv == ["tools/run.py", "--x", "1"]
    run = resolve_run("python3 -m kit.cli val", side)
    assert run.function is None and run.file.path.name == "cli.py" and run.argv[1:] == ["val"]


CYCLE = {  # the package's __init__ imports an engine that imports the entry module back
    "kit/__init__.py": "from kit.engine import Engine\n",
    "kit/util.py": "DEFAULTS = {'imgsz': 640}\n",
    "kit/engine.py": "from kit.cfg import get_cfg\n\n\nclass Engine:\n    def __init__(self):\n"
                     "        self.args = get_cfg()\n",
    "kit/cfg.py": "from kit.util import DEFAULTS\n\n\ndef get_cfg(overrides=None):\n"
                  "    return {**DEFAULTS, **(overrides or {})}\n\n\ndef main():\n"
                  "    from kit import Engine\n    size = Engine().args['imgsz']\n",
}


def test_console_script_imports_its_packages_first(tmp_path):
    """As importlib does for `kit.cfg:main`: kit/__init__.py runs before kit/cfg.py, so the engine
    it imports finds get_cfg defined (run first, kit/cfg.py would be half-run when the engine reads it)."""
    side = _tree(tmp_path, CYCLE)
    run = resolve_run("kit.cfg:main", side)
    assert [p.path.name for p in run.packages] == ["__init__.py"]
    facts = interpret(side, PairContext(), strict=True, runs=[run])
    from portlint.analysis.events import FunctionCall

    main = [e for e in facts._interp.events if isinstance(e, FunctionCall) and e.func.node.name.value == "main"]
    assert main and main[0].locals["size"] == 640


@pytest.mark.parametrize("command", ["", "python", "nosuch predict", "kit.nosuch:main", "missing.py", "-m", "kit.cli:1x"])
def test_bad_commands_are_one_line_errors(tmp_path, command):
    side = _tree(tmp_path, PKG)
    with pytest.raises(PortlintError) as exc:
        resolve_run(command, side)
    assert "\n" not in str(exc.value)


def test_cli_unknown_script_exits_2_with_one_line(tmp_path, capsys):
    from portlint.cli import main

    _tree(tmp_path / "o", PKG)
    (tmp_path / "p.py").write_text("import cv2\nimg = cv2.imread('a.jpg')\n")
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path / "o"), str(tmp_path / "p.py"), "--no-cache", "--original-run", "yolo predict"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "console script" in err


SMART = """
import contextlib
import sys


def smart_value(v):
    with contextlib.suppress(Exception):
        return eval(v)
    return v


def strict_value(v):
    with contextlib.suppress(KeyError):
        return eval(v)
    return "not reached"


def main():
    result = {}
    for word in sys.argv[1:]:
        key, value = word.split("=", 1)
        result[key] = smart_value(value)
    result["strict"] = strict_value("img.jpg")
    result["after"] = True
"""


def _run_main(tmp_path, command):
    side = _tree(tmp_path, {"smart.py": SMART})
    facts = interpret(side, PairContext(), strict=True, runs=[resolve_run(command, side)])
    from portlint.analysis.events import FunctionCall

    calls = [e for e in facts._interp.events if isinstance(e, FunctionCall) and e.func.node.name.value == "main"]
    return calls[0].locals


def test_eval_of_known_text_literal_or_certain_name_error(tmp_path):
    env = _run_main(tmp_path, "smart:main imgsz=640 conf=0.25 shape=[1,3] source=bus.jpg model=yolov8s.pt")
    result = env["result"]
    # a literal is its value; an undefined name raises NameError, which suppress(Exception) swallows
    assert {k: result[k] for k in ("imgsz", "conf", "shape", "source", "model")} == {
        "imgsz": 640, "conf": 0.25, "shape": [1, 3], "source": "bus.jpg", "model": "yolov8s.pt"}
    # suppress(KeyError) does not catch NameError: the raise propagates out of strict_value and main
    assert "strict" not in result and "after" not in result


def test_eval_facts_match_python():
    """The semantics the analyser assumes, checked on the real interpreter."""
    import contextlib

    def smart_value(v):
        with contextlib.suppress(Exception):
            return eval(v, {})
        return v

    assert [smart_value(v) for v in ("640", "0.25", "[1, 3]", "bus.jpg", "yolov8s.pt", "a b")] == [
        640, 0.25, [1, 3], "bus.jpg", "yolov8s.pt", "a b"]
    with pytest.raises(NameError):
        with contextlib.suppress(KeyError):
            eval("img.jpg", {})
