"""Renders a verify result: text (a table plus the manual's `resize unaligned! resize_diff_max: 27`
lines), JSON (docs/contract.md), and a report folder with per-stage |original - ported| heatmaps
(PNG, written with PIL) and one self-contained HTML page (images inlined as base64)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Optional

import numpy as np

# A perceptual dark-to-bright ramp (close to matplotlib's "inferno"), interpolated linearly.
_RAMP = np.array([(0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66),
                  (245, 125, 21), (250, 193, 39), (252, 255, 164)], dtype=np.float64)


def _fmt(x, digits: int = 6) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if x == 0:
            return "0"
        if x.is_integer() and abs(x) < 1e9:
            return str(int(x))
        return f"{x:.{digits}g}"
    return str(x)


def _spec(d: dict) -> str:
    if not d:
        return "-"
    return f"{d.get('shape')} {d.get('dtype')}"


def render_text(result) -> str:
    lines = [f"warning: {w}" for w in getattr(result, "warnings", [])]  # said first (issue 15.7)
    lines += [f"portlint verify: {result.original} vs {result.ported}",
              f"image: {result.image}"]
    mo, mp = result.model.get("original"), result.model.get("ported")
    fo, fp = result.models.get("original"), result.models.get("ported")
    lines.append(f"models: original {mo or 'none'}{f' ({fo})' if fo else ''}, ported {mp or 'none'}{f' ({fp})' if fp else ''}")
    lines.append("")
    head = (f"{'stage':<12} {'aligned':<8} {'max|diff|':>12} {'mean|diff|':>12} {'cosine':>10} {'euclid':>9} "
            f"{'sqnr dB':>8}  {'original':<26} {'ported':<26} emulated")
    lines.append(head)
    for s in result.stages:
        sqnr = getattr(s, "sqnr_db", None)
        lines.append(f"{s.name:<12} {('yes' if s.aligned else 'NO'):<8} {_fmt(s.max_abs_diff):>12} "
                     f"{_fmt(s.mean_abs_diff):>12} {_fmt(s.cosine, 7) if s.cosine is not None else '-':>10} "
                     f"{_fmt(getattr(s, 'euclidean', None), 6):>9} {('inf' if sqnr == float('inf') else _fmt(sqnr, 4)):>8}  "
                     f"{_spec(s.original):<26} {_spec(s.ported):<26} {'yes' if s.emulated else ''}")
    lines.append("")
    by_code = {f["code"]: f for f in getattr(result, "findings", [])}
    for s in result.stages:
        lines.append(s.message)
        if not s.aligned:
            if s.original_op:
                lines.append(f"    original: {s.original_op}")
            if s.ported_op:
                lines.append(f"    ported:   {s.ported_op}")
            if s.compared_as:
                lines.append(f"    compared as {s.compared_as}; tolerance {_fmt(s.tolerance)}")
            for code in s.extra.get("findings", []):
                lines.extend(_finding_lines(by_code[code]))
    if result.end_to_end:
        e = result.end_to_end
        lines.append(f"end-to-end outputs (each side's own input): {'aligned' if e['aligned'] else 'unaligned'}, "
                     f"max|diff| {_fmt(e['max_abs_diff'])}")
    lines.append("")
    fd = result.first_divergence
    lines.append(f"first divergence: {fd}" if fd else "every stage aligned")
    pred = result.prediction
    if pred:
        verdict = "aligned" if pred["aligned"] else "unaligned"
        if pred.get("task") == "classify":
            lines.append(f"prediction (top-1): original {pred['original']} ported {pred['ported']}: {verdict}")
        else:
            m = pred.get("matching") or [{}]
            lines.append(f"prediction (boxes): original {sum(len(b) for b in pred['original'])} ported "
                         f"{sum(len(b) for b in pred['ported'])}, matched {sum(x.get('matched', 0) for x in m)}: {verdict}")
    top = (pred or {}).get("top_k")
    if top and top.get("original"):
        lines.append(f"top-{top['k']} (end to end; label score)")
        lines.append(f"    original  {_top(top['original'][0])}")
        lines.append(f"    ported    {_top(top['ported'][0])}")
    for n in result.notes:
        lines.append(f"note: {n}")
    emu = sorted({n for s in result.stages for n in s.notes})
    for n in emu:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def _top(row) -> str:
    return ", ".join(f"{lab} {_fmt(float(score), 4)}" for lab, score in row)


def _finding_lines(f: dict) -> list[str]:
    from portlint.verify.explain import where

    out = [f"    check: {f['code']} [{f['kind']}] at {where(f['ported'])}: {f['message']}"]
    if f.get("fix"):
        out.append(f"    fix ({f['fix']['applicability']}): {f['fix']['description']}"
                   + (" (`portlint fix --apply`)" if f["fix"]["applicability"] == "safe" else ""))
    return out


def render_json(result) -> str:
    from portlint.verify.values import finite_json

    return json.dumps(finite_json(result.to_json()), indent=2, default=_json_default)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    return str(o)


# ----------------------------------------------------------------------------- images
def colormap(values: np.ndarray) -> np.ndarray:
    """values in [0, 1] -> uint8 RGB through _RAMP."""
    v = np.clip(np.nan_to_num(values, nan=1.0), 0.0, 1.0) * (len(_RAMP) - 1)
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, len(_RAMP) - 1)
    t = (v - lo)[..., None]
    return np.round(_RAMP[lo] * (1 - t) + _RAMP[hi] * t).astype(np.uint8)


def heat2d(diff: np.ndarray) -> Optional[np.ndarray]:
    """A 2-D map of an |diff| array: max over channels, batch element 0."""
    d = np.asarray(diff, dtype=np.float64)
    while d.ndim > 3 and d.shape[0] == 1:
        d = d[0]
    if d.ndim == 3:
        ch_axis = 0 if d.shape[0] <= 4 < d.shape[2] else 2
        d = d.max(axis=ch_axis)
    if d.ndim != 2 or min(d.shape) < 2:
        return None
    return d


def heat_scale(observed: float, tolerance) -> float:
    """The top of a stage's absolute scale: its maximum, but at least ten times its tolerance,
    so a difference far below the tolerance stays dark (issue 15.8)."""
    floor = 10 * float(tolerance) if tolerance else 0.0
    top = max(float(observed), floor)
    return top if top > 0 else 1.0


def heatmap_png(diff: np.ndarray, path: Path, top: Optional[float] = None) -> Optional[float]:
    """The heatmap on the absolute scale 0..top (square root); returns the observed maximum."""
    from PIL import Image

    d = heat2d(diff)
    if d is None:
        return None
    finite = d[np.isfinite(d)]
    observed = float(finite.max()) if finite.size else 0.0
    top = top if top else (observed or 1.0)
    scaled = np.sqrt(np.clip(d, 0, top) / top)  # sqrt: small differences stay visible
    Image.fromarray(colormap(scaled)).save(path)
    return observed


def colourbar_png(path: Path) -> Path:
    """The ramp from 0 (left) to the scale's top (right), as the heatmaps use it."""
    from PIL import Image

    ramp = colormap(np.linspace(0.0, 1.0, 256))[None].repeat(12, axis=0)
    Image.fromarray(ramp).save(path)
    return path


