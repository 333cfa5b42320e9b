"""Stage-by-stage comparison of two replayed pipelines.

Each stage row compares the two sides at the point where each has done its ops of that stage
and of every earlier stage (canonical order decode, colour, resize, crop, pad, normalize,
layout), brought to one form so that only that stage's difference can show:

- decode: HWC, channels reordered to RGB by their labels, in 0-255 pixel levels.
- colour: the decoded image in the channel order each side feeds its model (a channel
  permutation commutes with resize/crop/pad, so this isolates the colour step).
- resize, crop, pad: HWC, channels reordered to RGB, 0-255 pixel levels (any normalisation a
  side did earlier is undone through its per-channel affine); a colour step a side does later
  is already in the colour row, so geometry is judged on its own.
- normalize: HWC, memory channel order, values as normalised.
- layout: each side's own axis order without the batch axis (a HWC vs CHW port differs here).
- input: exactly the tensors given to the models (the manual's step 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from portlint.verify.values import (
    RGB, Snapshot, V, affine_scale, canonical, drop_batch, dtype_name, is_raw, own_layout, shape_of,
)

ORDER = {"decode": 0, "colour": 1, "resize": 2, "crop": 3, "pad": 4, "normalize": 5, "layout": 6,
         "dtype": 7, "batch": 7, "other": 7}
PIXEL_STAGES = ("decode", "colour", "resize", "crop", "pad")
PRE_STAGES = ("decode", "colour", "resize", "crop", "pad", "normalize", "layout")


@dataclass
class Tolerances:
    """Defaults and why: docs/verify.md ("Tolerances")."""

    pixel_atol: float = 1.0  # grey levels: JPEG decoders and float->uint8 rounding differ by one
    atol: float = 1e-3  # normalised units and model outputs: the manual's FP32-bmodel criterion
    rtol: float = 0.0
    cos: float = 0.999


@dataclass
class Stage:
    name: str
    aligned: bool
    max_abs_diff: Optional[float]
    mean_abs_diff: Optional[float]
    cosine: Optional[float]
    original: dict
    ported: dict
    emulated: bool = False
    tolerance: Optional[float] = None
    compared_as: str = ""
    original_op: Optional[str] = None
    ported_op: Optional[str] = None
    message: str = ""
    notes: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    diff: Any = None  # |original - ported| in the compared form, for heatmaps (not serialised)
    pair: Any = None  # (original, ported) arrays in the compared form, for the HTML report
    failed: list = field(default_factory=list)  # the tests that failed: max_abs_diff, cosine, shape
    euclidean: Optional[float] = None  # tpu-mlir npz_tool's euclidean similarity
    sqnr_db: Optional[float] = None  # signal-to-noise of ported against original (inf: identical)

    def to_json(self) -> dict:
        out = {
            "name": self.name, "aligned": self.aligned, "max_abs_diff": self.max_abs_diff,
            "mean_abs_diff": self.mean_abs_diff, "cosine": self.cosine,
            "original": self.original, "ported": self.ported, "emulated": self.emulated,
            "tolerance": self.tolerance, "compared_as": self.compared_as,
            "original_op": self.original_op, "ported_op": self.ported_op, "message": self.message,
            "failed": list(self.failed), "euclidean": self.euclidean,
            "sqnr_db": None if self.sqnr_db is None else (self.sqnr_db if np.isfinite(self.sqnr_db) else "inf"),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        out.update(self.extra)
        return out


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(euclidean similarity, SQNR in dB) as tpu-mlir's `npz_tool compare` computes them
    (numpy_helper/tensor_compare.py): 1 - ||a - b|| / ||(a + b) / 2||, and
    10 log10(var(a) / var(a - b)) with zero-mean variances (inf when b equals a)."""
    a = np.nan_to_num(np.asarray(a, dtype=np.float64).ravel(), nan=0.0, posinf=1e4, neginf=-1e4)
    b = np.nan_to_num(np.asarray(b, dtype=np.float64).ravel(), nan=0.0, posinf=1e4, neginf=-1e4)
    if a.size == 0 or np.array_equal(a, b):
        return 1.0, float("inf")
    ed = float(np.sqrt(np.sum((a - b) ** 2)))
    sr = float(np.sqrt(np.sum(((a + b) / 2) ** 2))) + 1e-7
    noise = a - b
    var_a, var_n = float(np.sum((a - a.mean()) ** 2)), float(np.sum((noise - noise.mean()) ** 2))
    sqnr = float("inf") if var_n == 0 or var_a == 0 else float(10 * np.log10(var_a / var_n))
    return 1.0 - ed / sr, sqnr


