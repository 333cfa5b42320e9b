"""Builds the Fix (text edits on the ported file) for each preprocessing finding.

Each method returns None when no correct rewrite can be derived from what is known."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Img, Op, Site
from portlint.analysis.locate import span
from portlint.findings import Fix, TextEdit


def _edit(site: Site, node: cst.CSTNode, replacement: str) -> Optional[TextEdit]:
    """Replace a node's text. libcst positions exclude a node's own parentheses, so a
    parenthesised replacement for a parenthesised node drops one pair."""
    sp = span(Site(site.file, node))
    if sp is None:
        return None
    if getattr(node, "lpar", None) and replacement.startswith("("):
        try:
            parsed = cst.parse_expression(replacement)
        except cst.ParserSyntaxError:
            parsed = None
        if parsed is not None and getattr(parsed, "lpar", None):
            replacement = replacement[1:-1]
    return TextEdit(site.file.display, sp[0], sp[1], replacement)


def _code(site: Site, node) -> str:
    return site.file.module.code_for_node(node)


def _import_alias(src, module: str) -> Optional[str]:
    """The local name under which `module` is imported in a file, or None."""
    for stmt in src.module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        name = src.module.code_for_node(alias.name)
                        if name == module:
                            return alias.asname.name.value if alias.asname else name
    return None


def _from_import(src, module: str, name: str) -> Optional[str]:
    for stmt in src.module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    if src.module.code_for_node(small.module) == module and not isinstance(small.names, cst.ImportStar):
                        for alias in small.names:
                            if src.module.code_for_node(alias.name) == name:
                                return alias.asname.name.value if alias.asname else name
    return None


def _num(v: float) -> str:
    r = round(float(v), 8)
    return repr(int(r)) if r == int(r) and abs(r) < 1e15 else repr(r)


def _input_scale_name(src) -> Optional[str]:
    """The expression a SAIL program stores get_input_scale(...) in, e.g. `self.input_scale`."""
    if "get_input_scale" not in src.text:  # the usual case: no walk at all
        return None
    from portlint.analysis.tree import module_index

    for node in module_index(src.module).order:  # lexical order, as a visitor would go
        if type(node) is cst.Assign:
            value = node.value
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get_input_scale":
                return src.module.code_for_node(node.targets[0].target)
    return None


def _sail_format_fix(op: Op, o: Img) -> Optional[Fix]:
    """convert_format(img, BMImage(..., FORMAT_BGR_PLANAR, ...)): name the original's order instead."""
    spec_site = op.params.get("spec_site")
    want = {("R", "G", "B"): "RGB", ("B", "G", "R"): "BGR"}.get(tuple(o.state.channels or ()))
    if spec_site is None or want is None or not isinstance(spec_site.node, cst.Call):
        return None
    for arg in spec_site.node.args:
        value = arg.value
        if isinstance(value, cst.Attribute) and value.attr.value.startswith("FORMAT_") and value.attr.value.endswith("_PLANAR"):
            new = f"FORMAT_{want}_PLANAR"
            if value.attr.value == new:
                return None
            edit = _edit(spec_site, value.attr, new)
            return Fix("safe", f"convert to {new}, the original's channel order", [edit]) if edit else None
    return None


def _contains(outer: Site, node) -> bool:
    found = []

    class Visitor(cst.CSTVisitor):
        def on_visit(self, n) -> bool:
            if n is node:
                found.append(n)
            return not found

    outer.node.visit(Visitor())
    return bool(found)


_HELPER = '''

def {name}(img, size, crop):
    """torchvision Resize(size) + CenterCrop(crop) on an HWC uint8 array (inserted by portlint fix)."""
    h, w = img.shape[:2]
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_w, new_h = int(size * w / h), size
    img = np.asarray(Image.fromarray(img).resize((new_w, new_h), Image.BILINEAR))
    top = int(round((new_h - crop[0]) / 2.0))
    left = int(round((new_w - crop[1]) / 2.0))
    return img[top:top + crop[0], left:left + crop[1]]
'''


