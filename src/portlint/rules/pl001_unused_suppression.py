"""PL001 unused-suppression: a `# portlint: ignore[...]` comment that suppresses nothing
(reported with --show-unused-suppressions; portlint.suppressions finds them)."""

from __future__ import annotations

from portlint.findings import Finding, Location
from portlint.rules.base import RuleMeta

RULE = RuleMeta("PL001", "other", "info", (), "A portlint suppression comment suppresses nothing")


def unused(stale: str, location: Location) -> Finding:
    return Finding(code=RULE.code, kind=RULE.kind, severity=RULE.severity,
                   message=f"unused suppression {stale}: nothing to suppress here", ported=location)
