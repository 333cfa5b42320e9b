"""Dispatches a CheckReport to the chosen output format."""

from __future__ import annotations

import importlib
from typing import Mapping, Optional

from portlint.errors import PortlintError
from portlint.report import CheckReport

_MODULES = {"text": "text_format", "json": "json_format", "sarif": "sarif_format", "github": "github_format"}


def render(report: CheckReport, fmt: str, color: bool = False, statistics: bool = False,
           rules: Optional[Mapping] = None, previews=None) -> str:
    """`rules`: the rule catalogue (portlint.rules.docs.all_rules()), for formats that list it (SARIF)."""
    name = _MODULES.get(fmt)
    if name is None:
        raise PortlintError(f"unknown format {fmt!r}")
    try:
        module = importlib.import_module(f"portlint.report.{name}")
    except ModuleNotFoundError as exc:
        raise PortlintError(f"format {fmt!r} is not available in this build") from exc
    if fmt == "text":
        return module.render(report, color=color, statistics=statistics, previews=previews)
    if fmt == "sarif":
        return module.render(report, rules)
    return module.render(report)
