"""PL103, the size of a dense prediction: whether each program brings its segmentation output back
to the input image's size, and whether it does so before or after the argmax.

mmseg's `EncoderDecoder.whole_inference` (rescale=True, what `simple_test` and the demo's
`inference_segmentor` run) resizes the segmentation logits bilinearly to `img_meta['ori_shape']`
and `simple_test` takes the argmax there: the label map has the image's size, its class boundaries
decided between upsampled logits. A port whose bmodel ends in the argmax (the ONNX export traces
the model with ori_shape = the input shape) and saves that map as it comes is at the network's
resolution (512x1024 for a 1024x2048 Cityscapes frame); a port that takes the argmax and then
resizes the labels (nearest) has the image's size but other boundaries. Measured here with torch
(tests/test_dense_output.py): 19-class seeded N(0, 1) logits at 512x1024, upsampled 2x bilinearly
then argmax vs argmax then nearest: 41% of the pixels differ (21% after a 5x5 box blur of the logits,
4% for region-like logits upsampled 16x from 32x64): the share depends on how smooth the logits are.

Read: of the original, the program-run functions that resize something named `*logit*` to a size
read from `ori*`/`orig*`/`origin*` and take an argmax; of the port, the functions its programs ran.
Resize calls under `if NAME:` with NAME a module constant that is false (`RESEZE_ORIGIN = 0`) do
not run and are not counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.syntax import ancestors, call_name, code, last_name, walk
from portlint.findings import Fix
from portlint.rules.common import ran_functions
from portlint.rules.pl207_mask_order import _before

_RESAMPLE = ("resize", "interpolate", "upsample", "imresize")
# `ori_shape`, `orig_h`, `self.origin_scale`, `img_ori`; not `prior_box`
_ORIGINAL_SIZE = re.compile(r"(?<![a-z])(ori|orig|origin|original)(?![a-z])", re.I)
_WRITES = ("imwrite", "save", "imsave")
_WRAPPERS = ("UMat", "uint8", "astype", "array", "asarray", "squeeze", "ascontiguousarray", "copy")
_PREDICT = ("predict", "inference", "infer", "forward", "process")
_MODEL_METHODS = _PREDICT + ("postprocess",)
# measured by tests/test_dense_output.py (seeded 19-class logits, 2x): region-like to independent per pixel
DIFFER_RANGE = "4% to 41%"


@dataclass
class Dense:
    src: object
    fn: cst.FunctionDef
    node: cst.Call  # the resize, or the write of the prediction


def _first_arg(call: cst.Call):
    for a in call.args:
        if a.keyword is None or a.keyword.value in ("input", "src", "img"):
            return a.value
    return None


def _size_arg(call: cst.Call):
    for a in call.args:
        if a.keyword is not None and a.keyword.value in ("size", "dsize", "output_shape"):
            return a.value
    positional = [a for a in call.args if a.keyword is None]
    return positional[1].value if len(positional) > 1 else None


def _assignments(fn, name: str) -> list:
    """The values assigned to `name` in fn (a plain target or an element of a tuple target)."""
    out = []
    for n in walk(fn.body):
        if type(n) is not cst.Assign:
            continue
        for t in n.targets:
            target = t.target
            if type(target) is cst.Name and target.value == name:
                out.append(n.value)
            elif type(target) in (cst.Tuple, cst.List):
                for i, el in enumerate(target.elements):
                    if type(el.value) is cst.Name and el.value.value == name:
                        value = n.value
                        if type(value) in (cst.Tuple, cst.List) and len(value.elements) == len(target.elements):
                            value = value.elements[i].value
                        out.append(value)
    return out


def _to_original_size(src, fn, call: cst.Call) -> bool:
    """The resize's size is read from the original image's shape (directly or one assignment away)."""
    size = _size_arg(call)
    if size is None:
        return False
    if _ORIGINAL_SIZE.search(code(src, size)):
        return True
    names = {n.value for n in walk(size) if type(n) is cst.Name}
    return any(_ORIGINAL_SIZE.search(code(src, v)) for name in names for v in _assignments(fn, name))


def _module_constant(src, name: str):
    """The literal a module assigns to `name` once at its top level, else None."""
    found = []
    for stmt in src.module.body:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) is cst.Assign and any(
                        type(t.target) is cst.Name and t.target.value == name for t in small.targets):
                    found.append(small.value)
    if len(found) == 1 and type(found[0]) in (cst.Integer, cst.Name):
        v = found[0]
        if type(v) is cst.Integer:
            return int(v.value, 0)
        return {"True": True, "False": False, "None": None}.get(v.value, "?")
    return "?"


def _dead(src, node) -> bool:
    """Under `if NAME:` whose NAME is a false module constant."""
    for anc in ancestors(src, node):
        if type(anc) is cst.If and type(anc.test) is cst.Name:
            if _module_constant(src, anc.test.value) in (0, False, None):
                inside_body = any(a is anc.body for a in ancestors(src, node))
                if inside_body:
                    return True
    return False


def _argmax_calls(fn) -> list:
    return [n for n in walk(fn.body) if type(n) is cst.Call and last_name(n.func) == "argmax"]


def original_restore(facts) -> Optional[Dense]:
    """The original's resize of the segmentation logits to the image's size, when a program that
    runs it also takes an argmax."""
    for prog in facts.programs():
        fns = list(ran_functions(prog))
        if not any(_argmax_calls(fn) for _, fn in fns):
            continue
        for src, fn in fns:
            for n in walk(fn.body):
                if type(n) is not cst.Call or last_name(n.func).lower() not in _RESAMPLE:
                    continue
                arg = _first_arg(n)
                if arg is not None and "logit" in code(src, arg).lower() and _to_original_size(src, fn, n):
                    return Dense(src, fn, n)
    return None


def _port_restores(fns) -> list:
    return [Dense(src, fn, n) for src, fn in fns for n in walk(fn.body)
            if type(n) is cst.Call and last_name(n.func).lower() in _RESAMPLE
            and _to_original_size(src, fn, n) and not _dead(src, n)]


def _model_classes(fns) -> dict:
    """The local classes (by name) whose methods the program ran and that have a model method."""
    out = {}
    for src, fn in fns:
        for anc in ancestors(src, fn):
            if type(anc) is cst.ClassDef:
                methods = {s.name.value for s in anc.body.body if type(s) is cst.FunctionDef}
                if methods & set(_MODEL_METHODS):
                    out[anc.name.value] = anc
                break
    return out


def _model_result(src, fn, expr, classes: dict, depth: int = 0) -> Optional[cst.Call]:
    """The call of the model wrapper that `expr` is read from, unresized (`cv2.UMat(output[i])`
    <- `output, seg = segformer(imgs)` <- `segformer = SegFormer(args)`), else None."""
    if depth > 4 or expr is None:
        return None
    while True:
        if type(expr) in (cst.Subscript, cst.Attribute) and type(expr) is not cst.Call:
            expr = expr.value
        elif type(expr) is cst.Call and last_name(expr.func) in _WRAPPERS:
            expr = expr.args[0].value if expr.args else (expr.func.value if type(expr.func) is cst.Attribute else None)
        else:
            break
    if type(expr) is cst.Call:
        if last_name(expr.func).lower() in _RESAMPLE:
            return None
        callee = expr.func
        if type(callee) is cst.Attribute and callee.attr.value in _MODEL_METHODS:
            return expr
        if type(callee) is cst.Name:
            made = _assignments(fn, callee.value)
            if any(type(v) is cst.Call and last_name(v.func) in classes for v in made):
                return expr
        return None
    if type(expr) is not cst.Name:
        return None
    for value in _assignments(fn, expr.value)[-1:]:
        got = _model_result(src, fn, value, classes, depth + 1)
        if got is not None and _element_is_prediction(src, fn, expr.value, got, classes):
            return got
    return None


def _element_is_prediction(src, fn, name: str, call: cst.Call, classes: dict) -> bool:
    """`output, seg = segformer(imgs)`: the element `name` takes is, in the wrapper's `__call__`'s
    returned tuple, read from its model method (`self.predict`), not from its `self.postprocess`
    (a palette image). A name bound to the whole result is the prediction."""
    index = None
    for n in walk(fn.body):
        if type(n) is cst.Assign and n.value is call:
            for t in n.targets:
                if type(t.target) in (cst.Tuple, cst.List):
                    for i, el in enumerate(t.target.elements):
                        if type(el.value) is cst.Name and el.value.value == name:
                            index = i
    if index is None:
        return True
    method = _wrapper_call(call, fn, classes)
    if method is None:
        return False
    for n in walk(method.body):
        if type(n) is cst.Return and type(n.value) is cst.Tuple and index < len(n.value.elements):
            return _reads_model(method, n.value.elements[index].value)
    return False


def _wrapper_call(call, fn, classes: dict):
    """The `__call__` of the local class the called name was made from."""
    if type(call.func) is not cst.Name:
        return None
    for v in _assignments(fn, call.func.value):
        if type(v) is cst.Call and last_name(v.func) in classes:
            cls = classes[last_name(v.func)]
            return next((s for s in cls.body.body if type(s) is cst.FunctionDef and s.name.value == "__call__"), None)
    return None


def _reads_model(method, expr, depth: int = 0) -> bool:
    """`expr` in `method` is read from a `self.predict(...)`-like call (not `self.postprocess`)."""
    if depth > 3 or expr is None:
        return False
    while type(expr) is cst.Subscript or (type(expr) is cst.Call and last_name(expr.func) in _WRAPPERS and expr.args):
        expr = expr.value if type(expr) is cst.Subscript else expr.args[0].value
    if type(expr) in (cst.List, cst.Tuple):
        return any(_reads_model(method, el.value, depth + 1) for el in expr.elements)
    if type(expr) is cst.Call:  # a model method; anything else made from its output is not it
        return type(expr.func) is cst.Attribute and expr.func.attr.value in _PREDICT
    if type(expr) is cst.Name:
        return any(_reads_model(method, v, depth + 1) for v in _assignments(method, expr.value))
    return False


def _saved_predictions(fns) -> list:
    """(write call, model call) of each write of the model wrapper's output as it comes."""
    classes = _model_classes(fns)
    out = []
    for src, fn in fns:
        for n in walk(fn.body):
            if type(n) is not cst.Call or last_name(n.func) not in _WRITES or len(n.args) < 2:
                continue
            if not call_name(n).startswith(("cv2.", "np.", "numpy.")):
                continue
            model = _model_result(src, fn, n.args[1].value, classes)
            if model is not None:
                out.append((Dense(src, fn, n), model))
    return out


