"""Source positions, computed lazily: only files that have a finding pay for libcst's
PositionProvider, so clean files cost one parse and no metadata pass."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.positions import LazyPositions, SpanPositions
from portlint.findings import Location

_POSITIONS: dict[int, dict] = {}


def positions(src) -> dict:
    key = id(src.module)
    found = _POSITIONS.get(key)
    if found is None:
        astfront_tree = hasattr(src.module, "spans")  # it knows its nodes' ranges
        found = SpanPositions(src.module, src.text) if astfront_tree else LazyPositions(src.module, src.text)
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
    line, column = (pos.start.line, pos.start.column + 1) if pos is not None else (1, 1)
    cells = site.file.cells
    if cells is not None:  # a notebook: the line in its cell
        cell, in_cell = cells.where(line)
        return Location(site.file.display, in_cell, column, site.file.line(line), cell=cell)
    return Location(site.file.display, line, column, site.file.line(line))


def node_code(site: Site, node: Optional[cst.CSTNode] = None) -> str:
    return site.file.module.code_for_node(node if node is not None else site.node)
