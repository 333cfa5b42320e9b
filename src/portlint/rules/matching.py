"""The one pipeline matcher: each ported pipeline is compared with every original pipeline and
paired with the one it differs from least. `check`, `verify` (which pair to replay) and the
post-processing rules (which original program a port follows) all use these matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from portlint.analysis.context import PairContext
from portlint.analysis.events import Sink
from portlint.rules.common import closest
from portlint.rules.registry import PIPELINE_RULES


@dataclass
class Match:
    ported: Sink
    original: Optional[Sink]
    findings: list = field(default_factory=list)  # the pipeline rules' findings for this pair


def candidates(sinks: list[Sink]) -> list[Sink]:
    """The pipelines worth matching: one per model call and op sequence, and only those that start
    at a decode when there are any (a pipeline entered through an unknown parameter is a fallback)."""
    seen, unique = set(), []
    for s in sinks:
        key = (id(s.site.node), tuple((op.stage, op.api, id(op.site.node) if op.site else 0) for op in s.img.state.ops))
        if key not in seen:
            seen.add(key)
            unique.append(s)
    decoded = [s for s in unique if s.img.state.source == "decode"]
    return decoded or unique


def compare_pipelines(o_img, p_img, ctx: PairContext) -> list:
    """Every pipeline rule's findings for one original and one ported pipeline, in rule order."""
    findings = []
    for rule in PIPELINE_RULES:
        findings.extend(rule.compare(o_img, p_img, ctx))
    return findings


def match_pipelines(o_sinks: list[Sink], p_sinks: list[Sink], ctx: PairContext) -> list[Match]:
    """For each ported pipeline, the original pipeline with the fewest findings against it."""
    matches = []
    for ps in p_sinks:
        scored = [(os_, compare_pipelines(os_.img, ps.img, ctx)) for os_ in o_sinks]
        best, _ = closest(scored, lambda item: len(item[1]))
        matches.append(Match(ps, best[0], best[1]) if best else Match(ps, None, []))
    return matches


def replay_pair(matches: list[Match]) -> Optional[Match]:
    """The match `verify` replays: a ported pipeline that starts at a decode, then the fewest findings."""
    paired = [m for m in matches if m.original is not None]
    best, _ = closest(paired, lambda m: (0 if m.ported.img.state.source == "decode" else 1, len(m.findings)))
    return best