def _short(src, node) -> str:
    text = " ".join(code(src, node).split())
    return text if len(text) <= 70 else text[:67] + "..."


def _sizes(ctx) -> str:
    net = getattr(ctx, "input_shape", None)
    images = getattr(ctx, "image_sizes", None)
    out = ""
    if net and len(net) == 4 and all(isinstance(d, int) for d in net[2:]):
        out = f" ({net[2]}x{net[3]}, h x w)"
    if images:
        h, w = images[0]
        out += f" where the original's is the image's ({h}x{w})"
    return out


_FIX = Fix("display-only", "resize the model's logits to the image's size (bilinear, as the original) and take the "
           "argmax there; not an edit: a bmodel that ends in the argmax gives no logits to resize (it must be exported "
           "without the argmax first), and where the image's size is known depends on the program")
_ORDER_FIX = Fix("display-only", "resize the logits bilinearly to the image's size and take the argmax after, as the "
                 "original; not an edit: the resize here is of the one-channel label map, and resizing the logits "
                 "instead needs their (C, H, W) layout moved to what the resize takes (cv2.resize: H, W, C)")


def findings(pair, rule) -> list:
    orig = original_restore(pair.original)
    if orig is None:
        return []
    oshort = _short(orig.src, orig.node)
    out, done = [], set()
    for prog in pair.ported.programs():
        fns = list(ran_functions(prog))
        restores = _port_restores(fns)
        for r in restores:
            argmaxes = [a for a in _argmax_calls(r.fn) if _before(r.fn, a, r.node)]
            if not argmaxes or id(r.node) in done:
                continue
            done.add(id(r.node))
            msg = (f"ported takes the argmax ({_short(r.src, argmaxes[0])}) and then resizes the label map to the "
                   f"image's size ({_short(r.src, r.node)}); the original resizes the segmentation logits "
                   f"({oshort}) and takes the argmax after: class boundaries differ (bilinear logits then argmax "
                   f"vs argmax then nearest differ on {DIFFER_RANGE} of the pixels of seeded 19-class logits at 2x, "
                   f"from region-like to independent per pixel)")
            out.append(rule.finding(msg, Site(r.src, r.node), Site(orig.src, orig.node), fix=_ORDER_FIX,
                                    related=[(Site(r.src, argmaxes[0]), "the argmax, before the resize")]))
        if restores:
            continue
        for write, model in _saved_predictions(fns):
            if id(write.node) in done:
                continue
            done.add(id(write.node))
            msg = (f"ported saves the model's prediction as it comes ({_short(write.src, write.node)}), at the "
                   f"network's resolution{_sizes(pair.ctx)}; the original resizes the segmentation logits to the "
                   f"input image's size ({oshort}) and takes the argmax there, so its label map has the image's "
                   "size and the port's does not")
            out.append(rule.finding(msg, Site(write.src, write.node), Site(orig.src, orig.node), fix=_FIX,
                                    related=[(Site(write.src, model), "the model's output, not resized")]))
    return out
