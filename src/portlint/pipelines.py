"""What `check` found on each side of a pair: per traced program, where the image is decoded and
where it reaches the model. Why: a pair whose side has no such pipeline compared nothing of its
pre-processing and must never read "All checks passed" (every format says so, and the exit
status, README "Exit codes"); and a pair given the wrong way round (SAIL in the original, a torch
model in the port) compares nonsense, so it is refused with a one-line error.

Each pipeline is plain JSON data (it is cached with the report and printed as is):
    {"program": "port/resnet_sail.py", "runtime": "sail",
     "decode": {"path", "line", "column", "api"} or null, "model": {"path", "line", "column", "api"}}
"""

from __future__ import annotations

from typing import Optional

SAIL, TORCH, ONNX, OPENCV, OTHER = "sail", "torch", "onnxruntime", "opencv-dnn", "other"


def runtime_of(api: str) -> str:
    """Which runtime a model call (events.Sink.api) is: SAIL, torch, onnxruntime, OpenCV's dnn."""
    if api.startswith("sophon.sail") or api.startswith("sail."):
        return SAIL
    if api.startswith("onnxruntime"):
        return ONNX
    if api.startswith("cv2.dnn"):
        return OPENCV
    if api.startswith("torch") or api == "model":
        return TORCH
    return OTHER


def _where(site, api: str) -> Optional[dict]:
    from portlint.analysis.locate import locate

    loc = locate(site) if site is not None else None
    return None if loc is None else {"path": loc.path, "line": loc.line, "column": loc.column, "api": api}


def side_pipelines(facts) -> list[dict]:
    """One entry per pipeline `check` compares on this side (rules.matching.candidates)."""
    from portlint.rules.matching import candidates

    out = []
    for sink in candidates(facts.sinks):
        decode = next((op for op in sink.img.state.ops if op.stage == "decode"), None)
        out.append({
            "program": getattr(sink.entry, "display", None),
            "runtime": runtime_of(sink.api),
            "decode": _where(decode.site, decode.api) if decode is not None else None,
            "model": _where(sink.site, sink.api),
        })
    return out


def _imports_sail(side) -> bool:
    return any("sophon" in src.text and ("sophon.sail" in src.text or "from sophon import" in src.text)
               for src in side.files.values())


def check_not_swapped(original_arg: str, ported_arg: str, o_side, p_side, o_pipes: list, p_pipes: list) -> Optional[str]:
    """The one-line error when the original runs a bmodel through SAIL and the port a torch (or
    onnxruntime) model: the arguments are the wrong way round. None when they are not."""
    o_rt = {p["runtime"] for p in o_pipes}
    p_rt = {p["runtime"] for p in p_pipes}
    o_sail = SAIL in o_rt or _imports_sail(o_side)
    p_sail = SAIL in p_rt or _imports_sail(p_side)
    p_torch = bool(p_rt & {TORCH, ONNX})
    o_torch = bool(o_rt & {TORCH, ONNX})
    if o_sail and not p_sail and p_torch and not o_torch:
        return (f"is given as ORIGINAL but runs a bmodel through SOPHON-SAIL, and PORTED {ported_arg} runs a "
                f"{'torch' if TORCH in p_rt else 'onnxruntime'} model: the sides look swapped; give the original "
                "PyTorch program first (portlint check ORIGINAL PORTED)")
    return None


def pair_entry(original_arg: str, ported_arg: str, o_pipes: list, p_pipes: list) -> dict:
    """The pair's `pairs[]` entry of the JSON report; `compared` is false when a side has no pipeline."""
    missing = [name for name, pipes in (("original", o_pipes), ("ported", p_pipes)) if not pipes]
    return {"original": original_arg, "ported": ported_arg,
            "pipelines": {"original": o_pipes, "ported": p_pipes},
            "compared": not missing, "not_found": missing}
