"""`portlint bmodel-info FILE`: a bmodel's networks and tensors, like `model_tool --info`, without the SDK."""

from __future__ import annotations

import json
from enum import Enum

import typer


class InfoFormat(str, Enum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command("bmodel-info")
    def bmodel_info(
        file: str = typer.Argument(..., help="The .bmodel file."),
        output_format: InfoFormat = typer.Option(InfoFormat.text, "--format", "-f", help="Output format."),
    ) -> None:
        """Show a bmodel's chip, networks, input/output names, shapes, dtypes and scales."""
        from portlint.bmodel import format_info, read_bmodel

        info = read_bmodel(file)
        if output_format == InfoFormat.json:
            print(json.dumps(info.to_dict(), indent=2))
        else:
            print(format_info(info))
