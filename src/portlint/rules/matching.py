"""The one pipeline matcher: each ported pipeline is compared with every original pipeline and
paired, for each original program (a demo, a val script), with that program's pipeline it differs
from least; the closest of all is the primary match. A port usually serves several of the
original's programs (its demo run and its evaluation run), so `check` reports the differences to
each program, naming it; `verify` replays the primary match, and the post-processing rules use the
matches to know which original programs a port follows."""

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
    primary: bool = True  # the closest original pipeline of all programs


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


def match_pipelines(o_sinks: list[Sink], p_sinks: list[Sink], ctx: PairContext, named=frozenset()) -> list[Match]:
    """For each ported pipeline: the primary match (the original pipeline with the fewest findings
    against it), then the closest pipeline of every other original program. `named`: the original
    programs the user gave the command of (--original-run): the port reproduces one of them, so
    the primary match is among them when any reaches a model (SCRFD's evaluation
    test_widerface.py, not the demo tools/scrfd.py that happens to truncate sizes as the port does)."""
    programs: dict = {}
    for os_ in o_sinks:
        programs.setdefault(id(os_.entry), []).append(os_)
    matches = []
    for ps in p_sinks:
        per_program = []
        for sinks in programs.values():
            scored = [(os_, compare_pipelines(os_.img, ps.img, ctx)) for os_ in sinks]
            best, _ = closest(scored, lambda item: distance(item[1]))
            per_program.append(best)
        pool = [item for item in per_program if item[0].entry.path in named] or per_program
        primary, _ = closest(pool, lambda item: distance(item[1]))
        if primary is None:
            matches.append(Match(ps, None, []))
            continue
        matches.append(Match(ps, primary[0], primary[1]))
        key = model_key(primary[0])
        matches.extend(Match(ps, o, f, primary=False) for o, f in per_program
                       if o is not primary[0] and model_key(o) == key)
    return matches


def distance(findings: list) -> int:
    """How far two pipelines are apart: their mismatches (an `info` finding, such as an EXIF
    orientation detail, never decides which original program a port follows)."""
    return sum(1 for f in findings if f.severity != "info")


def model_key(sink: Sink):
    """What model a program calls, to tell the programs of one model (its demo and its val script
    load the same network) from other programs of the repository: the program's own model class,
    a library model factory with the file it names, or the name the model is called through."""
    from portlint.analysis.objects import Instance
    from portlint.analysis.values import ApiObject

    model = sink.model
    if isinstance(model, Instance):
        return ("class", id(model.cls))
    if isinstance(model, ApiObject):
        literal = next((a for a in model.args if isinstance(a, str)), None)
        return ("api", model.qname, literal)
    return ("call", sink.api)


def replay_pair(matches: list[Match]) -> Optional[Match]:
    """The match `verify` replays: a ported pipeline that starts at a decode, then the fewest findings."""
    paired = [m for m in matches if m.original is not None and m.primary]
    best, _ = closest(paired, lambda m: (0 if m.ported.img.state.source == "decode" else 1, distance(m.findings)))
    return best
