"""PL106 channel-order: RGB vs BGR reaching the model (cvtColor, `[..., ::-1]`,
`transpose(...)[::-1]`, SAIL planar formats, blobFromImage swapRB)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.context import PairContext
from portlint.analysis.image import Img
from portlint.analysis.ops import Colour, Decode
from portlint.findings import Fix
from portlint.rules.base import RuleMeta
from portlint.rules.common import last_op, site_of
from portlint.rules.fixkit import edit, import_alias, node_code

RULE = RuleMeta("PL106", "channel-order", "error", ("safe",), "Channel order (RGB/BGR) reaching the model differs")

_NAMES = {("R", "G", "B"): "RGB", ("B", "G", "R"): "BGR"}


def order_name(ch) -> str:
    return _NAMES.get(ch, "".join(ch) if ch else "unknown")


def compare(o: Img, p: Img, ctx: PairContext) -> list:
    co, cp = o.state.channels, p.state.channels
    if not co or not cp or len(co) != 3 or len(cp) != 3 or co == cp or set(co) != set(cp):
        return []
    op_p = last_op(p, "colour") or last_op(p, "decode")
    op_o = last_op(o, "colour") or last_op(o, "decode")
    how = f"converts to {order_name(cp)} here" if op_p is not None and op_p.stage == "colour" else f"decodes {order_name(cp)} here and never converts"
    msg = (f"original feeds the model {order_name(co)}, ported feeds {order_name(cp)} (it {how}): channels 0 and 2 are swapped, "
           f"so red and blue trade places in every input (mean |diff| 32-71 grey levels on real photos, see PL106)")
    return [RULE.finding(msg, site_of(op_p), site_of(op_o), fix=channel_fix(o, p))]


def channel_fix(o: Img, p: Img) -> Optional[Fix]:
    """Convert right after decoding (so every later per-channel step sees the original's order),
    or drop the ported program's own conversion when it is the one that differs."""
    colour_ops = [op for op in p.state.ops if isinstance(op, Colour)]
    if colour_ops:
        last = colour_ops[-1]
        node = last.site.node if last.site else None
        if last.library == "cv2" and last.kind == "swap3" and type(node) is cst.Call and node.args:  # cvtColor
            e = edit(last.site, node, node_code(last.site, node.args[0].value))
            return Fix("safe", "remove the BGR<->RGB conversion the original does not make", [e]) if e else None
        if last.kind == "reverse_channels" and type(node) is cst.Subscript:
            e = edit(last.site, node, node_code(last.site, node.value))
            return Fix("safe", "remove the channel reversal the original does not make", [e]) if e else None
        if last.library == "sail":
            return _sail_format_fix(last, o)
        return None
    decode = next((op for op in p.state.ops if isinstance(op, Decode)), None)
    if decode is None or decode.site is None or decode.library != "cv2" or decode.source not in ("file", "buffer"):
        return None
    if tuple(o.state.channels or ()) != ("R", "G", "B"):
        return None
    cv2 = import_alias(decode.site.file, "cv2") or "cv2"
    call = decode.site.node
    e = edit(decode.site, call, f"{cv2}.cvtColor({node_code(decode.site, call)}, {cv2}.COLOR_BGR2RGB)")
    return Fix("safe", "convert BGR to RGB right after decoding, as the original feeds RGB", [e]) if e else None


def _sail_format_fix(op: Colour, o: Img) -> Optional[Fix]:
    """convert_format(img, BMImage(..., FORMAT_BGR_PLANAR, ...)): name the original's order instead
    (only that form says where the format is chosen: yuv2bgr and convert_format(img, fmt) do not)."""
    spec_site = op.spec_site
    want = {("R", "G", "B"): "RGB", ("B", "G", "R"): "BGR"}.get(tuple(o.state.channels or ()))
    if spec_site is None or want is None or type(spec_site.node) is not cst.Call:
        return None
    for arg in spec_site.node.args:
        value = arg.value
        if type(value) is cst.Attribute and value.attr.value.startswith("FORMAT_") and value.attr.value.endswith("_PLANAR"):
            new = f"FORMAT_{want}_PLANAR"
            if value.attr.value == new:
                return None
            e = edit(spec_site, value.attr, new)
            return Fix("safe", f"convert to {new}, the original's channel order", [e]) if e else None
    return None
