"""What the interpreter records while it runs a program: the sinks (values reaching a model).

Apart from the interpreter, so that rules and the pipeline matcher name the result's types
without importing the interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portlint.analysis.image import Img, Site


@dataclass
class Sink:
    """A value reaching the model: the input image and where/how the model is called."""

    img: Img
    site: Site
    api: str
    entry: Any  # SourceFile of the program
    model: Any = None
