"""The steps of a pipeline: one dataclass per stage, written by the API handlers
(analysis/apis/*) and read by the rules, their fixes and verify's replay.

Each op says what one library call did to the image in typed fields, so that a reader asks
`isinstance(op, Resize)` and `op.interp`, never a free-form dict or the call's name. `api` (the
canonical library call) is kept for messages and snapshots only; `site` is where the call is.
A value the analyser could not know stays UNKNOWN; a field a call does not have is None.
The image state the ops act on (Img, ImageState, Site) stays in analysis/image.py: that module
is what is known at one point of the pipeline, this one is how it got there.

Sizes are (h, w) pairs of numbers or Syms whatever order the API takes them in (`order` says
that). `library` is whose implementation runs (for a resize: whose resampling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Optional

# Slotted and compared by identity, like the nodes they point at. Not frozen: nothing writes an op
# after its handler made it, and frozen dataclasses cost ~1.5 ms each to create when `check` imports.
_OP = dict(eq=False, slots=True)
_STAGE = dict(eq=False, slots=True, kw_only=True)


@dataclass(**_OP)
class Op:
    """A step from decode to the model input; `stage` orders and groups the steps."""

    stage: ClassVar[str] = "other"
    api: str
    site: Optional[Any]  # Site


@dataclass(**_STAGE)
class Decode(Op):
    """Where the image comes from, or a step that changes what was decoded (PIL convert,
    exif_transpose). `source` is set only on the step that produces a new image."""

    stage: ClassVar[str] = "decode"
    library: Optional[str] = None  # cv2 | pil | sail (None: a parameter of unknown origin)
    source: Optional[str] = None  # file | buffer | video | parameter
    mode: Any = None  # cv2: color | color-rgb | grayscale | unchanged | video; pil: file or convert's mode; sail: hardware
    flags: Any = None  # cv2 imread/imdecode flags
    exif: Optional[bool] = None  # whether the EXIF orientation is applied
    convert: bool = False  # PIL Image.convert(mode)
    exif_transpose: bool = False  # PIL ImageOps.exif_transpose
    name: Optional[str] = None  # the parameter the pipeline enters through


@dataclass(**_STAGE)
class Colour(Op):
    """A change of the channels' colours or order."""

    stage: ClassVar[str] = "colour"
    library: str  # cv2 | numpy | torch | torchvision | sail
    # cv2.cvtColor: its conversion (swap3, gray, gray2bgr, drop_alpha, drop_alpha_swap, add_alpha...,
    # None if unknown); swapRB (blobFromImage); reverse_channels / reverse (numpy [..., ::-1] on the
    # channel axis / on an axis of unknown meaning); flip (torch); gray (torchvision Grayscale);
    # format (SAIL convert_format, yuv2bgr)
    kind: Optional[str] = None
    code: Any = None  # cv2.cvtColor's code
    axis: Optional[int] = None  # numpy: the reversed channel axis
    to: Optional[str] = None  # SAIL: the destination format
    spec_site: Any = None  # SAIL: where the destination BMImage (and so its format) is made


@dataclass(**_STAGE)
class Resize(Op):
    """A resampling to a new size (torchvision's own size computation when `through` it)."""

    stage: ClassVar[str] = "resize"
    library: str  # pil | torch | cv2 | sail: whose resampling runs
    through: Optional[str] = None  # torchvision (it computes the size) | blobFromImage; None: the library's own call
    out: Any = None  # (h, w)
    in_: Any = None  # (h, w)
    interp: Optional[str] = None  # nearest bilinear bicubic area lanczos box hamming (None: unknown)
    interp_given: bool = False  # False: the library default
    interp_options: tuple = ()  # interp unknown: the ones a run-time condition picks between
    interp_code: Any = None  # cv2: ifelse(...) of interpolation codes on the image size
    antialias: bool = False
    mode: str = "fixed"  # fixed | shorter (torchvision Resize(int)) | cover-crop (blobFromImage crop=True) | unknown
    order: str = "wh"  # the API's size argument order: wh | hw
    size_arg: Any = None  # torchvision: the size argument as given
    max_size: Any = None  # torchvision
    size_node: Any = None  # the size argument's libcst Arg (fixes)
    size_sites: Any = None  # SAIL padding resizes: {"w": Site, "h": Site} of the PaddingAtrr setters' arguments
    interp_node: Any = None  # the interpolation argument's libcst Arg (fixes)


