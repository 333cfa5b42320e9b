"""PL205 trace: the export script on the original side that produced the ported program's model.

Measured with torch 2.14.1 (rules/PL205.md, tests/test_api_facts.py): a trace records the
operations one example input ran, in the mode the module was in. A new nn.Module is in training
mode (dropout active, batch-norm on batch statistics): traced in train mode a Conv+BN+Dropout
differs from eval by up to 4.89, and calling .eval() on the traced module afterwards does not help
(5.56). `if x.sum() > 0:` in forward is frozen to the branch the example took (eager(-1) = -101,
traced(-1) = -2). The bmodel is compiled for one input shape, so an example batch that differs
from it bakes the wrong batch into shape-dependent code.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from portlint.analysis.image import Site
from portlint.analysis.objects import Instance
from portlint.analysis.events import ModelExport, ModelMode
from portlint.analysis.syntax import code, params_of, walk
from portlint.rules.common import engine_site, guarded
from portlint.rules.base import RuleMeta
from portlint.analysis.values import ApiObject

RULE = RuleMeta("PL205", "trace", "error", (),
                "The export that produced the model is wrong (traced in train mode, data-dependent control flow)")

_SHAPE_ATTRS = ("shape", "ndim", "dtype", "device", "is_cuda", "requires_grad")
_SHAPE_CALLS = ("size", "dim", "numel", "type", "is_floating_point")
_SAFE_FUNCS = ("len", "isinstance", "hasattr", "getattr", "type", "callable")


def _fresh(model) -> bool:
    """A module that starts in training mode: the program's own nn.Module or a torchvision model."""
    from portlint.analysis.apis import is_torch_module_class

    if isinstance(model, Instance):
        return is_torch_module_class(model.cls)
    if isinstance(model, ApiObject) and model.qname == "portlint.Model":
        return str(model.attrs.get("__factory__", "")).startswith("torchvision.models.")
    return False


def _model_name(site: Site, node) -> str:
    if type(node) is cst.Call and node.args:
        return code(site.file, node.args[0].value)
    return "the model"


def _forward_classes(model) -> list:
    """The model's class and the classes of its sub-modules (attributes set in __init__)."""
    from portlint.analysis.apis import is_torch_module_class

    out, stack, seen = [], [model], set()
    while stack:
        obj = stack.pop()
        if not isinstance(obj, Instance) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if is_torch_module_class(obj.cls):
            out.append(obj.cls)
        for v in obj.attrs.values():
            if isinstance(v, Instance):
                stack.append(v)
            elif isinstance(v, (list, tuple)):
                stack.extend(x for x in v if isinstance(x, Instance))
    return out


def _tainted_test(src, fn: cst.FunctionDef) -> Optional[cst.CSTNode]:
    """The first if/while/loop bound in `forward` that depends on tensor values."""
    params = params_of(fn)
    tainted = set(params[1:] if params and params[0] == "self" else params)
    for node in walk(fn.body):
        if type(node) is cst.Assign and _uses_data(src, node.value, tainted):
            for t in node.targets:
                for n in walk(t.target, skip_functions=False):
                    if type(n) is cst.Name:
                        tainted.add(n.value)
        if type(node) in (cst.If, cst.While) and _uses_data(src, node.test, tainted):
            return node
        if type(node) is cst.IfExp and _uses_data(src, node.test, tainted):
            return node
        if type(node) is cst.For and type(node.iter) is cst.Call and "range" in code(src, node.iter.func) and \
                _uses_data(src, node.iter, tainted):
            return node
    return None


def _uses_data(src, expr, tainted: set) -> bool:
    """Does `expr` read tensor *values* of a tainted name (not only its shape, dtype or identity)?"""
    def visit(node) -> bool:
        if type(node) is cst.Attribute and node.attr.value in _SHAPE_ATTRS:
            return False
        if type(node) is cst.Call:
            f = node.func
            if type(f) is cst.Attribute and f.attr.value in _SHAPE_CALLS:
                return False
            if type(f) is cst.Name and f.value in _SAFE_FUNCS:
                return False
        if type(node) is cst.Comparison and all(type(c.operator) in (cst.Is, cst.IsNot) for c in node.comparisons):
            return False
        if type(node) is cst.Name:
            return node.value in tainted
        return any(visit(c) for c in node.children)
    return visit(expr)


