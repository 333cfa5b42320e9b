"""Every library portlint imports is declared in pyproject.toml, with the marker that says when
it is needed: a library missing on a supported Python (tomli on 3.10) crashes a fresh install.
CI also runs the base tests on the lowest supported Python (.ci/run)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# import name -> distribution name
DISTRIBUTIONS = {"PIL": "pillow", "cv2": "opencv-python-headless", "yaml": "pyyaml"}
# not on PyPI, or installed elsewhere: SOPHON-SAIL (the SDK), the tpu-mlir venv's modules (a
# separate Python 3.10 venv run in a subprocess), click (typer's own dependency or vendored copy)
NOT_DECLARED = {"sophon", "tpu_mlir", "pyruntime_bm", "click"}
# stdlib modules of newer Pythons, with their backport for the older ones
BACKPORTS = {"tomllib": ("tomli", "3.11")}


def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "portlint").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                found.setdefault(n.split(".")[0], set()).add(path.relative_to(ROOT).as_posix())
    return found


def _requirement(text: str) -> tuple[str, str]:
    name = re.match(r"[A-Za-z0-9_.-]+", text).group(0).lower().replace("_", "-")
    marker = text.split(";", 1)[1].strip() if ";" in text else ""
    return name, marker


def _declared() -> dict[str, str]:
    project = PYPROJECT["project"]
    out = {}
    for req in project["dependencies"]:
        name, marker = _requirement(req)
        out[name] = marker
    for extra in project.get("optional-dependencies", {}).values():
        for req in extra:
            name, marker = _requirement(req)
            out.setdefault(name, marker)
    return out


def test_every_imported_library_is_declared():
    declared = _declared()
    stdlib = set(sys.stdlib_module_names) - set(BACKPORTS)
    missing = {}
    for module, files in _imports().items():
        if module in stdlib or module == "portlint" or module in NOT_DECLARED or module in BACKPORTS:
            continue
        dist = DISTRIBUTIONS.get(module, module).lower()
        if dist not in declared:
            missing[module] = sorted(files)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_backports_are_declared_for_the_pythons_that_need_them():
    """`import tomllib` falls back to tomli on 3.10 (config.py): tomli must be a dependency there."""
    base = dict(_requirement(r) for r in PYPROJECT["project"]["dependencies"])
    lowest = re.search(r">=\s*(3\.\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    used = _imports()
    for module, (backport, since) in BACKPORTS.items():
        if module not in used or tuple(map(int, lowest.split("."))) >= tuple(map(int, since.split("."))):
            continue
        assert backport in base, f"{module} is used and Python {lowest} lacks it: declare {backport}"
        assert base[backport].replace("'", '"') == f'python_version < "{since}"', base[backport]


def test_ci_runs_the_base_tests_on_the_lowest_supported_python():
    lowest = re.search(r">=\s*(3\.\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"python{lowest}" in ci or f"PY{lowest.replace('.', '')}" in ci, "CI does not run the lowest Python"


def test_libcst_range_is_pinned_and_both_ends_are_tested():
    """analysis/fastparse.py relies on libcst's node layout (issue 15.13): the range is bounded,
    the full suite runs on its newest version and .ci/run runs the base tests on its lowest."""
    spec = next(r for r in PYPROJECT["project"]["dependencies"] if r.startswith("libcst"))
    low = re.search(r">=\s*([\d.]+)", spec)
    assert low and re.search(r"<\s*[\d.]+", spec), spec
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'libcst==${LIBCST_LOWEST}' in ci and 'LIBCST_LOWEST=$(sed' in ci
    assert re.search(r'"libcst>=\\\(\[0-9\.\]\*\\\),', ci), "the sed pattern must match pyproject's spelling"
    lowest = subprocess.run(["sed", "-n", r's/.*"libcst>=\([0-9.]*\),.*/\1/p', str(ROOT / "pyproject.toml")],
                            capture_output=True, text=True).stdout.strip()
    assert lowest == low.group(1)
