"""PL102 on label maps: a map of class ids (a ground-truth segmentation, an annotation) resized with
an interpolating filter.

A label map holds class ids, not intensities: `cv2.resize`'s default INTER_LINEAR (and any filter
but nearest) blends neighbouring ids into ids of other classes along every boundary, and blends the
ignore index 255 into real classes. sophon-demo's segformer evaluation shrinks the Cityscapes ground
truth to the network's 1024x512 with the default filter; mmseg reads it unchanged (and its training
Resize uses nearest for `gt_semantic_seg`). Read structurally, in the functions the port's programs
ran (the original's whole files): a `cv2.resize` with no nearest filter
whose input or result is named like a label map, or which a function returns to a caller that names
the result so (`gt_seg_map = imread_to_array(path)`).
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.locate import span
from portlint.analysis.syntax import call_name, functions, last_name, walk
from portlint.findings import Fix, TextEdit
from portlint.rules.common import ran_functions
from portlint.rules.fixkit import import_alias

LABEL_NAME = re.compile(r"(^|_)(gt|label|labels|seg_?map|segmap|annotation|ann)($|_)|^gt", re.I)
_NEAREST = ("INTER_NEAREST", "INTER_NEAREST_EXACT", "NEAREST")
_RESIZERS = ("resize", "imresize", "interpolate")


def _labelish(node) -> bool:
    while type(node) in (cst.Subscript, cst.Attribute):
        node = node.value if type(node) is cst.Subscript else node.attr
    return type(node) is cst.Name and bool(LABEL_NAME.search(node.value))


# the positional index of the filter: cv2.resize(src, dsize, dst, fx, fy, interpolation),
# mmcv.imresize(img, size, return_scale, interpolation), F.interpolate(input, size, scale_factor, mode)
_FILTER_POSITION = {"resize": 5, "imresize": 3, "interpolate": 3}


def _filter(call) -> Optional[cst.Arg]:
    """The interpolation argument: `interpolation=`/`mode=`, or the call's positional one."""
    position = _FILTER_POSITION.get(last_name(call.func))
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value in ("interpolation", "mode"):
            return arg
        if arg.keyword is None and i == position:
            return arg
    return None


def filter_kind(call) -> Optional[str]:
    """"nearest", "interpolating", or None when the filter is computed (unknown): cv2.resize's
    default is INTER_LINEAR, mmcv.imresize's 'bilinear', F.interpolate's 'nearest'."""
    arg = _filter(call)
    if arg is None:
        return "nearest" if last_name(call.func) == "interpolate" else "interpolating"
    value = arg.value
    if type(value) is cst.SimpleString:
        nearest = "nearest" in value.value
    elif type(value) is cst.Attribute or (type(value) is cst.Name and value.value.startswith("INTER_")):
        nearest = last_name(value) in _NEAREST  # cv2.INTER_LINEAR, or an imported INTER_CUBIC
    elif type(value) is cst.Integer:
        nearest = value.value in ("0", "6")
    else:
        return None
    return "nearest" if nearest else "interpolating"


def _resizes(src, fn):
    """(call, assigned name or None) of each resize in a function."""
    out = []
    for n in walk(fn.body):
        if type(n) is cst.Assign and type(n.value) is cst.Call and last_name(n.value.func) in _RESIZERS:
            target = n.targets[0].target
            out.append((n.value, target if type(target) is cst.Name else None))
        elif type(n) is cst.Call and last_name(n.func) in _RESIZERS and not any(n is c for c, _ in out):
            out.append((n, None))
    return [(c, t) for c, t in out if call_name(c).split(".")[0] in ("cv2", "mmcv", "F", "torch", "nn") or
            call_name(c) in ("resize", "imresize")]


def _returned(fn, name: Optional[str], call) -> bool:
    """The function returns the resize's result: directly, or a value made from its name or from a
    name assigned from it (`array2 = np.array(resized)`, then `return array2`)."""
    derived = {name} if name is not None else set()
    for n in walk(fn.body):
        if type(n) is cst.Assign and derived and len(n.targets) == 1 and type(n.targets[0].target) is cst.Name and \
                any(type(x) is cst.Name and x.value in derived for x in walk(n.value)):
            derived.add(n.targets[0].target.value)
        if type(n) is cst.Return and n.value is not None:
            if n.value is call or any(type(x) is cst.Name and x.value in derived for x in walk(n.value)):
                return True
    return False


def _asks_nearest(call) -> bool:
    """A caller passing nearest on (`self._align(gt_seg, d, interpolation='nearest')`)."""
    return any(type(a.value) is cst.SimpleString and "nearest" in a.value.value.lower() or
               type(a.value) is cst.Attribute and a.value.attr.value in _NEAREST for a in call.args)


