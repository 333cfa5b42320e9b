"""Post-processing API semantics (NMS, json output, export): registered here by name.

The handlers record typed events (analysis/events.py) for the rules and otherwise keep the
values they return unknown, since post-processing arrays are not modelled. Facts:
- torchvision.ops.nms(boxes xyxy, scores, iou_threshold) suppresses IoU > thr, no +1 in areas;
  batched_nms(boxes, scores, idxs, iou_threshold) does the same per class (docs/facts.md).
- cv2.dnn.NMSBoxes(bboxes (x, y, w, h), scores, score_threshold, nms_threshold, eta=1, top_k=0)
  keeps score > score_threshold, suppresses IoU > thr and returns () when nothing is kept.
- sail.Bmcv.nms([l, t, r, b, score], thr): greedy, +1 in areas, IoU > thr; nms_rotated: IoU >= thr;
  algo_yolov5_post_*: class offset 7680, IoU > thr (docs/sail.md §6).
- np.mod is the yolov5 letterbox(auto=True) stride padding: dw, dh = np.mod(dw, 32), np.mod(dh, 32).
- A new nn.Module is in training mode; torch.jit.trace / torch.onnx.export record it as it is.
"""

from __future__ import annotations

import libcst as cst

# the handlers wrapped below must be registered before this module wraps them
from portlint.analysis.apis import builtins_api, numpy_api, sail_api, torch_api  # noqa: F401
from portlint.analysis.apis.common import HANDLERS, Ctx, handles
from portlint.analysis.events import JsonDump, ModelExport, NmsCall
from portlint.analysis.values import UNKNOWN, ApiObject, ApiRef, Seq, Sym, numeric_op

S = "sophon.sail."


def _frame(ctx: Ctx) -> tuple:
    """(func, locals, globals) of the frame running the call."""
    frame = ctx.frame
    return getattr(frame, "func", None), getattr(frame, "locals", {}), getattr(frame, "globals", {})


def _record_nms(ctx: Ctx, impl: str, **thresholds) -> None:
    ctx.interp.record(NmsCall(impl, ctx.site, ctx.node, *_frame(ctx), **thresholds))