@dataclass(**_STAGE)
class Crop(Op):
    """A box cut out of the image."""

    stage: ClassVar[str] = "crop"
    library: str  # numpy (slicing) | pil | torchvision | sail
    top: Any = None
    left: Any = None
    height: Any = None
    width: Any = None
    in_: Any = None  # (h, w) cropped from
    style: Optional[str] = None  # slice | box | center


@dataclass(**_STAGE)
class Pad(Op):
    """Borders added around the image (a letterbox), or the image pasted into a canvas."""

    stage: ClassVar[str] = "pad"
    library: str  # cv2 | numpy (a canvas the image is pasted into) | sail | torchvision
    top: Any = None
    bottom: Any = None
    left: Any = None
    right: Any = None
    value: Any = None  # the constant fill, per memory channel or scalar (None: a non-constant border)
    border: Any = 0  # cv2 borderType (0: constant)
    placement: Optional[str] = None  # explicit | top-left
    in_: Any = None  # (h, w)
    out: Any = None  # (h, w)
    padding: Any = None  # torchvision Pad's padding argument
    value_node: Any = None  # cv2: the value argument's libcst Arg (fixes)
    # where each amount and the fill were written: {"top"|"left"|...|"value"|"r"|...: Site of the
    # argument expression}, so that findings point at the definition (rules/origin.py)
    arg_sites: Any = None


@dataclass(**_STAGE)
class Normalize(Op):
    """value -> value*scale + offset per memory channel, with the constants as the program
    wrote them (what replay executes) and as the map they amount to (what the analyser composes)."""

    stage: ClassVar[str] = "normalize"
    library: str  # numpy (operator arithmetic, numpy arrays and torch tensors alike) | torchvision | cv2 | sail
    scale: Any = None  # number or per-channel tuple; None: not an affine map the analyser knows
    offset: Any = None
    by_conversion: bool = False  # the /255 (or *255) the conversion just before does itself (ToTensor...)
    arith: Optional[str] = None  # numpy: the operator (add sub mul truediv ...)
    operand: Any = None  # numpy: the constant (number or flattened tuple; UNKNOWN if not kept)
    image_left: bool = True  # numpy: image <op> constant (False: constant <op> image)
    layout: Optional[str] = None  # numpy: the image's layout at the operation
    mean: Any = None  # torchvision Normalize
    std: Any = None
    alpha_beta: Any = None  # SAIL convert_to: ((a, b),) * 3, None if unknown
    node: Any = None  # SAIL convert_to: the alpha_beta argument's libcst Arg (fixes)
    step: Optional[str] = None  # blobFromImage: mean | scale


@dataclass(**_STAGE)
class Layout(Op):
    """A change of the axes' order or of the container (PIL image, array, tensor)."""

    stage: ClassVar[str] = "layout"
    library: str  # numpy | torch | pil | torchvision | cv2 | sail
    # transpose (axes) | reshape (shape) | from_pil (np.array of a PIL image) | to_pil |
    # to_tensor (torchvision ToTensor: uint8 scaled to [0, 1]) | pil_to_tensor (no scaling) |
    # to_nchw (blobFromImage, SAIL bm_image_to_tensor: a batched tensor)
    kind: str
    frm: Optional[str] = None
    to: Optional[str] = None
    axes: Any = None
    shape: Any = None


@dataclass(**_STAGE)
class Dtype(Op):
    """A change of the value type."""

    stage: ClassVar[str] = "dtype"
    frm: Optional[str] = None
    to: Optional[str] = None  # None: not known statically
    rescale: bool = False  # ConvertImageDtype / ToDtype(scale=True) from uint8: the Normalize after it is its /255


@dataclass(**_STAGE)
class Batch(Op):
    """A batch axis added in front (or indexed away)."""

    stage: ClassVar[str] = "batch"
    add: bool = True  # False: x[0] indexes the batch axis away


@dataclass(**_STAGE)
class Other(Op):
    """A step the comparison does not model (warpAffine, flips, unknown transforms)."""

    stage: ClassVar[str] = "other"
    function: Optional[str] = None
