"""The abstract image: what is known about an image or tensor as it flows to the model.

Every change is an op (analysis/ops.py, one dataclass per stage) that keeps its source Site, so
a finding can point at the exact line; the state and Site stay here, apart from the ops, because
every finding and fix needs a Site and only the pipeline readers need the ops.
`affine` describes the value of each memory channel as a*raw + b, raw being the decoded 0-255
pixel of that channel's colour (analysis/affine.py), which is how normalisation written in any
style is compared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional

from portlint.analysis.affine import identity
from portlint.analysis.values import UNKNOWN

if TYPE_CHECKING:
    from portlint.analysis.ops import Op


@dataclass(frozen=True, eq=False)
class Site:
    """A node in a parsed file; its line/column are computed only when a finding needs them."""

    file: Any  # SourceFile
    node: Any  # libcst node


@dataclass(frozen=True, eq=False)
class ImageState:
    kind: str  # pil | ndarray | tensor | bmimage
    channels: Optional[tuple] = None  # colour of each memory channel, e.g. ('B', 'G', 'R')
    layout: Optional[str] = None  # HWC CHW NCHW NHWC HW
    dtype: Optional[str] = None
    affine: Optional[tuple] = None  # per memory channel (a, b)
    size: tuple = (UNKNOWN, UNKNOWN)  # (h, w): numbers or Syms
    ops: tuple = ()
    source: str = "decode"  # decode | param (pipeline entered through an unknown parameter)


@dataclass(frozen=True, eq=False)
class Img:
    state: ImageState

    def evolve(self, op: Optional[Op] = None, **changes) -> "Img":
        st = self.state
        if op is not None:
            changes["ops"] = st.ops + (op,)
        return Img(replace(st, **changes))


def fresh_image(kind: str, channels, layout: str, dtype: str, op: Op, h=None, w=None) -> Img:
    from portlint.analysis.values import var

    n = len(channels) if channels else 3
    return Img(ImageState(
        kind=kind, channels=channels, layout=layout, dtype=dtype, affine=identity(n),
        size=(h if h is not None else var("H"), w if w is not None else var("W")), ops=(op,),
    ))
