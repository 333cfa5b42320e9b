"""[tool.portlint] loading: values, path placement, and one-line errors naming file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portlint.config import Config, PairConfig, load_config
from portlint.errors import PortlintError


def write(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n\n" + body, encoding="utf-8")
    return path


FULL = """
[tool.portlint]
pairs = [
  {original = "orig/classify.py", ported = "port/classify.py", bmodel = "m.bmodel", input-shape = [1, 3, 224, 224]},
  {original = "orig/detect", ported = "/abs/port/detect", input_shape = [3, 640, 640]},
]
select = ["PL101", "normalize"]
ignore = ["pl203"]

[tool.portlint.rules.PL100]
exif = true
"""


def test_full_config(tmp_path):
    path = write(tmp_path, FULL)
    cfg = load_config(None, tmp_path)
    assert cfg.path == path and cfg.root == tmp_path
    assert cfg.pairs == [
        PairConfig("orig/classify.py", "port/classify.py", "m.bmodel", (1, 3, 224, 224)),
        PairConfig("orig/detect", "/abs/port/detect", None, (1, 3, 640, 640)),
    ]
    assert cfg.select == ["PL101", "normalize"]
    assert cfg.ignore == ["PL203"]
    assert cfg.rule_options == {"PL100": {"exif": True}}
    assert cfg.cache_dir == tmp_path / ".portlint_cache"


def test_walks_up_and_shows_paths_from_the_current_folder(tmp_path):
    write(tmp_path, FULL)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    cfg = load_config(None, sub)
    assert cfg.root == tmp_path
    assert cfg.pairs[0].original == os.path.join("..", "..", "orig", "classify.py")
    assert cfg.pairs[0].bmodel == os.path.join("..", "..", "m.bmodel")
    assert cfg.pairs[1].ported == "/abs/port/detect"  # absolute stays absolute
    assert (sub / cfg.pairs[0].ported).resolve() == (tmp_path / "port" / "classify.py").resolve()


def test_skips_a_pyproject_without_the_table(tmp_path):
    write(tmp_path, FULL)
    inner = tmp_path / "pkg"
    inner.mkdir()
    write(inner, "[tool.black]\nline-length = 100\n")
    assert load_config(None, inner).root == tmp_path


def test_no_pyproject_gives_an_empty_config(tmp_path):
    # tmp_path's parents hold no pyproject with [tool.portlint] on a sane machine
    assert load_config(None, tmp_path) == Config()


def test_no_table_gives_an_empty_config(tmp_path):
    write(tmp_path, "[tool.ruff]\nline-length = 100\n")
    cfg = load_config(None, tmp_path)
    assert cfg.pairs == [] and cfg.select == [] and cfg.rule_options == {}


def test_explicit_path_file_or_folder(tmp_path, monkeypatch):
    other = tmp_path / "cfg"
    other.mkdir()
    write(other, '[tool.portlint]\npairs = [{original = "o.py", ported = "p.py"}]\n')
    work = tmp_path / "work"
    work.mkdir()
    for explicit in (str(other / "pyproject.toml"), str(other)):
        cfg = load_config(explicit, work)
        assert cfg.pairs == [PairConfig(os.path.join("..", "cfg", "o.py"), os.path.join("..", "cfg", "p.py"))]
    with pytest.raises(PortlintError, match="--config nope.toml: no such file"):
        load_config("nope.toml", work)


def test_cache_dir_option(tmp_path):
    write(tmp_path, '[tool.portlint]\ncache-dir = "build/plcache"\n')
    assert load_config(None, tmp_path).cache_dir == tmp_path / "build" / "plcache"


@pytest.mark.parametrize("body, message", [
    ('pairs = {original = "a"}', "pyproject.toml: [tool.portlint] pairs must be a list"),
    ('pairs = ["a.py"]', "pyproject.toml: [tool.portlint] pairs[0] must be a table"),
    ('pairs = [{original = 3, ported = "p.py"}]', "pyproject.toml: [tool.portlint] pairs[0].original must be a non-empty string"),
    ('pairs = [{ported = "p.py"}]', "pyproject.toml: [tool.portlint] pairs[0].original is missing"),
    ('pairs = [{original = "o.py", ported = "p.py", bmodle = "m"}]', "pyproject.toml: [tool.portlint] pairs[0].bmodle is not a known key"),
    ('pairs = [{original = "o.py", ported = "p.py", input-shape = [224, 224]}]', "pairs[0].input-shape must be a list of 3 or 4 positive integers"),
    ('pairs = [{original = "o.py", ported = "p.py", input-shape = [1, 3, 0, 224]}]', "pairs[0].input-shape must be"),
    ('pairs = [{original = "o.py", ported = "p.py", input-shape = "1,3,224,224"}]', "pairs[0].input-shape must be"),
    ('pairs = [{original = "o.py", ported = "p.py", input-shape = [true, 3, 4]}]', "pairs[0].input-shape must be"),
    ('select = "PL101"\nselct = []', "pyproject.toml: [tool.portlint] selct is not a known key"),
    ('select = [1]', "[tool.portlint] select[0] must be a non-empty string"),
    ('ignore = ["PL999"]', "[tool.portlint] ignore[0] 'PL999' is not a rule code, code prefix (PL1) or kind"),
    ('select = ["PL3"]', "[tool.portlint] select[0] 'PL3' is not a rule code"),
    ('rules = 3', "[tool.portlint] rules must be a table"),
    ('rules.PL202 = 3', "[tool.portlint] rules.PL202 must be a table"),
    ('rules.PL777 = {a = 1}', "[tool.portlint] rules.PL777 must name one rule by its code"),
    # issue 15.12: unknown keys under [tool.portlint.rules.*] were accepted silently
    ('rules.PL202 = {iou-tolerance = 0.01}', "[tool.portlint] rules.PL202.iou-tolerance is not a known key (PL202 has no options)"),
    ('rules.PL100 = {exfi = true}', "[tool.portlint] rules.PL100.exfi is not a known key (expected one of: exif)"),
    ('rules.PL100 = {exif = "yes"}', "[tool.portlint] rules.PL100.exif must be a bool"),
])
def test_wrong_values_name_file_and_key(tmp_path, body, message):
    write(tmp_path, "[tool.portlint]\n" + body + "\n")
    with pytest.raises(PortlintError) as err:
        load_config(None, tmp_path)
    text = str(err.value)
    assert message in text and "\n" not in text
    assert text.startswith("pyproject.toml: ")


def test_invalid_toml_is_one_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.portlint]\npairs = [\n", encoding="utf-8")
    with pytest.raises(PortlintError) as err:
        load_config(None, tmp_path)
    assert str(err.value).startswith("pyproject.toml: invalid TOML") and "\n" not in str(err.value)


def test_error_names_the_file_relative_to_where_portlint_runs(tmp_path):
    write(tmp_path, '[tool.portlint]\npairs = 1\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    with pytest.raises(PortlintError, match=r"^\.\./pyproject\.toml: \[tool\.portlint\] pairs must be a list"):
        load_config(None, sub)


def test_cli_bad_config_is_one_line_and_exit_2(tmp_path):
    write(tmp_path, '[tool.portlint]\npairs = [{original = 1, ported = "p.py"}]\n')
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "portlint", "check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pyproject.toml: [tool.portlint] pairs[0].original must be a non-empty string" in lines[0]


def test_config_accepts_prefixes_and_lower_case_codes(tmp_path):
    write(tmp_path, '[tool.portlint]\nselect = ["PL1", "pl201"]\nignore = ["padding"]\n')
    cfg = load_config(None, tmp_path)
    assert cfg.select == ["PL1", "PL201"] and cfg.ignore == ["padding"]
