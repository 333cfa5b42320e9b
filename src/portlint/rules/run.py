"""Runs every rule on one pair of analysed programs: the pipeline rules on each matched pair of
pipelines (rules/matching.py), then the program rules on the two sides' facts (analysis/facts.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from portlint.analysis.context import PairContext
from portlint.analysis.facts import SideFacts
from portlint.rules.matching import Match, candidates, match_pipelines
from portlint.rules.registry import PROGRAM_RULES


@dataclass
class PairFacts:
    """What a program rule reads: both sides' facts, the pair's context and the pipeline matches."""

    original: SideFacts
    ported: SideFacts
    ctx: PairContext
    matches: list[Match] = field(default_factory=list)


def run_rules(pair: PairFacts) -> list:
    o_sinks, p_sinks = candidates(pair.original.sinks), candidates(pair.ported.sinks)
    pair.ctx.ported_facts = pair.ported
    pair.matches = match_pipelines(o_sinks, p_sinks, pair.ctx, named=pair.original.run_files)
    # several original programs (a demo, a test script, an export script): each finding names the
    # one its pipeline was compared with, also when the others reach no model the analyser traced
    # (SCRFD's test_widerface.py builds its pipeline from an mmdet config: its port is compared
    # with the demo tools/scrfd.py, and the finding says so)
    several = len({s.entry.path for s in o_sinks}) > 1 or len(pair.original.programs()) > 1
    findings, reported = [], set()
    for match in sorted(pair.matches, key=lambda m: not m.primary):  # primary matches first
        for f in match.findings:
            where = (f.code, f.ported.path if f.ported else None, f.ported.line if f.ported else None,
                     f.ported.cell if f.ported else None)
            if not match.primary and where in reported:
                continue  # the same place already differs from the closest program
            reported.add(where)
            if several:
                f.program = match.original.entry.display
            findings.append(f)
    for rule in PROGRAM_RULES:
        findings.extend(rule.check(pair))
    return _dedupe(findings)


def _dedupe(findings):
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.message, f.ported.path if f.ported else None, f.ported.line if f.ported else None,
               f.ported.cell if f.ported else None)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
