"""Renders a verify result: text (a table plus the manual's `resize unaligned! resize_diff_max: 27`
lines), JSON (contract.md), and a report folder with per-stage |original - ported| heatmaps
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
    lines = [f"portlint verify: {result.original} vs {result.ported}",
             f"image: {result.image}"]
    mo, mp = result.model.get("original"), result.model.get("ported")
    fo, fp = result.models.get("original"), result.models.get("ported")
    lines.append(f"models: original {mo or 'none'}{f' ({fo})' if fo else ''}, ported {mp or 'none'}{f' ({fp})' if fp else ''}")
    lines.append("")
    head = f"{'stage':<12} {'aligned':<8} {'max|diff|':>12} {'mean|diff|':>12} {'cosine':>10}  {'original':<26} {'ported':<26} emulated"
    lines.append(head)
    for s in result.stages:
        lines.append(f"{s.name:<12} {('yes' if s.aligned else 'NO'):<8} {_fmt(s.max_abs_diff):>12} "
                     f"{_fmt(s.mean_abs_diff):>12} {_fmt(s.cosine, 7) if s.cosine is not None else '-':>10}  "
                     f"{_spec(s.original):<26} {_spec(s.ported):<26} {'yes' if s.emulated else ''}")
    lines.append("")
    for s in result.stages:
        lines.append(s.message)
        if not s.aligned:
            if s.original_op:
                lines.append(f"    original: {s.original_op}")
            if s.ported_op:
                lines.append(f"    ported:   {s.ported_op}")
            if s.compared_as:
                lines.append(f"    compared as {s.compared_as}; tolerance {_fmt(s.tolerance)}")
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
    for n in result.notes:
        lines.append(f"note: {n}")
    emu = sorted({n for s in result.stages for n in s.notes})
    for n in emu:
        lines.append(f"note: {n}")
    return "\n".join(lines)


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


def heatmap_png(diff: np.ndarray, path: Path) -> Optional[float]:
    from PIL import Image

    d = heat2d(diff)
    if d is None:
        return None
    finite = d[np.isfinite(d)]
    top = float(finite.max()) if finite.size else 0.0
    scaled = np.sqrt(d / top) if top > 0 else np.zeros_like(d)  # sqrt: small differences stay visible
    Image.fromarray(colormap(scaled)).save(path)
    return top


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
    """heatmap_<stage>.png, original_<stage>.png, ported_<stage>.png, report.json, report.html."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    images = {}
    for s in result.stages:
        entry = {}
        if s.diff is not None:
            top = heatmap_png(s.diff, out / f"heatmap_{s.name}.png")
            if top is not None:
                entry["heatmap"] = (out / f"heatmap_{s.name}.png", top)
        if s.pair is not None and s.name in ("decode", "colour", "resize", "crop", "pad", "normalize"):
            for side, arr in zip(("original", "ported"), s.pair):
                p = out / f"{side}_{s.name}.png"
                if preview_png(arr, p):
                    entry[side] = p
        images[s.name] = entry
    (out / "report.json").write_text(render_json(result), encoding="utf-8")
    (out / "report.html").write_text(_html(result, images), encoding="utf-8")
    return out / "report.html"


def _img_tag(path: Path, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_b64(path)}">'


def _html(result, images: dict) -> str:
    e = html.escape
    rows = []
    for s in result.stages:
        cls = "ok" if s.aligned else "bad"
        rows.append(
            f'<tr class="{cls}"><td>{e(s.name)}</td><td>{"yes" if s.aligned else "NO"}</td>'
            f"<td>{e(_fmt(s.max_abs_diff))}</td><td>{e(_fmt(s.mean_abs_diff))}</td>"
            f"<td>{e(_fmt(s.cosine, 7))}</td><td>{e(_fmt(s.tolerance))}</td>"
            f"<td>{e(_spec(s.original))}</td><td>{e(_spec(s.ported))}</td>"
            f"<td>{'yes' if s.emulated else ''}</td><td>{e(s.original_op or '')}</td><td>{e(s.ported_op or '')}</td>"
            f"<td>{e(s.compared_as)}</td></tr>")
    figures = []
    for s in result.stages:
        entry = images.get(s.name) or {}
        if not entry:
            continue
        parts = [f"<h3>{e(s.name)}: {e(s.message)}</h3><div class='row'>"]
        for side in ("original", "ported"):
            if side in entry:
                parts.append(f"<figure>{_img_tag(entry[side], side)}<figcaption>{side}</figcaption></figure>")
        if "heatmap" in entry:
            path, top = entry["heatmap"]
            parts.append(f"<figure>{_img_tag(path, 'heatmap')}<figcaption>|original - ported| (square-root scale), "
                         f"black 0 .. yellow {e(_fmt(top))}</figcaption></figure>")
        parts.append("</div>")
        figures.append("".join(parts))
    pred = result.prediction
    pred_html = ""
    if pred:
        pred_html = (f"<p>Prediction ({e(pred.get('task', ''))}): original {e(str(pred['original']))}, "
                     f"ported {e(str(pred['ported']))}: <b>{'aligned' if pred['aligned'] else 'unaligned'}</b></p>")
    notes = "".join(f"<li>{e(n)}</li>" for n in list(result.notes) + sorted({n for s in result.stages for n in s.notes}))
    fd = result.first_divergence
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>portlint verify: {e(result.ported)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 90%; }}
td, th {{ border: 1px solid #ccc; padding: 3px 6px; text-align: left; }}
tr.ok td:nth-child(2) {{ color: #176e2a; }} tr.bad td:nth-child(2) {{ color: #b00020; font-weight: bold; }}
.row {{ display: flex; gap: 1em; flex-wrap: wrap; }} figure {{ margin: 0; }}
img {{ max-width: 320px; image-rendering: pixelated; border: 1px solid #ddd; }}
</style></head><body>
<h1>portlint verify</h1>
<p>Original <code>{e(result.original)}</code> ({e(str(result.model.get('original')))}), ported <code>{e(result.ported)}</code>
({e(str(result.model.get('ported')))}), image <code>{e(result.image)}</code>.</p>
<p>First divergence: <b>{e(fd) if fd else 'none, every stage aligned'}</b></p>
{pred_html}
<table><tr><th>stage</th><th>aligned</th><th>max|diff|</th><th>mean|diff|</th><th>cosine</th><th>tolerance</th>
<th>original</th><th>ported</th><th>emulated</th><th>original op</th><th>ported op</th><th>compared as</th></tr>
{''.join(rows)}</table>
{''.join(figures)}
<h2>Notes</h2><ul>{notes}</ul>
</body></html>
"""
