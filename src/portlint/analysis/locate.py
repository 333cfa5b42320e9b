"""Source positions, computed lazily: only files that have a finding pay for libcst's
PositionProvider, so clean files cost one parse and no metadata pass."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.positions import LazyPositions
from portlint.findings import Location

_POSITIONS: dict[int, dict] = {}


def positions(src) -> dict:
    key = id(src.module)
    found = _POSITIONS.get(key)
    if found is None:
        found = LazyPositions(src.module, src.text)
        _POSITIONS[key] = found
    return found


def span(site: Site):
    """((line, col), (line, col)) of a node, 1-based lines and 1-based columns, end exclusive."""
    pos = positions(site.file).get(site.node)
    if pos is None:
        return None
    return (pos.start.line, pos.start.column + 1), (pos.end.line, pos.end.column + 1)


def locate(site: Optional[Site]) -> Optional[Location]:
    if site is None:
        return None
    node = site.node
    pos = positions(site.file).get(node)
    if pos is None:
        return Location(site.file.display, 1, 1, site.file.line(1))
    return Location(site.file.display, pos.start.line, pos.start.column + 1, site.file.line(pos.start.line))


def node_code(site: Site, node: Optional[cst.CSTNode] = None) -> str:
    return site.file.module.code_for_node(node if node is not None else site.node)