def _insert_after_imports(src, text: str) -> Optional[TextEdit]:
    """An insertion after the module's last top-level import (or docstring)."""
    body = src.module.body
    last = None
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
            last = stmt
        elif i == 0 and isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value, cst.SimpleString):
            last = stmt
        elif last is not None or i > 0:
            break
    if last is None:
        return TextEdit(src.display, (1, 1), (1, 1), text.lstrip("\n") + "\n\n")
    sp = span(Site(src, last))
    if sp is None:
        return None
    line = sp[1][0] + 1
    return TextEdit(src.display, (line, 1), (line, 1), "\n\n" + text.strip("\n") + "\n")


def _outer_array(site: Site, call) -> cst.CSTNode:
    return call


class Fixes:
    """One instance per compared pair of pipelines."""

    def resize_antialias(self, ro: Op, rp: Op) -> Optional[Fix]:
        """cv2.resize(img, (w, h)) -> np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR)):
        PIL bilinear equals torchvision Resize on PIL exactly (max |diff| 0, tests/test_fix_numeric.py)."""
        if rp.api != "cv2.resize" or ro.params.get("library") != "pil" or rp.site is None:
            return None
        call = rp.site.node
        if not isinstance(call, cst.Call) or not call.args:
            return None
        src = rp.site.file
        img_code = _code(rp.site, call.args[0].value)
        size_arg = next((a for a in call.args[1:] if a.keyword is None or a.keyword.value == "dsize"), None)
        if size_arg is None:
            return None
        size_code = _code(rp.site, size_arg.value)
        filt = {"bilinear": "BILINEAR", "bicubic": "BICUBIC", "nearest": "NEAREST", "lanczos": "LANCZOS"}.get(ro.params.get("interp") or "bilinear")
        np_name = _import_alias(src, "numpy") or "np"
        image_name = _from_import(src, "PIL", "Image") or "Image"
        imports = []
        if _import_alias(src, "numpy") is None:
            imports.append("import numpy as np")
        if _from_import(src, "PIL", "Image") is None:
            imports.append("from PIL import Image")
        new = f"{np_name}.asarray({image_name}.fromarray({img_code}).resize({size_code}, {image_name}.{filt}))"
        edit = _edit(rp.site, call, new)
        if edit is None:
            return None
        return Fix("safe", f"resize with PIL {filt.lower()} (antialiased), as torchvision does on PIL images", [edit], imports)

    def resize_interpolation(self, ro: Op, rp: Op) -> Optional[Fix]:
        interp = ro.params.get("interp")
        lib = rp.params.get("library")
        call = rp.site.node if rp.site else None
        if not isinstance(call, cst.Call) or lib not in ("cv2", "sail"):
            return None
        if lib == "cv2":
            name = {"nearest": "INTER_NEAREST", "bilinear": "INTER_LINEAR", "bicubic": "INTER_CUBIC", "area": "INTER_AREA",
                    "lanczos": "INTER_LANCZOS4"}.get(interp)
            if name is None or ro.params.get("antialias"):
                return None  # the antialias fix replaces the call instead
            cv2 = _import_alias(rp.site.file, "cv2") or "cv2"
            value = f"{cv2}.{name}"
            keyword = "interpolation"
        else:
            name = {"nearest": "BMCV_INTER_NEAREST", "bilinear": "BMCV_INTER_LINEAR", "bicubic": "BMCV_INTER_BICUBIC"}.get(interp)
            if name is None:
                return None
            sail = _import_alias(rp.site.file, "sophon.sail") or "sail"
            value = f"{sail}.bmcv_resize_algorithm.{name}"
            keyword = None
        interp_node = rp.params.get("interp_node")
        if interp_node is not None:
            edit = _edit(rp.site, interp_node.value, value)
        else:
            last = call.args[-1]
            sp = span(Site(rp.site.file, last))
            if sp is None:
                return None
            text = f", {keyword}={value}" if keyword else f", {value}"
            edit = TextEdit(rp.site.file.display, sp[1], sp[1], text)
        if edit is None:
            return None
        return Fix("safe", f"pass {value} as the original's {interp} interpolation", [edit])

    def resize_swap(self, ro: Op, rp: Op) -> Optional[Fix]:
        node = rp.params.get("size_node")
        if node is None:
            return None
        site = rp.site
        if isinstance(node.value, (cst.Tuple, cst.List)) and len(node.value.elements) == 2:
            a, b = node.value.elements
            ca, cb = _code(site, a.value), _code(site, b.value)
            open_, close = ("(", ")") if isinstance(node.value, cst.Tuple) else ("[", "]")
            new = f"{open_}{cb}, {ca}{close}"
        elif isinstance(node.value, (cst.Name, cst.Attribute, cst.Subscript)):
            code = _code(site, node.value)
            new = f"({code}[1], {code}[0])"
        else:
            return None
        order = "(width, height)" if rp.params.get("order") == "wh" else "(height, width)"
        edit = _edit(site, node.value, new)
        return Fix("safe", f"swap to {order}", [edit]) if edit else None

    def resize_size(self, ro: Op, rp: Op, ctx) -> Optional[Fix]:
        """Original Resize(int) [+ CenterCrop]: replace the ported fixed-size cv2/PIL resize by a
        shorter-side resize (PIL bilinear, as torchvision on PIL images) and a centre crop to the
        size the ported program resized to, through a helper inserted after the imports."""
        if ro.params.get("mode") != "shorter" or ro.params.get("library") != "pil" or rp.site is None:
            return None
        short = ro.params.get("size_arg")
        short = short[0] if isinstance(short, (list, tuple)) and len(short) == 1 else short
        if not isinstance(short, int):
            return None
        call = rp.site.node
        node = rp.params.get("size_node")
        if not isinstance(call, cst.Call) or node is None or rp.api not in ("cv2.resize", "PIL.Image.Image.resize"):
            return None
        src = rp.site.file
        if rp.api == "cv2.resize":
            img_code = _code(rp.site, call.args[0].value)
        else:
            if not isinstance(call.func, cst.Attribute):
                return None
            img_code = f"np.asarray({_code(rp.site, call.func.value)})"
        size_code = _code(rp.site, node.value)
        if isinstance(node.value, (cst.Tuple, cst.List)) and len(node.value.elements) == 2:
            w_code, h_code = (_code(rp.site, e.value) for e in node.value.elements)
            crop = f"({h_code}, {w_code})"
        else:
            crop = f"({size_code}[1], {size_code}[0])"
        helper_name = "resize_shorter_center_crop"
        call_text = f"{helper_name}({img_code}, {short}, {crop})"
        target = call if rp.api == "cv2.resize" else _outer_array(rp.site, call)
        edits = [e for e in (_edit(rp.site, target, call_text), _insert_after_imports(src, _HELPER.format(name=helper_name))) if e]
        if len(edits) != 2 or helper_name in src.text:
            return None
        imports = []
        if _import_alias(src, "numpy") != "np":
            imports.append("import numpy as np")
        if _from_import(src, "PIL", "Image") != "Image":
            imports.append("from PIL import Image")
        return Fix("safe", f"resize the shorter side to {short} (PIL bilinear, as torchvision) and centre-crop to the model size",
                   edits, imports)

    def crop_missing(self, o: Img, p: Img, op: Op, ctx) -> Optional[Fix]:
        return None

    def pad_placement(self, po: Op, pp: Op) -> Optional[Fix]:
        """No automatic rewrite: moving the image inside the canvas also moves every box the
        ported post-processing unscales with its own offsets, so both must change together."""
        return Fix("display-only", "pad centred like the original (top = int((H - h) / 2), left = int((W - w) / 2)) and "
                   "subtract the same offsets when scaling boxes back")

    def pad_value(self, po: Op, pp: Op) -> Optional[Fix]:
        node = pp.params.get("value_node")
        value = po.params.get("value")
        if node is None or not isinstance(value, (int, float, tuple, list)):
            return None
        text = repr(tuple(value)) if isinstance(value, (tuple, list)) else repr(value)
        edit = _edit(pp.site, node.value, text)
        return Fix("safe", f"pad with {text} as the original", [edit]) if edit else None

    def channel_order(self, o: Img, p: Img) -> Optional[Fix]:
        """Convert right after decoding (so every later per-channel step sees the original's order),
        or drop the ported program's own conversion when it is the one that differs."""
        colour_ops = [op for op in p.state.ops if op.stage == "colour"]
        if colour_ops:
            last = colour_ops[-1]
            node = last.site.node if last.site else None
            if last.api == "cv2.cvtColor" and isinstance(node, cst.Call) and node.args and last.params.get("kind") == "swap3":
                edit = _edit(last.site, node, _code(last.site, node.args[0].value))
                return Fix("safe", "remove the BGR<->RGB conversion the original does not make", [edit]) if edit else None
            if last.api == "numpy.reverse_channels" and isinstance(node, cst.Subscript):
                edit = _edit(last.site, node, _code(last.site, node.value))
                return Fix("safe", "remove the channel reversal the original does not make", [edit]) if edit else None
            if last.api in ("sophon.sail.Bmcv.convert_format", "sophon.sail.Bmcv.vpp_convert_format"):
                return _sail_format_fix(last, o)
            return None
        decode = next((op for op in p.state.ops if op.stage == "decode"), None)
        if decode is None or decode.site is None or decode.api not in ("cv2.imread", "cv2.imdecode"):
            return None
        if tuple(o.state.channels or ()) != ("R", "G", "B"):
            return None
        cv2 = _import_alias(decode.site.file, "cv2") or "cv2"
        call = decode.site.node
        edit = _edit(decode.site, call, f"{cv2}.cvtColor({_code(decode.site, call)}, {cv2}.COLOR_BGR2RGB)")
        return Fix("safe", "convert BGR to RGB right after decoding, as the original feeds RGB", [edit]) if edit else None

    def normalize(self, o: Img, p: Img, diffs) -> Optional[Fix]:
        """Rewrite the ported normalisation from the original's per-channel maps: the convert_to
        alpha/beta tuple (times the program's input_scale), or a numpy expression chain."""
        ao = o.state.affine
        co, cp = o.state.channels, p.state.channels
        if not ao or not co or not cp or set(co) != set(cp):
            return None
        target = [ao[co.index(c)] for c in cp]  # the original's map for each ported memory channel
        norm_ops = [op for op in p.state.ops if op.stage == "normalize"]
        if not norm_ops:
            return None
        last = norm_ops[-1]
        if last.api == "sophon.sail.Bmcv.convert_to" and last.params.get("node") is not None:
            return self._convert_to_fix(last, target)
        return self._numpy_fix(p, norm_ops, target)

    def _convert_to_fix(self, op: Op, target) -> Optional[Fix]:
        site = op.site
        scale = _input_scale_name(site.file)
        mul = f" * {scale}" if scale else ""
        pairs = ", ".join(f"({_num(a)}{mul}, {_num(b)}{mul})" for a, b in target)
        node = op.params["node"].value
        edit = _edit(site, node, pairs if getattr(node, "lpar", None) else f"({pairs})")
        return Fix("safe", "alpha/beta solved from the original's mean/std" + (f", scaled by {scale}" if scale else ""), [edit]) if edit else None

    def _numpy_fix(self, p: Img, norm_ops, target) -> Optional[Fix]:
        ops = p.state.ops
        last = norm_ops[-1]
        # the chain of numpy normalisation ops nested in the last op's expression
        chain = []
        for op in reversed(ops[: ops.index(last) + 1]):
            if op.stage != "normalize" or not op.api.startswith("numpy.") or op.site is None or op.site.file is not last.site.file:
                break
            if not _contains(last.site, op.site.node):
                break
            chain.append(op)
        if not chain:
            return None
        first = chain[-1]
        node = first.site.node
        if not isinstance(node, cst.BinaryOperation):
            return None
        img_node = node.left if first.params.get("image_left", True) else node.right
        before = ops[ops.index(first) - 1] if ops.index(first) > 0 else None
        layout = first.params.get("layout") or ""
        np_name = _import_alias(last.site.file, "numpy") or "np"
        shape = "(3, 1, 1)" if layout.replace("N", "") == "CHW" else "(1, 1, 3)"
        means = [(-b / a) / 255.0 for a, b in target]
        stds = [1.0 / (255.0 * a) for a, b in target]
        img_code = _code(last.site, img_node)
        if isinstance(img_node, cst.BinaryOperation):
            img_code = f"({img_code})"
        new = (f"({img_code} / 255.0 - {np_name}.array([{', '.join(_num(m) for m in means)}]).reshape({shape})) / "
               f"{np_name}.array([{', '.join(_num(s) for s in stds)}]).reshape({shape})")
        edit = _edit(last.site, last.site.node, new)
        imports = [] if _import_alias(last.site.file, "numpy") else ["import numpy as np"]
        return Fix("safe", "normalise with the original's mean/std, in the ported channel order", [edit], imports) if edit else None