def metrics(a: np.ndarray, b: np.ndarray) -> dict:
    """max|diff|, mean|diff|, cosine, euclidean similarity, SQNR of two same-shape arrays (float64)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return {"max": 0.0, "mean": 0.0, "cos": 1.0, "euclid": 1.0, "sqnr": float("inf"), "diff": np.zeros_like(a)}
    diff = np.abs(a - b)
    if not np.all(np.isfinite(diff)):
        bad = ~np.isfinite(diff)
        both_same = (a == b) | (np.isnan(a) & np.isnan(b))
        diff = np.where(bad & both_same, 0.0, np.where(bad, np.inf, diff))
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 and nb == 0:
        cos = 1.0
    elif na == 0 or nb == 0 or not np.isfinite(na * nb):
        cos = 0.0
    else:
        cos = float(np.clip(np.sum(a * b) / (na * nb), -1.0, 1.0))
    euclid, sqnr = similarity(a, b)
    return {"max": float(np.max(diff)), "mean": float(np.mean(diff)), "cos": cos, "euclid": euclid, "sqnr": sqnr,
            "diff": diff}


def spec(x) -> dict:
    return {"shape": shape_of(x), "dtype": dtype_name(x)}


GEOMETRY = ("resize", "crop", "pad")


def pick(snaps: list[Snapshot], stage: str) -> Optional[Snapshot]:
    """The snapshot after the last op of `stage` or of any stage before it; for resize and crop,
    before the first op of a later geometric stage (a letterbox's transpose and channel flip
    after its padding must not pull the padding into the resize row)."""
    limit = ORDER[stage]
    stop = len(snaps)
    if stage in GEOMETRY:
        later = [i for i, s in enumerate(snaps) if s.stage in GEOMETRY and ORDER[s.stage] > limit]
        if later:
            stop = later[0]
    found = None
    for s in snaps[:stop]:
        if ORDER.get(s.stage, 7) <= limit:
            found = s
    return found


def _has(snaps, stage) -> bool:
    return any(s.stage == stage for s in snaps)


def _op(s: Optional[Snapshot]) -> Optional[str]:
    if s is None:
        return None
    return f"{s.api} ({s.where})" if s.where else s.api


def _stage_op(snaps: list[Snapshot], stage: str, fallback: Optional[Snapshot]) -> Optional[str]:
    """The side's last op of that very stage (what a reader should look at), else the snapshot's."""
    own = [s for s in snaps if s.stage == stage]
    if own:
        return _op(own[-1])
    return None if fallback is None else f"(no {stage} step; value after {_op(fallback)})"


def _fmt(x: float) -> str:
    if x is None:
        return "-"
    if not np.isfinite(x):
        return str(float(x))  # nan, inf
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.6g}"


def judge(name: str, a, b, tol: float, tols: Tolerances, **kw) -> Stage:
    """A stage row from two arrays in the compared form. The message says which test failed:
    the max|diff| bound, the cosine floor, or the shapes (issue 15.9)."""
    a = np.asarray(a)
    b = np.asarray(b)
    orig, port = kw.pop("original", spec(a)), kw.pop("ported", spec(b))
    if a.shape != b.shape:
        return Stage(name, False, None, None, None, orig, port, tolerance=tol, failed=["shape"],
                     message=f"{name} unaligned! shapes differ: {list(a.shape)} vs {list(b.shape)}", **kw)
    m = metrics(a, b)
    bound = tol + tols.rtol * float(np.max(np.abs(a))) if a.size else tol
    failed = []
    if not m["max"] <= bound:
        failed.append("max_abs_diff")
    if not m["cos"] >= tols.cos:
        failed.append("cosine")
    aligned = not failed
    msg = f"{name} aligned." if aligned else f"{name} unaligned! {name}_diff_max: {_fmt(m['max'])}"
    if aligned and m["max"] > 0:
        msg = f"{name} aligned. {name}_diff_max: {_fmt(m['max'])}"
    if failed:  # the manual's line, then which test failed
        size = f"> tolerance {_fmt(bound)}" if "max_abs_diff" in failed else f"within tolerance {_fmt(bound)}"
        cos = f"failed the cosine test: {m['cos']:.7g} < --cos {_fmt(tols.cos)}" if "cosine" in failed else ""
        msg += f" ({size}{'; ' + cos if cos else ''})"
    return Stage(name, aligned, m["max"], m["mean"], m["cos"], orig, port, tolerance=bound, message=msg,
                 diff=m["diff"], pair=(a, b), failed=failed, euclidean=m["euclid"], sqnr_db=m["sqnr"], **kw)


def _colour_view(decode_rgb: np.ndarray, channels: Optional[tuple]) -> Optional[np.ndarray]:
    """The RGB decode permuted into a side's model channel order; None if not a permutation."""
    if not channels or len(channels) != decode_rgb.shape[2] or not set(channels) <= set(RGB):
        return None
    return decode_rgb[:, :, [RGB.index(c) for c in channels]]


