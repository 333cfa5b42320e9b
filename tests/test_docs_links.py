"""What a user needs ships in the repository (issue 15.11): every Markdown file the README, the
docs and the rule pages cite exists here, and none points outside the repository."""

from __future__ import annotations

import re

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "rules").glob("*.md"))]
CITED = re.compile(r"(?<![\w/.:-])((?:[\w-]+/)*[\w-]+\.md)\b")


def test_every_cited_page_exists():
    missing = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert "/work/" not in text and "shared/reference" not in text, f"{page.name} points outside the repository"
        for name in CITED.findall(text):  # "D:docs/FAQ_EN.md" is a sophon-demo file, not ours
            if "NNN" in name:
                continue  # a template (docs/architecture.md: rules/PLNNN.md)
            if not any((base / name).is_file() for base in (ROOT, page.parent, ROOT / "docs", ROOT / "rules")):
                missing.append(f"{page.relative_to(ROOT)}: {name}")
    assert not missing, missing


def test_the_reference_pages_ship_in_docs():
    for name in ("contract.md", "sail.md", "alignment.md", "simulator.md", "verify.md", "facts.md"):
        assert (ROOT / "docs" / name).is_file(), name
