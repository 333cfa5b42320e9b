"""Which `portlint check` finding explains a divergent verify stage, and its fix. Why: verify
says *where* the pipelines part (the first unaligned stage), check says *why* (the API that
differs, with the fix); the report links the two so a reader goes from a heatmap to the line
to change. Each pre-processing rule is about one stage (docs/verify.md, "Stages")."""

from __future__ import annotations

STAGE_OF_RULE = {"PL100": "decode", "PL101": "resize", "PL102": "resize", "PL103": "resize", "PL104": "crop",
                 "PL105": "pad", "PL106": "colour", "PL107": "normalize", "PL108": "layout", "PL109": "input"}


def check_findings(original: str, ported: str, bmodel, input_shape) -> list[dict]:
    """The pair's findings as JSON dicts (contract fields), each with `stage` and the fix's
    edits; [] when check cannot analyse the pair (verify has already said why)."""
    from portlint.checker import CheckOptions, Pair, run_check
    from portlint.errors import PortlintError

    try:
        report = run_check(CheckOptions(pairs=[Pair(original, ported, bmodel, input_shape)], no_cache=True))
    except PortlintError:
        return []
    from portlint.fix.preview import fix_previews

    previews = fix_previews(report)
    out = []
    for i in sorted(range(len(report.findings)), key=lambda i: report.findings[i].sort_key()):
        f = report.findings[i]
        d = f.to_json()
        d["stage"] = STAGE_OF_RULE.get(f.code)
        if f.fix is not None:
            d["fix"]["edits"] = [{"path": e.path, "start": list(e.start), "end": list(e.end),
                                  "replacement": e.replacement} for e in f.fix.edits]
            if i in previews:
                d["fix"]["diff"] = previews[i]
        out.append(d)
    return out


def attach(result, findings: list[dict]) -> None:
    """Record the findings on the result and, per stage, the codes of those about it."""
    result.findings = findings
    for s in result.stages:
        codes = [f["code"] for f in findings if f.get("stage") == s.name]
        if codes:
            s.extra["findings"] = codes


def where(loc) -> str:
    return f"{loc['path']}:{loc['line']}:{loc['column']}" if loc else "-"
