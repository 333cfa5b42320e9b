"""The rule documentation: one Markdown file per rule in the repository's top-level `rules/`
folder. Each starts with a front matter block that repeats the rule's metadata (code, kind,
severity, fix, title: rules/registry.py is the table, tests/test_rule_docs.py keeps them equal),
followed by the sections What it does / Why it matters / Example original / Example ported / Fix.
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
    fix: str  # the applicabilities its fixes can have, "safe, display-only", or "none"
    title: str
    doc: str
    path: Path


def rules_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
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


def front_matter(code: str) -> Rule:
    """A rule's doc page as written, front matter included (for the test that checks it)."""
    return _parse(rules_dir() / f"{code}.md")


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule of the registry with its documentation; metadata from the registry."""
    from portlint.rules.registry import RULES

    out = {}
    for code, meta in RULES.items():
        path = rules_dir() / f"{code}.md"
        doc = _parse(path).doc if path.is_file() else ""
        out[code] = Rule(meta.code, meta.kind, meta.severity, meta.fix, meta.title, doc, path)
    return out


def rule(code: str) -> Rule:
    """A rule by its code (any case) or its kind, as `--select` names them."""
    from portlint.codes import code_for

    found = all_rules().get(code_for(code) or "")
    if found is None:
        raise PortlintError(f"unknown rule {code!r}: give a code or a kind; `portlint rules` lists them")
    return found