def _label_callers(defs, names: set) -> dict:
    """name of a function (of `names`) -> the label-named target a caller assigns its result to, from
    callers that do not ask for nearest; only files that call one of them by name are walked."""
    out = {}
    for src, fn in defs:
        if not any(name + "(" in src.text for name in names):
            continue
        for n in walk(fn.body):
            if type(n) is cst.Assign and type(n.value) is cst.Call and last_name(n.value.func) in names \
                    and _labelish(n.targets[0].target) and not _asks_nearest(n.value):
                out.setdefault(last_name(n.value.func), n.targets[0].target)
    return out


def label_resizes(defs) -> list:
    """(file, call, why) of each interpolating resize of a label map in the functions `defs`
    ((file, def) pairs)."""
    defs = [(src, fn) for src, fn in defs if src.module is not None]
    out, returned = [], {}
    for src, fn in defs:
        if "resize" not in src.text and "interpolate" not in src.text:
            continue
        for call, target in _resizes(src, fn):
            if not call.args or filter_kind(call) != "interpolating":
                continue
            if _labelish(call.args[0].value) or (target is not None and _labelish(target)):
                out.append((src, call, "the resized array is named as a label map"))
            elif _returned(fn, target.value if target is not None else None, call):
                returned.setdefault(fn.name.value, []).append((src, call))
    if returned:
        callers = _label_callers(defs, set(returned))
        for name, calls in returned.items():
            if name in callers:
                out.extend((src, call, f"{name}() returns it and a caller assigns it to {callers[name].value}")
                           for src, call in calls)
    return out


def _nearest_fix(src, call, original_nearest: bool) -> Optional[Fix]:
    """Unsafe: nearest makes every label a real class id again; whether the map then has the size
    the original compares at is not checked (and where the original does not resize its label maps,
    it has not: the scores still differ)."""
    if not call_name(call).startswith("cv2.") and not call_name(call).endswith(".resize"):
        return None
    if _filter(call) is not None:
        return None
    sp = span(Site(src, call.args[-1]))
    if sp is None:
        return None
    cv2 = import_alias(src, "cv2") or "cv2"
    why = ("as the original does; the sizes of the two resizes are not compared" if original_nearest else
           "every label stays a class id; the map is still compared at another resolution than the original's, "
           "so the scores are not yet the same")
    return Fix("unsafe", f"resize the label map with {cv2}.INTER_NEAREST ({why})",
               [TextEdit(src.display, sp[1], sp[1], f", interpolation={cv2}.INTER_NEAREST")])


def _ran(facts) -> list:
    """(file, def) of every function the side's programs ran, once each."""
    seen, out = set(), []
    for prog in facts.programs():
        for src, fn in ran_functions(prog):
            if id(fn) not in seen:
                seen.add(id(fn))
                out.append((src, fn))
    return out


def _every(facts) -> list:
    return [(src, fn) for src in facts.side.files.values() if src.module is not None for fn in functions(src)]


def findings(pair, rule) -> list:
    """The port's functions that ran are read; the original's whole files, as a library's dataset
    code (mmseg's transforms) may not be what its test program runs."""
    ported = label_resizes(_ran(pair.ported))
    if not ported:
        return []
    original = _every(pair.original)
    if label_resizes(original):
        return []  # the original blends its label maps too
    nearest = _original_nearest(original)
    out = []
    for src, call, why in ported:
        where = ("wherever the original resizes a label map it asks for nearest" if nearest is not None else
                 "the original reads its label maps at their own resolution, unresized")
        msg = (f"ported resizes a label map of class ids with an interpolating filter ({call_name(call)} without "
               f"nearest; {why}): the filter blends neighbouring class ids into other classes and the ignore index "
               f"255 into real ones along every boundary (a 2048x1024 -> 1024x512 shrink of a synthetic 19-class map "
               f"changes 4.4 % of its labels, nearly all to a class none of their source pixels has: "
               f"tests/test_label_map_resize.py); {where}")
        out.append(rule.finding(msg, Site(src, call), nearest, fix=_nearest_fix(src, call, nearest is not None)))
    return out


def _original_nearest(defs) -> Optional[Site]:
    """Where the original resizes a label map with nearest: a resize spelled so, or a call asking for
    it (`resize_label(gt, size, interpolation='nearest')`, `self._align(gt_seg, d, interpolation='nearest')`)."""
    for src, fn in defs:
        if "resize" not in src.text and "nearest" not in src.text:
            continue
        for n in walk(fn.body):
            if type(n) is not cst.Assign or type(n.value) is not cst.Call or not n.value.args:
                continue
            call, target = n.value, n.targets[0].target
            if not (_labelish(target) or _labelish(call.args[0].value)):
                continue
            if _asks_nearest(call) or (last_name(call.func) in _RESIZERS and filter_kind(call) == "nearest"):
                return Site(src, call)
    return None
