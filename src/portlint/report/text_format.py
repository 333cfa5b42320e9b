"""`--format text`: each finding with the ported and original code lines side by side."""

from __future__ import annotations

import shutil

from portlint.findings import Finding, Location
from portlint.report import CheckReport

_COLOURS = {"error": "\x1b[31m", "warning": "\x1b[33m", "info": "\x1b[36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def _where(loc: Location | None) -> str:
    return loc.place() if loc else "(none)"


def _side_by_side(f: Finding, width: int) -> list[str]:
    """The original and ported code lines in two columns, or stacked when they do not fit; both
    locations are always printed (CI logs and pipes are often 80 columns wide)."""
    left = f.original.source_line.strip() if f.original else "(no counterpart)"
    right = f.ported.source_line.strip() if f.ported else ""
    head_l = f"original {_where(f.original)}"
    head_r = f"ported {_where(f.ported)}"
    col = max(len(left), len(head_l))
    if 4 + col + 3 + max(len(right), len(head_r)) <= width:
        return [f"    {head_l.ljust(col)} | {head_r}", f"    {left.ljust(col)} | {right}"]
    return [f"    original {_where(f.original)}", f"        {left}", f"    ported   {_where(f.ported)}", f"        {right}"]


def render_finding(f: Finding, color: bool, width: int = 100, preview: str = "") -> str:
    sev = f"{_COLOURS[f.severity]}{f.severity}{_RESET}" if color else f.severity
    code = f"{_BOLD}{f.code}{_RESET}" if color else f.code
    lines = [f"{_where(f.ported)}: {code} [{f.kind}] {sev}: {f.message}"]
    if f.program:
        lines.append(f"  matched original program: {f.program}")
    lines.extend(_side_by_side(f, width))
    for r in f.related:
        lines.append(f"    related {r.place()}: {r.note}")
    if f.fix:
        hint = f"  fix ({f.fix.applicability}): {f.fix.description}"
        lines.append(f"{_DIM}{hint}{_RESET}" if color else hint)
    if preview:  # --show-fixes: the diff this fix makes
        lines.extend("    " + line for line in preview.rstrip("\n").splitlines())
    return "\n".join(lines)


def render(report: CheckReport, color: bool = False, statistics: bool = False, previews=None) -> str:
    """`previews`: {index in report.findings: diff} for --show-fixes (portlint.fix.preview)."""
    if (report.files == 0 and report.errors) or (report.input_error and not report.findings):
        return ""  # nothing was analysed, or the input is wrong: the errors on stderr say why
    width = shutil.get_terminal_size((100, 20)).columns
    previews = previews or {}
    order = sorted(range(len(report.findings)), key=lambda i: report.findings[i].sort_key())
    out = [render_finding(report.findings[i], color, width, previews.get(i, "")) + "\n" for i in order]
    if statistics:
        counts: dict[tuple[str, str], int] = {}
        for f in report.findings:
            counts[(f.code, f.kind)] = counts.get((f.code, f.kind), 0) + 1
        for (code, kind), n in sorted(counts.items()):
            out.append(f"{n:5d}  {code}  {kind}")
    n = len(report.findings)
    fixable = sum(1 for f in report.findings if f.fix and f.fix.applicability == "safe")
    summary = f"Found {n} finding{'s' if n != 1 else ''} in {report.files} file{'s' if report.files != 1 else ''}"
    if fixable:
        summary += f" ({fixable} fixable with `portlint fix --apply`)"
    missing = report.not_compared
    if missing:  # never "All checks passed" when a side's pre-processing was not compared
        out.append(f"{summary}." if n else f"No findings in {report.files} file{'s' if report.files != 1 else ''}, "
                   "but not everything was compared.")
        out.append(f"Not compared: no image pipeline reaching a model call was found in {', '.join(missing)}.")
        return "\n".join(out)
    out.append(summary + "." if n else f"All checks passed ({report.files} files).")
    return "\n".join(out)
