"""What both programs of a pair share: the model's input shape, the bmodel, the rule options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class PairContext:
    """Known model input shape (from --input-shape or --bmodel), the bmodel, and options."""

    input_shape: Optional[tuple] = None  # (n, c, h, w)
    bmodel: Any = None
    options: dict = field(default_factory=dict)
    strict: bool = False  # analyser errors are raised, not swallowed (tests, scripts/check_sophon_demo.py)
    # the ported side's facts (analysis.facts.SideFacts) while rules run: pipeline rules trace a
    # value from its use back to where the program defines it (rules/origin.py)
    ported_facts: Any = None
    # (h, w) of every image the user's data has (--image-size): sizes are compared at these
    # instead of the sample sizes (rules/common.samples)
    image_sizes: Optional[tuple] = None

    def env(self, h: int, w: int) -> dict:
        """Values of the symbolic sizes for an image of h x w pixels."""
        env = {"H": h, "W": w}
        if self.input_shape:
            for i, d in enumerate(self.input_shape):
                env[f"bmodel.input.d{i}"] = d
        return env


def pair_context(pair, options=None) -> PairContext:
    """The context of a checked pair: its --input-shape, or the first input of its --bmodel."""
    shape = pair.input_shape
    info = None
    if pair.bmodel:
        from portlint.bmodel import read_bmodel

        info = read_bmodel(pair.bmodel)
        if shape is None and info.networks and info.networks[0].inputs:
            dims = tuple(info.networks[0].inputs[0].shape)
            shape = dims if len(dims) == 4 else None
    rule_options = dict(getattr(options, "rule_options", None) or {})
    return PairContext(input_shape=shape, bmodel=info, options=rule_options,
                       strict=bool(rule_options.get("__strict__")),
                       image_sizes=tuple(getattr(pair, "image_sizes", ()) or ()) or None)