def preview_png(arr: np.ndarray, path: Path) -> bool:
    """An HWC comparison array shown as an image (min-max scaled when it is not 0-255)."""
    from PIL import Image

    a = np.asarray(arr, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        return False
    lo, hi = np.nanmin(a), np.nanmax(a)
    if lo < 0 or hi > 255 or hi <= 1.0:
        a = (a - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(a)
    img = np.clip(np.round(np.nan_to_num(a)), 0, 255).astype(np.uint8)
    Image.fromarray(img[:, :, 0] if img.shape[2] == 1 else img).save(path)
    return True


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def write_report(result, folder: str) -> Path:
    """heatmap_<stage>.png, original_<stage>.png, ported_<stage>.png, colourbar.png, report.json,
    report.html (verify/html_report.py)."""
    from portlint.verify.html_report import page

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    bar = colourbar_png(out / "colourbar.png")
    images = {}
    for s in result.stages:
        entry = {}
        if s.diff is not None:
            observed = float(np.nanmax(heat2d(s.diff))) if heat2d(s.diff) is not None else 0.0
            top = heat_scale(observed if np.isfinite(observed) else 0.0, s.tolerance)
            if heatmap_png(s.diff, out / f"heatmap_{s.name}.png", top) is not None:
                entry["heatmap"] = (out / f"heatmap_{s.name}.png", top)
                entry["bar"] = bar
        if s.pair is not None and s.name in ("decode", "colour", "resize", "crop", "pad", "normalize"):
            for side, arr in zip(("original", "ported"), s.pair):
                p = out / f"{side}_{s.name}.png"
                if preview_png(arr, p):
                    entry[side] = p
        images[s.name] = entry
    (out / "report.json").write_text(render_json(result), encoding="utf-8")
    (out / "report.html").write_text(page(result, images), encoding="utf-8")
    return out / "report.html"
