"""Run a bmodel on a real Sophon device through SOPHON-SAIL (only where `sophon.sail` imports).

Untested here (no card). sail.Engine.process returns a dict built from a std::map, so its
keys come back sorted, not in model order: this returns them in the graph's output order.
"""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional

import numpy as np

from portlint.errors import PortlintError


def run_bmodel(bmodel_path: str | os.PathLike, inputs: Mapping[str, np.ndarray], *,
               net: Optional[str] = None, device: int = 0) -> Dict[str, np.ndarray]:
    """One forward on device `device`; {output name: array} in the graph's output order."""
    try:
        import sophon.sail as sail
    except ImportError as exc:
        raise PortlintError(f"sophon.sail is not importable: {exc}") from None
    engine = sail.Engine(str(bmodel_path), device, sail.IOMode.SYSIO)
    graph = net or engine.get_graph_names()[0]
    names = engine.get_input_names(graph)
    feeds = dict(inputs)
    if len(names) == 1 and len(feeds) == 1 and names[0] not in feeds:
        feeds = {names[0]: next(iter(feeds.values()))}
    missing = [n for n in names if n not in feeds]
    if missing:
        raise PortlintError(f"{bmodel_path}: no array for input(s) {', '.join(missing)}")
    result = engine.process(graph, {n: np.ascontiguousarray(feeds[n]) for n in names})
    order = engine.get_output_names(graph)
    return {n: np.asarray(result[n]) for n in order if n in result}
