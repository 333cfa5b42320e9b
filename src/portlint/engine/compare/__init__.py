"""Compares one ported pipeline with one original pipeline, stage by stage."""

from __future__ import annotations

from portlint.engine.compare import colour, decode, geometry, tensor
from portlint.engine.compare.base import PairContext

STAGES = (
    decode.compare_decode,
    geometry.compare_resize,
    geometry.compare_crop,
    geometry.compare_padding,
    colour.compare_channels,
    colour.compare_normalize,
    tensor.compare_layout,
    tensor.compare_dtype,
)


def compare_images(o, p, ctx: PairContext, fixes) -> list:
    findings = []
    for stage in STAGES:
        findings.extend(stage(o, p, ctx, fixes))
    findings.extend(geometry.compare_static_shape(o, p, ctx))
    return findings