def _number(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return UNKNOWN


def _list_element(ctx: Ctx, index: int, name: str):
    """A threshold given as `[thr] * batch_size` or `[thr, thr]`: the element's value."""
    value = ctx.arg(index, name)
    if isinstance(value, (list, tuple)) and value and all(_number(v) is not UNKNOWN for v in value):
        return value[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    arg = ctx.arg_node(index, name)
    expr = arg.value if arg is not None else None
    if type(expr) is cst.BinaryOperation and type(expr.operator) is cst.Multiply:
        expr = expr.left if type(expr.left) in (cst.List, cst.Tuple) else expr.right
    if type(expr) in (cst.List, cst.Tuple) and expr.elements and ctx.frame is not None:
        return _number(ctx.interp.eval(expr.elements[0].value, ctx.frame))
    return UNKNOWN


# ------------------------------------------------------------------ NMS
@handles("torchvision.ops.nms", "torchvision.ops.boxes.nms", "torch.ops.torchvision.nms")
def _tv_nms(ctx: Ctx):
    _record_nms(ctx, "torchvision.ops.nms", iou=ctx.arg(2, "iou_threshold"), iou_arg=ctx.arg_node(2, "iou_threshold"),
                boxes_arg=ctx.arg_node(0, "boxes"), per_class=False)
    return UNKNOWN


@handles("torchvision.ops.batched_nms", "torchvision.ops.boxes.batched_nms")
def _tv_batched_nms(ctx: Ctx):
    _record_nms(ctx, "torchvision.ops.batched_nms", iou=ctx.arg(3, "iou_threshold"),
                iou_arg=ctx.arg_node(3, "iou_threshold"), boxes_arg=ctx.arg_node(0, "boxes"), per_class=True)
    return UNKNOWN


@handles("cv2.dnn.NMSBoxes", "cv2.dnn.NMSBoxesBatched")
def _cv2_nms(ctx: Ctx):
    batched = ctx.qname.endswith("Batched")
    off = 1 if batched else 0
    _record_nms(ctx, ctx.qname, iou=ctx.arg(3 + off, "nms_threshold"), iou_arg=ctx.arg_node(3 + off, "nms_threshold"),
                conf=ctx.arg(2 + off, "score_threshold"), conf_arg=ctx.arg_node(2 + off, "score_threshold"),
                top_k=ctx.arg(5 + off, "top_k", 0), boxes_arg=ctx.arg_node(0, "bboxes"), per_class=batched)
    return UNKNOWN


@handles(S + "Bmcv.nms")
def _bmcv_nms(ctx: Ctx):
    _record_nms(ctx, S + "Bmcv.nms", iou=ctx.arg(2, "threshold"), iou_arg=ctx.arg_node(2, "threshold"),
                boxes_arg=ctx.arg_node(1, "input_proposal"), per_class=False)
    return UNKNOWN


@handles(S + "nms_rotated")
def _nms_rotated(ctx: Ctx):
    _record_nms(ctx, S + "nms_rotated", iou=ctx.arg(2, "threshold"), iou_arg=ctx.arg_node(2, "threshold"),
                boxes_arg=ctx.arg_node(0, "boxes"), per_class=False)
    return UNKNOWN


_YOLO_HELPERS = ("algo_yolov5_post_cpu_opt", "algo_yolov5_post_1output", "algo_yolov5_post_3output",
                 "tpu_kernel_api_yolov5_detect_out", "tpu_kernel_api_yolov5_out_without_decode",
                 "algo_yolov8_post_1output_async", "algo_yolov8_seg_post_tpu_opt")


def _helper(ctx: Ctx):
    return ApiObject(ctx.qname, tuple(ctx.args), dict(ctx.kwargs), site=ctx.site)


for _name in _YOLO_HELPERS:
    handles(S + _name)(_helper)


@handles(S + "algo_yolov5_post_cpu_opt.process")
def _cpu_opt_process(ctx: Ctx):
    # process(outputs, ori_w, ori_h, dete_threshold[], nms_threshold[], keep_aspect_ratio, multiclass)
    _record_nms(ctx, S + "algo_yolov5_post_cpu_opt", conf=_list_element(ctx, 4, "dete_threshold"),
                iou=_list_element(ctx, 5, "nms_threshold"), iou_arg=ctx.arg_node(5, "nms_threshold"),
                conf_arg=ctx.arg_node(4, "dete_threshold"), multi_label=ctx.arg(7, "input_use_multiclass_nms"),
                per_class=True)
    return Seq(UNKNOWN)


@handles(S + "tpu_kernel_api_yolov5_detect_out.process", S + "tpu_kernel_api_yolov5_out_without_decode.process")
def _tpu_kernel_process(ctx: Ctx):
    _record_nms(ctx, ctx.qname.rsplit(".", 1)[0], conf=_list_element(ctx, 2, "dete_threshold"),
                iou=_list_element(ctx, 3, "nms_threshold"), iou_arg=ctx.arg_node(3, "nms_threshold"),
                conf_arg=ctx.arg_node(2, "dete_threshold"), per_class=True)
    return Seq(UNKNOWN)


@handles(S + "algo_yolov5_post_1output.push_data", S + "algo_yolov5_post_3output.push_data")
def _post_push(ctx: Ctx):
    # push_data(channel_idx, image_idx, data, dete_threshold, nms_threshold, ori_w, ori_h, ...)
    _record_nms(ctx, ctx.qname.rsplit(".", 1)[0], conf=_list_element(ctx, 4, "dete_threshold"),
                iou=_list_element(ctx, 5, "nms_threshold"), iou_arg=ctx.arg_node(5, "nms_threshold"),
                conf_arg=ctx.arg_node(4, "dete_threshold"), per_class=True)
    return 0


# ------------------------------------------------------------------ numbers
@handles("numpy.mod", "numpy.remainder")
def _np_mod(ctx: Ctx):
    a, b = ctx.arg(0, "x1"), ctx.arg(1, "x2")
    if all(isinstance(v, (int, float, Sym)) and not isinstance(v, bool) for v in (a, b)):
        return numeric_op("mod", a, b)
    return UNKNOWN


# ------------------------------------------------------------------ json
@handles("json.dump", "json.dumps")
def _json_dump(ctx: Ctx):
    ctx.interp.record(JsonDump(ctx.arg(0, "obj"), ctx.site, ctx.node, *_frame(ctx)))
    return UNKNOWN if ctx.qname.endswith("dumps") else None


# ------------------------------------------------------------------ export
def _shape_args(ctx: Ctx):
    dims = list(ctx.args)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    size = ctx.kwargs.get("size")
    if not dims and isinstance(size, (list, tuple)):
        dims = list(size)
    if dims and not ctx.kwargs.get("__splat__"):
        return tuple(d if isinstance(d, (int, Sym)) and not isinstance(d, bool) else UNKNOWN for d in dims)
    return UNKNOWN


@handles("torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty")
def _example_tensor(ctx: Ctx):
    """Only the shape is kept: it is the example input of a trace or an export."""
    return ApiObject("portlint.Tensor", attrs={"shape": _shape_args(ctx)}, site=ctx.site)


@handles("portlint.Tensor.*")
def _tensor_same(ctx: Ctx):
    name = ctx.qname.rsplit(".", 1)[-1]
    if name in ("to", "cuda", "cpu", "float", "half", "double", "type", "contiguous", "requires_grad_", "detach", "clone"):
        return ctx.args[0]
    if name == "size":
        return ctx.args[0].attrs.get("shape", UNKNOWN)
    return UNKNOWN


_trace_factory = HANDLERS.get("torch.jit.trace")


@handles("torch.jit.trace")
def _jit_trace(ctx: Ctx):
    result = _trace_factory(ctx) if _trace_factory is not None else UNKNOWN
    func, local, glob = _frame(ctx)
    ctx.interp.record(ModelExport(
        api="torch.jit.trace", model=ctx.arg(0, "func"), example=ctx.arg(1, "example_inputs"),
        example_arg=ctx.arg_node(1, "example_inputs"), result=result, check_trace=ctx.arg(None, "check_trace", True),
        check_arg=ctx.arg_node(None, "check_trace"), training=None, site=ctx.site, node=ctx.node,
        func=func, locals=local, globals=glob))
    return result


@handles("torch.onnx.export")
def _onnx_export(ctx: Ctx):
    # export(model, args, f, export_params=True, verbose=False, training=TrainingMode.EVAL, ...)
    training = ctx.arg(5, "training", None)
    if training is None:
        training = "EVAL"  # the default: the exporter puts the module in eval mode while it exports
    elif isinstance(training, ApiRef):
        training = training.qname.rsplit(".", 1)[-1]
    elif training is True:
        training = "TRAINING"
    elif training is False:
        training = "EVAL"
    func, local, glob = _frame(ctx)
    ctx.interp.record(ModelExport(
        api="torch.onnx.export", model=ctx.arg(0, "model"), example=ctx.arg(1, "args"),
        example_arg=ctx.arg_node(1, "args"), result=None, check_trace=True, check_arg=None, training=training,
        training_arg=ctx.arg_node(5, "training"), site=ctx.site, node=ctx.node,
        func=func, locals=local, globals=glob))
    return None
