"""`--format github`: GitHub Actions workflow commands, shown as annotations on the diff.

    ::error file=port/x.py,line=26,col=18,title=PL101 resize-antialias::message (original: orig/x.py:16)

Escaping follows GitHub's workflow-command rules: in the message `%`, CR and LF are
percent-encoded; in properties `:` and `,` are too, or the runner would cut the value there.
"""

from __future__ import annotations

from portlint.findings import Finding
from portlint.report import CheckReport

_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, object], message: str) -> str:
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _finding(f: Finding) -> str:
    loc = f.ported or f.original
    props: dict[str, object] = {}
    if loc is not None:
        props.update(file=loc.path, line=loc.line, col=loc.column)
    props["title"] = f"{f.code} {f.kind}"
    message = f.message
    if f.ported is not None and f.original is not None:
        message += f" (original: {f.original.path}:{f.original.line})"
    return command(_LEVELS.get(f.severity, "warning"), props, message)


def render(report: CheckReport) -> str:
    lines = [_finding(f) for f in sorted(report.findings, key=lambda f: f.sort_key())]
    lines += [command("error", {"file": e.path, "title": "portlint"}, e.message) for e in report.errors]
    lines += [command("warning", {"title": "portlint: not compared"},
                      f"{side}: no image pipeline reaching a model call was found; pre-processing was not compared")
              for side in report.not_compared]
    return "\n".join(lines)
