"""`--format json`: the contract's single JSON object (docs/contract.md, version 1)."""

from __future__ import annotations

import json

from portlint.report import CheckReport


def render(report: CheckReport) -> str:
    findings = sorted(report.findings, key=lambda f: f.sort_key())
    doc = {
        "version": 1,
        "findings": [f.to_json() for f in findings],
        "errors": [e.to_json() for e in report.errors],
        "summary": {"files": report.files, "findings": len(findings)},
        # added: sides whose pipeline was not found (exit 3), and per pair each side's traced
        # pipelines (decode and model call) or [] (portlint.pipelines)
        "not_compared": report.not_compared,
        "pairs": report.pairs,
    }
    if report.notes:
        doc["notes"] = list(report.notes)
    return json.dumps(doc, indent=2, ensure_ascii=False)