def _example_batch(value) -> Optional[int]:
    if isinstance(value, (list, tuple)) and value:
        value = value[0]
    if isinstance(value, ApiObject) and value.qname == "portlint.Tensor":
        shape = value.attrs.get("shape")
        if isinstance(shape, tuple) and shape and isinstance(shape[0], int):
            return shape[0]
    return None


def _check_export(prog, p: ModelExport, ctx, anchor) -> list:
    out = []
    site = p.site
    api = p.api
    model = p.model
    name = _model_name(site, p.node)
    modes = prog.of(ModelMode)
    before = [q for q in modes if q.model is model and q.index < p.index]
    after = [q for q in modes if q.model is model and q.index > p.index] + [
        q for q in modes if q.index > p.index and p.result is not None and q.model is p.result]
    late = ""
    if after and any(q.mode == "eval" for q in after):
        late = "; the .eval() after the export does not help: train-mode batch-norm and dropout are baked into the " \
               "graph (max |diff| 5.56 vs eval, torch 2.14)"
    training = p.training
    if training in ("TRAINING",):
        out.append(RULE.finding(f"{api}(..., training=TrainingMode.TRAINING) exports {name} in training mode: "
                                "dropout stays active and batch-norm uses batch statistics (max |diff| 4.89 vs eval on a "
                                "Conv+BN+Dropout, torch 2.14)", anchor, Site(site.file, p.training_arg or site.node)))
    elif before and before[-1].mode == "train" and training != "EVAL":
        out.append(RULE.finding(f"{api} runs on {name} after {name}.train() (at line "
                                f"{_line(before[-1].site)}): the exported graph has dropout active and batch-norm on "
                                f"batch statistics (max |diff| 4.89 vs eval, torch 2.14){late}", anchor, site))
    elif not before and _fresh(model) and training != "EVAL":
        out.append(RULE.finding(f"{api} runs on {name} without a prior {name}.eval(): a new module is in "
                                "training mode, so the exported graph has dropout active and batch-norm on batch "
                                f"statistics (max |diff| 4.89 vs eval, torch 2.14){late}", anchor, site))
    if p.check_trace is False:
        node = p.check_arg
        out.append(RULE.finding(f"{api}(..., check_trace=False) skips the check that re-runs the traced graph "
                                "against the module: a trace that froze a data-dependent branch or kept dropout passes "
                                "silently", anchor, Site(site.file, node) if node is not None else site, severity="warning"))
    for cls in _forward_classes(model):
        fwd = cls.lookup("forward")
        node = getattr(fwd, "node", None)
        if type(node) is not cst.FunctionDef:
            continue
        test = _tainted_test(fwd.file, node)
        if test is not None:
            shown = code(fwd.file, test.test if hasattr(test, "test") else test.iter).strip()
            out.append(RULE.finding(f"{cls.name}.forward branches on tensor values ({shown}) and is exported with "
                                    f"{api}: the graph keeps only the branch the example input took (for "
                                    "x*2 if x.sum() > 0 else x-100: eager(-1) = -101, traced(-1) = -2)", anchor,
                                    Site(fwd.file, test)))
            break
    batch = _example_batch(p.example)
    shape = getattr(ctx, "input_shape", None)
    if batch is not None and shape and shape[0] != batch:
        where = "--bmodel" if getattr(ctx, "bmodel", None) is not None else "--input-shape"
        out.append(RULE.finding(f"{api} example input has batch {batch} but the bmodel's input has batch "
                                f"{shape[0]} ({where} {','.join(str(d) for d in shape)}): shapes read during the trace "
                                "are frozen as constants for batch " f"{batch}", anchor,
                                Site(site.file, p.example_arg or site.node)))
    return out


def _line(site) -> str:
    from portlint.analysis.locate import locate
    loc = locate(site)
    return str(loc.line) if loc else "?"


@guarded
def check(pair) -> list:
    ctx = pair.ctx
    exports = [(prog, p) for prog in pair.original.programs() for p in prog.of(ModelExport)]
    if not exports:
        return []
    anchor = engine_site(pair.ported)
    if anchor is None:
        entries = pair.ported.side.entries
        if not entries:
            return []
        anchor = Site(entries[0], entries[0].module.body[0] if entries[0].module.body else entries[0].module)
    findings = []
    seen = set()
    for prog, p in exports:
        if id(p.site.node) in seen:
            continue
        seen.add(id(p.site.node))
        findings.extend(_check_export(prog, p, ctx, anchor))
    return findings
