"""Reads `[tool.portlint]` from pyproject.toml.

Configuration mistakes must be one actionable line (file + key), never a traceback, so every
value is type-checked here and the rest of portlint can trust a `Config`.

    [tool.portlint]
    pairs = [{original = "orig/classify.py", ported = "port/classify.py",
              bmodel = "models/resnet.bmodel", input-shape = [1, 3, 224, 224]}]
    select = ["PL101", "normalize"]
    ignore = ["PL203"]
    cache-dir = ".portlint_cache"

    [tool.portlint.rules.PL100]
    exif = true

Paths in the file are relative to the pyproject's folder. They are shown to the user (and used)
relative to the current directory, so `port/classify.py` stays `port/classify.py` when portlint
runs beside the pyproject and becomes `../port/classify.py` from a subfolder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from portlint.errors import PortlintError

_TOP_KEYS = {"pairs", "select", "ignore", "rules", "cache-dir"}
_PAIR_KEYS = {"original", "ported", "bmodel", "input-shape", "original-run", "ported-run", "image-size"}


@dataclass(frozen=True)
class PairConfig:
    original: str
    ported: str
    bmodel: Optional[str] = None
    input_shape: Optional[tuple[int, ...]] = None
    original_runs: tuple[str, ...] = ()
    ported_runs: tuple[str, ...] = ()
    image_sizes: tuple = ()


@dataclass
class Config:
    path: Optional[Path] = None  # the pyproject.toml read, or None
    root: Optional[Path] = None  # its folder
    pairs: list[PairConfig] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    rule_options: dict[str, dict] = field(default_factory=dict)
    cache_dir: Optional[Path] = None


def load_config(explicit: Optional[str], start: Path) -> Config:
    """The configuration in force: `explicit` (a pyproject.toml or its folder) or the nearest
    pyproject.toml at or above `start` that has a [tool.portlint] table."""
    start = Path(start).absolute()
    if explicit:
        path = Path(explicit)
        if path.is_dir():
            path = path / "pyproject.toml"
        if not path.is_file():
            raise PortlintError(f"--config {explicit}: no such file")
        table = _read_table(path, _shown(path, start))
        return _build(table, path.absolute(), start) if table is not None else Config(path.absolute(), path.absolute().parent)
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        if path.is_file():
            table = _read_table(path, _shown(path, start))
            if table is not None:
                return _build(table, path, start)
    return Config()


def _shown(path: Path, start: Path) -> str:
    """The pyproject's name as the user would type it from `start`."""
    try:
        return os.path.relpath(path.absolute(), start)
    except ValueError:  # another drive on Windows
        return str(path)


def _read_table(path: Path, shown: str) -> Optional[dict]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PortlintError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if b"portlint" not in raw:  # not ours: do not fail on someone else's broken pyproject
        return None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PortlintError(f"{shown}: invalid TOML: {exc}") from None
    tool = data.get("tool", {})
    table = tool.get("portlint") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise PortlintError(f"{shown}: [tool.portlint] must be a table")
    return table


class _Checker:
    """Type checks with errors naming the file and the key."""

    def __init__(self, shown: str):
        self.shown = shown

    def fail(self, key: str, problem: str) -> PortlintError:
        return PortlintError(f"{self.shown}: [tool.portlint] {key} {problem}")

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def strings(self, value: Any, key: str) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(key, "must be a list of strings")
        return [self.string(v, f"{key}[{i}]") for i, v in enumerate(value)]

    def shape(self, value: Any, key: str) -> tuple[int, ...]:
        ok = isinstance(value, list) and len(value) in (3, 4) and all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value)
        if not ok:
            raise self.fail(key, "must be a list of 3 or 4 positive integers, e.g. [1, 3, 224, 224]")
        return tuple(value) if len(value) == 4 else (1, *value)


def _build(table: dict, path: Path, start: Path) -> Config:
    root = path.parent
    check = _Checker(_shown(path, start))
    for key in table:
        if key.replace("_", "-") not in _TOP_KEYS:
            raise check.fail(key, f"is not a known key (expected one of: {', '.join(sorted(_TOP_KEYS))})")
    table = {k.replace("_", "-"): v for k, v in table.items()}

    def place(p: str) -> str:
        return _place(p, root, start)

    cfg = Config(path=path, root=root, cache_dir=root / ".portlint_cache")
    pairs = table.get("pairs", [])
    if not isinstance(pairs, list):
        raise check.fail("pairs", "must be a list of tables like {original = \"...\", ported = \"...\"}")
    for i, item in enumerate(pairs):
        cfg.pairs.append(_pair(item, f"pairs[{i}]", check, place))
    cfg.select = _codes(check.strings(table.get("select", []), "select"), "select", check)
    cfg.ignore = _codes(check.strings(table.get("ignore", []), "ignore"), "ignore", check)
    rules = table.get("rules", {})
    if not isinstance(rules, dict):
        raise check.fail("rules", "must be a table of per-rule tables, e.g. [tool.portlint.rules.PL202]")
    for code, options in rules.items():
        if not isinstance(options, dict):
            raise check.fail(f"rules.{code}", "must be a table of options")
        cfg.rule_options[code.upper()] = _rule_options(code.upper(), options, check)
    if "cache-dir" in table:
        cfg.cache_dir = root / check.string(table["cache-dir"], "cache-dir")
    return cfg


