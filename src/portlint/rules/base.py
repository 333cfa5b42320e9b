"""What every rule module declares: its metadata (the one table of codes, kinds, severities and
fix applicabilities), and the finding it builds from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from portlint.analysis.image import Site
from portlint.analysis.locate import locate
from portlint.analysis.notebook import is_notebook
from portlint.findings import APPLICABILITIES, KINDS, SEVERITIES, Finding, Fix, Related


@dataclass(frozen=True)
class RuleMeta:
    """A rule's identity. `fixes` lists every applicability a fix of this rule can have (empty:
    the rule never offers a fix); the rule's doc page (`rules/<code>.md`) repeats it."""

    code: str
    kind: str
    severity: str
    fixes: tuple = ()
    title: str = ""

    def __post_init__(self):
        assert self.kind in KINDS, self.kind
        assert self.severity in SEVERITIES, self.severity
        assert all(f in APPLICABILITIES for f in self.fixes), self.fixes

    @property
    def fix(self) -> str:
        """As the doc front matter writes it: `safe`, `safe, display-only` or `none`."""
        return ", ".join(self.fixes) if self.fixes else "none"

    def finding(self, message: str, ported: Optional[Site], original: Optional[Site],
                severity: Optional[str] = None, fix: Optional[Fix] = None, related=()) -> Finding:
        """`related`: (Site, note) pairs for the other places involved; None sites are left out.
        tests/test_rule_docs.py checks that every fix has an applicability listed in `fixes`."""
        if fix is not None and fix.edits and any(is_notebook(e.path) for e in fix.edits):
            # a notebook is JSON: edits computed on its joined code cells are shown, never written
            fix = Fix("display-only", fix.description + " (in a notebook: edit the cell by hand)")
        return Finding(code=self.code, kind=self.kind, severity=severity or self.severity, message=message,
                       ported=locate(ported), original=locate(original), fix=fix,
                       related=_related(related))


def _related(pairs) -> list[Related]:
    out = []
    for site, note in pairs:
        loc = locate(site) if site is not None else None
        if loc is not None:
            out.append(Related(loc.path, loc.line, loc.column, note, cell=loc.cell))
    return out
