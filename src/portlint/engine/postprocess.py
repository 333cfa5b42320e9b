"""Post-processing rules (model outputs, NMS, COCO json, trace): each module in
`portlint.engine.post` exposes check(o_interp, p_interp, ctx, original_side, ported_side)."""

from __future__ import annotations

import importlib
import pkgutil


def check(o_interp, p_interp, ctx, original, ported) -> list:
    findings = []
    try:
        package = importlib.import_module("portlint.engine.post")
    except ModuleNotFoundError:
        return findings
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"portlint.engine.post.{info.name}")
        if hasattr(module, "check"):
            findings.extend(module.check(o_interp, p_interp, ctx, original, ported))
    return findings