def _pair(item: Any, key: str, check: _Checker, place) -> PairConfig:
    if not isinstance(item, dict):
        raise check.fail(key, "must be a table like {original = \"...\", ported = \"...\"}")
    item = {k.replace("_", "-"): v for k, v in item.items()}
    for k in item:
        if k not in _PAIR_KEYS:
            raise check.fail(f"{key}.{k}", f"is not a known key (expected one of: {', '.join(sorted(_PAIR_KEYS))})")
    for required in ("original", "ported"):
        if required not in item:
            raise check.fail(f"{key}.{required}", "is missing")
    original = place(check.string(item["original"], f"{key}.original"))
    ported = place(check.string(item["ported"], f"{key}.ported"))
    bmodel = place(check.string(item["bmodel"], f"{key}.bmodel")) if "bmodel" in item else None
    shape = check.shape(item["input-shape"], f"{key}.input-shape") if "input-shape" in item else None
    runs = tuple(check.strings(item["original-run"], f"{key}.original-run")) if "original-run" in item else ()
    ported_runs = tuple(check.strings(item["ported-run"], f"{key}.ported-run")) if "ported-run" in item else ()
    sizes = ()
    if "image-size" in item:
        try:
            sizes = tuple(parse_image_size(t) for t in check.strings(item["image-size"], f"{key}.image-size"))
        except PortlintError as exc:
            raise check.fail(f"{key}.image-size", str(exc).split(": ", 1)[-1]) from None
    return PairConfig(original, ported, bmodel, shape, runs, ported_runs, sizes)


def parse_image_size(text: str) -> tuple[int, int]:
    """`2048x1024` (width x height, as cv2 and PIL say sizes) -> (h, w) = (1024, 2048)."""
    parts = str(text).lower().replace(",", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise PortlintError(f"--image-size {text!r}: expected WIDTHxHEIGHT, e.g. 2048x1024") from None
    if w <= 0 or h <= 0 or w > 65535 or h > 65535:
        raise PortlintError(f"--image-size {text!r}: expected positive sizes up to 65535, e.g. 2048x1024")
    return h, w


def _place(p: str, root: Path, start: Path) -> str:
    """A configured path as the user should see and use it from `start`."""
    if os.path.isabs(p) or root.absolute() == start:
        return p
    try:
        return os.path.relpath(root / p, start)
    except ValueError:  # another drive on Windows
        return str(root / p)


def _codes(values: list[str], key: str, check: _Checker) -> list[str]:
    """Rule codes (PL101), code prefixes (PL1), kinds (resize-antialias) or ALL; typos fail here, not silently."""
    from portlint.codes import UnknownSelector, resolve

    out = []
    for i, v in enumerate(values):
        try:
            out.append(resolve(v))
        except UnknownSelector as exc:
            raise check.fail(key if key == "rules" else f"{key}[{i}]", str(exc)) from None
    return out


def _rule_options(code: str, options: dict, check: _Checker) -> dict:
    """One [tool.portlint.rules.CODE] table: only the keys that rule reads, of their type."""
    from portlint.codes import CODES, RULE_OPTIONS

    if code not in CODES:
        raise check.fail(f"rules.{code}", "must name one rule by its code, e.g. [tool.portlint.rules.PL100]")
    known = RULE_OPTIONS.get(code, {})
    out = {}
    for key, value in options.items():
        name = key.replace("_", "-")
        if name not in known:
            expected = f"expected one of: {', '.join(sorted(known))}" if known else f"{code} has no options"
            raise check.fail(f"rules.{code}.{key}", f"is not a known key ({expected})")
        if known[name] is bool and not isinstance(value, bool) or known[name] is not bool and not isinstance(value, known[name]):
            raise check.fail(f"rules.{code}.{key}", f"must be a {known[name].__name__}")
        out[name] = value
    return out
