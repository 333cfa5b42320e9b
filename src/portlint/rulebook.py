"""The rule catalogue: one Markdown file per rule in the repository's top-level `rules/` folder.

Each file starts with a front matter block (code, kind, severity, fix, title) followed by the
documentation sections (What it does / Why it matters / Example original / Example ported / Fix).
The wheel ships the folder as `portlint/_rules`; a source checkout reads `rules/` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portlint.errors import PortlintError


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    severity: str
    fix: str  # safe | unsafe | display-only | none
    title: str
    doc: str
    path: Path


def rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_rules", here.parent.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise PortlintError("the rule documentation folder is missing from this installation")


def _parse(path: Path) -> Rule:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise PortlintError(f"{path}: rule file has no front matter")
    head, _, body = text[4:].partition("\n---\n")
    meta = {}
    for line in head.splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip()
    missing = {"code", "kind", "severity", "fix", "title"} - meta.keys()
    if missing:
        raise PortlintError(f"{path}: front matter lacks {', '.join(sorted(missing))}")
    return Rule(meta["code"], meta["kind"], meta["severity"], meta["fix"], meta["title"], body.strip() + "\n", path)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    rules = {}
    for path in sorted(rules_dir().glob("PL*.md")):
        rule = _parse(path)
        rules[rule.code] = rule
    return rules


def rule(code: str) -> Rule:
    found = all_rules().get(code.upper())
    if found is None:
        raise PortlintError(f"unknown rule {code!r}; `portlint rules` lists them")
    return found


def code_for_kind(kind: str) -> str:
    """The primary rule code of a finding kind."""
    for r in all_rules().values():
        if r.kind == kind:
            return r.code
    raise KeyError(kind)
