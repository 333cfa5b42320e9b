"""Builds the Fix (text edits on the ported file) for each preprocessing finding.

Each method returns None when no correct rewrite can be derived from what is known."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.engine.image import Img, Op, Site
from portlint.engine.locate import node_code, span
from portlint.findings import Fix, TextEdit


def _edit(site: Site, node: cst.CSTNode, replacement: str) -> Optional[TextEdit]:
    sp = span(Site(site.file, node))
    if sp is None:
        return None
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


class Fixes:
    """One instance per compared pair of pipelines."""

    def resize_antialias(self, ro: Op, rp: Op) -> Optional[Fix]:
        """cv2.resize(img, (w, h)) -> np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR)):
        PIL bilinear equals torchvision Resize on PIL exactly (max |diff| 0, tests/test_fix_numeric.py)."""
        if rp.params.get("library") != "cv2" or ro.params.get("library") != "pil" or rp.site is None:
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
        if node is None or not isinstance(node.value, (cst.Tuple, cst.List)) or len(node.value.elements) != 2:
            return None
        a, b = node.value.elements
        site = rp.site
        ca, cb = _code(site, a.value), _code(site, b.value)
        open_, close = ("(", ")") if isinstance(node.value, cst.Tuple) else ("[", "]")
        edit = _edit(site, node.value, f"{open_}{cb}, {ca}{close}")
        return Fix("safe", "swap to (width, height)", [edit]) if edit else None

    def resize_size(self, ro: Op, rp: Op, ctx) -> Optional[Fix]:
        return None

    def crop_missing(self, o: Img, p: Img, op: Op, ctx) -> Optional[Fix]:
        return None

    def pad_value(self, po: Op, pp: Op) -> Optional[Fix]:
        node = pp.params.get("value_node")
        value = po.params.get("value")
        if node is None or not isinstance(value, (int, float, tuple, list)):
            return None
        text = repr(tuple(value)) if isinstance(value, (tuple, list)) else repr(value)
        edit = _edit(pp.site, node.value, text)
        return Fix("safe", f"pad with {text} as the original", [edit]) if edit else None

    def channel_order(self, o: Img, p: Img) -> Optional[Fix]:
        return None

    def normalize(self, o: Img, p: Img, diffs) -> Optional[Fix]:
        return None
