"""Rule codes, kinds and options as plain tables, and what a `--select`/`--ignore` entry means.

Why not read them from rules/registry.py: that imports every rule module (and libcst), and
reading a selection or a configuration must not (a warm check imports no rule;
tests/test_codes.py keeps these tables equal to the registry's).

Selection works as in Ruff: an entry is `ALL`, a kind (`resize-antialias`), a code (`PL101`,
any case) or a code prefix (`PL1` = PL100-PL109, `PL2`, `PL`); an entry that names no rule is an
error, never a silent no-op. When a rule is both selected and ignored, the more specific entry
wins (`--select PL101 --ignore PL1` keeps PL101); at equal specificity the ignore wins.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

CODES = {
    "PL001": "other", "PL100": "decode", "PL101": "resize-antialias", "PL102": "resize-interpolation",
    "PL103": "resize-size", "PL104": "crop", "PL105": "padding", "PL106": "channel-order",
    "PL107": "normalize", "PL108": "layout", "PL109": "dtype", "PL201": "output-order", "PL202": "nms",
    "PL203": "coco-rounding", "PL204": "dynamic-shape", "PL205": "trace", "PL206": "other", "PL207": "other",
    "PL208": "other", "PL209": "other", "PL210": "other", "PL211": "other", "PL212": "other",
    "PL213": "other",
}
# [tool.portlint.rules.CODE] keys each rule reads, with their type
RULE_OPTIONS: dict[str, dict[str, type]] = {"PL100": {"exif": bool}}

_CODE_LIKE = re.compile(r"PL\d{0,3}", re.I)
_FULL = 5  # specificity of a full code (and of a kind)


class UnknownSelector(ValueError):
    """An entry that names no rule; the message says what is accepted."""


def resolve(entry: str) -> str:
    """The canonical form of one selection entry: `ALL`, a kind, or an upper-case code or prefix."""
    text = entry.strip()
    if text.upper() == "ALL":
        return "ALL"
    if text in CODES.values():
        return text
    if _CODE_LIKE.fullmatch(text):
        code = text.upper()
        if any(c.startswith(code) for c in CODES):
            return code
    raise UnknownSelector(f"{entry!r} is not a rule code, code prefix (PL1) or kind; `portlint rules` lists them")


def resolve_all(entries: Iterable[str]) -> list[str]:
    return [resolve(e) for e in entries if e.strip()]


def _specificity(selector: str, code: str, kind: str) -> int:
    """How specifically `selector` names the rule (-1: it does not)."""
    if selector == "ALL":
        return 0
    if selector == kind:
        return _FULL
    if selector.startswith("PL") and code.startswith(selector):
        return len(selector)
    return -1


def selected(code: str, kind: str, select: Iterable[str], ignore: Iterable[str]) -> bool:
    select, ignore = list(select), list(ignore)
    chosen = max((_specificity(s, code, kind) for s in select), default=-1) if select else 0
    dropped = max((_specificity(s, code, kind) for s in ignore), default=-1)
    return chosen >= 0 and chosen > dropped


def code_for(entry: str) -> Optional[str]:
    """The one rule an entry names (`portlint rule`): a code or a kind of one rule, else None."""
    text = entry.strip()
    if text.upper() in CODES:
        return text.upper()
    found = [c for c, k in CODES.items() if k == text]
    return found[0] if len(found) == 1 else None