def compare_stages(o: list[Snapshot], p: list[Snapshot], tols: Tolerances) -> list[Stage]:
    rows: list[Stage] = []
    o_final, p_final = o[-1].value, p[-1].value
    carried = 0.0  # largest diff an aligned pixel stage let through (grey levels)
    for name in PRE_STAGES:
        if name not in ("decode",) and not (_has(o, name) or _has(p, name)):
            if name != "colour" or (o_final.channels == p_final.channels):
                continue
        so, sp = pick(o, name), pick(p, name)
        if so is None or sp is None:
            continue
        vo, vp = so.value, sp.value
        emulated = vo.emulated or vp.emulated
        notes = sorted(set(vo.notes) | set(vp.notes))
        kw = dict(emulated=emulated, original_op=_stage_op(o, name, so), ported_op=_stage_op(p, name, sp),
                  notes=notes, original=spec(vo.data), ported=spec(vp.data))
        try:
            if name == "decode":
                a, form = canonical(vo, rgb=True, raw=True)
                b, _ = canonical(vp, rgb=True, raw=True)
                row = judge(name, a, b, tols.pixel_atol, tols, compared_as=form, **kw)
            elif name == "colour":
                do, dp = pick(o, "decode"), pick(p, "decode")
                a0, _ = canonical(do.value, rgb=True, raw=True)
                b0, _ = canonical(dp.value, rgb=True, raw=True)
                a, b = _colour_view(a0, o_final.channels), _colour_view(b0, p_final.channels)
                if a is None or b is None:
                    a, form = canonical(vo, rgb=False, raw=True)
                    b, _ = canonical(vp, rgb=False, raw=True)
                else:
                    kw["original"], kw["ported"] = spec(do.value.data), spec(dp.value.data)
                    kw["emulated"] = do.value.emulated or dp.value.emulated
                    form = (f"decoded image in each side's model channel order "
                            f"(original {''.join(o_final.channels)}, ported {''.join(p_final.channels)}), HWC, 0-255")
                row = judge(name, a, b, tols.pixel_atol, tols, compared_as=form, **kw)
            elif name in PIXEL_STAGES:
                a, form = canonical(vo, rgb=True, raw=True)
                b, _ = canonical(vp, rgb=True, raw=True)
                row = judge(name, a, b, tols.pixel_atol, tols, compared_as=form, **kw)
            elif name == "normalize":
                a, form = canonical(vo, rgb=False, raw=False)
                b, _ = canonical(vp, rgb=False, raw=False)
                row = judge(name, a, b, _float_tol(vo, tols, carried), tols, compared_as=form, **kw)
            else:  # layout
                a, b = drop_batch(vo).astype(np.float64), drop_batch(vp).astype(np.float64)
                form = f"each side's own axis order without batch (original {own_layout(vo)}, ported {own_layout(vp)})"
                row = judge(name, a, b, _float_tol(vo, tols, carried), tols, compared_as=form, **kw)
        except ValueError as exc:
            row = Stage(name, False, None, None, None, kw["original"], kw["ported"], emulated=emulated,
                        original_op=kw["original_op"], ported_op=kw["ported_op"], notes=notes,
                        message=f"{name}: not comparable: {exc}")
        if name in PIXEL_STAGES and row.aligned and row.max_abs_diff is not None:
            carried = max(carried, row.max_abs_diff)
        rows.append(row)
    return rows


def _float_tol(v: V, tols: Tolerances, carried: float) -> float:
    """atol in the normalised domain, plus the grey-level error earlier aligned stages let
    through, scaled by the normalisation (1 level = a units)."""
    if is_raw(v.affine):
        return max(tols.pixel_atol, carried)
    return tols.atol + carried * affine_scale(v.affine)


def compare_input(o_final: V, x_o: np.ndarray, x_p: np.ndarray, tols: Tolerances, carried: float,
                  emulated: bool, ported_source: str, notes=()) -> Stage:
    tol = _float_tol(o_final, tols, carried)
    return judge("input", x_o, x_p, tol, tols, compared_as=f"the tensors given to the models ({ported_source})",
                 emulated=emulated, notes=list(notes))


def carried_error(rows: list[Stage]) -> float:
    c = 0.0
    for r in rows:
        if r.name in PIXEL_STAGES and r.aligned and r.max_abs_diff is not None:
            c = max(c, r.max_abs_diff)
    return c


def first_divergence(rows: list[Stage]) -> Optional[str]:
    for r in rows:
        if not r.aligned:
            return r.name
    return None
