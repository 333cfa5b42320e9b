"""`portlint bmodel-info FILE`: a bmodel's networks and tensors, like `model_tool --info`, without the SDK."""

from __future__ import annotations

import json
from enum import Enum

import typer


class InfoFormat(str, Enum):
    text = "text"
    json = "json"


def format_info(info) -> str:
    """Text in model_tool --info's wording, so users recognise the lines."""
    lines = [f"bmodel: {info.path}", f"chip: {info.chip or 'unknown'}"]
    if info.version:
        lines.append(f"bmodel version: {info.version}")
    for i, net in enumerate(info.networks):
        kind = "dynamic" if net.dynamic else "static"
        extra = f", {net.stages} stages (first shown)" if net.stages > 1 else ""
        lines.append(f"net {i}: [{net.name}]  {kind}{extra}")
        for role, tensors in (("input", net.inputs), ("output", net.outputs)):
            for t in tensors:
                lines.append(f"{role}: {t.name}, {list(t.shape)}, {t.dtype}, scale: {t.scale:g}, zero_point: {t.zero_point}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    @app.command("bmodel-info")
    def bmodel_info(
        file: str = typer.Argument(..., help="The .bmodel file."),
        output_format: InfoFormat = typer.Option(InfoFormat.text, "--format", "-f", help="Output format."),
    ) -> None:
        """Show a bmodel's chip, networks, input/output names, shapes, dtypes and scales."""
        from portlint.bmodel import read_bmodel

        info = read_bmodel(file)
        if output_format == InfoFormat.json:
            print(json.dumps(info.to_dict(), indent=2))
        else:
            print(format_info(info))
