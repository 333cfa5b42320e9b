"""`--format sarif`: SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

The ported location is the result's location (that is the code to change); the original
location is a related location labelled "original", followed by the finding's other related
places (`related`), each with its note. Fixes with edits become SARIF `fixes`;
a fix that still needs imports is left out (portlint.fix.imports.with_import_edits turns them
into edits before rendering, reading the files). The rule catalogue is given, not read here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import quote

from portlint import __version__
from portlint.findings import Finding, Location
from portlint.report import CheckReport

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/portlint/"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def uri(path: str) -> str:
    """A relative path stays relative (forward slashes, percent-encoded); absolute -> file://."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(path.replace(os.sep, "/"), safe="/._-~")


def _physical(loc: Location) -> dict:
    return {"artifactLocation": {"uri": uri(loc.path)},
            "region": {"startLine": max(loc.line, 1), "startColumn": max(loc.column, 1)}}


def _what_it_does(doc: str) -> str:
    m = re.search(r"## What it does\s*\n(.*?)(?:\n## |\Z)", doc, re.S)
    return " ".join((m.group(1) if m else doc).split())


def _rules(catalogue: Mapping) -> tuple[list[dict], dict[str, int]]:
    out, index = [], {}
    for code, r in catalogue.items():
        index[code] = len(out)
        out.append({
            "id": code,
            "name": r.kind,
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": _what_it_does(r.doc) or r.title},
            "help": {"text": r.doc, "markdown": r.doc},
            "defaultConfiguration": {"level": _LEVELS.get(r.severity, "warning")},
            "properties": {"kind": r.kind, "fix": r.fix},
        })
    return out, index


def _fix(f: Finding) -> list[dict]:
    fix = f.fix
    if fix is None or fix.applicability == "display-only" or not fix.edits:
        return []
    if fix.imports:  # a fix without the import it needs would break the file: omit it then
        return []
    changes: dict[str, list[dict]] = {}
    for e in fix.edits:
        changes.setdefault(e.path, []).append({
            "deletedRegion": {"startLine": e.start[0], "startColumn": e.start[1],
                              "endLine": e.end[0], "endColumn": e.end[1]},
            "insertedContent": {"text": e.replacement},
        })
    return [{
        "description": {"text": fix.description},
        "artifactChanges": [{"artifactLocation": {"uri": uri(p)}, "replacements": reps}
                            for p, reps in changes.items()],
        "properties": {"applicability": fix.applicability},
    }]


def _result(f: Finding, index: dict[str, int]) -> dict:
    res: dict = {"ruleId": f.code, "level": _LEVELS.get(f.severity, "warning"), "message": {"text": f.message}}
    if f.code in index:
        res["ruleIndex"] = index[f.code]
    main = f.ported or f.original
    if main is not None:
        res["locations"] = [{"physicalLocation": _physical(main)}]
    related = []
    if f.ported is not None and f.original is not None:
        related.append({"id": 1, "physicalLocation": _physical(f.original), "message": {"text": "original"}})
    for r in f.related:  # the other places involved (a value's use site, a helper it flows through)
        related.append({"id": len(related) + 1, "physicalLocation": _physical(Location(r.path, r.line, r.column)),
                        "message": {"text": r.note}})
    if related:
        res["relatedLocations"] = related
    fixes = _fix(f)
    if fixes:
        res["fixes"] = fixes
    props = {"kind": f.kind}
    if f.program:
        props["program"] = f.program
    res["properties"] = props
    return res


def to_sarif(report: CheckReport, rules: Optional[Mapping] = None) -> dict:
    """`rules`: code -> rule (kind, title, severity, fix, doc), listed as the driver's rules."""
    rules, index = _rules(rules or {})
    findings = sorted(report.findings, key=lambda f: f.sort_key())
    notes = [{"level": "error", "message": {"text": e.message},
              "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(e.path)}}}]}
             for e in report.errors]
    notes += [{"level": "warning",
               "message": {"text": f"{side}: no image pipeline reaching a model call was found; "
                                   "pre-processing was not compared"}}
              for side in report.not_compared]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "portlint", "version": __version__, "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "invocations": [{"executionSuccessful": report.exit_code != 2,
                             "toolExecutionNotifications": notes}],
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index) for f in findings],
            "properties": {"pairs": report.pairs, "notCompared": report.not_compared},
        }],
    }


def render(report: CheckReport, rules: Optional[Mapping] = None) -> str:
    return json.dumps(to_sarif(report, rules), indent=2, ensure_ascii=False)
