"""The HTML pages of `verify --report DIR`: one image's page and the data set's page.

Why they look as they do (issue 15.8): a heatmap scaled to its own maximum makes a 2e-7
difference look like the worst stage, so every heatmap has one absolute scale, from 0 to the
larger of its maximum and ten times its tolerance, drawn beside it as a colour bar with the
tolerance marked; each divergent stage links to the `portlint check` finding that explains it
and to its fix; the end-to-end line and the top-5 are on the page; a data set gets a page of its
own (agreement per stage, the worst images). Self-contained: images are inlined as base64.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Optional

STYLE = """
body { font-family: sans-serif; margin: 1.5em; max-width: 75em; color: #111; }
table { border-collapse: collapse; font-size: 90%; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
.yes { color: #176e2a; } .no { color: #b00020; font-weight: bold; }
.warning { background: #fff3cd; border: 1px solid #d39e00; padding: .5em 1em; margin: .5em 0; }
.row { display: flex; gap: 1em; flex-wrap: wrap; align-items: flex-start; } figure { margin: 0; }
figure img { width: 224px; image-rendering: pixelated; border: 1px solid #ddd; }
.colourbar { width: 224px; } .colourbar img { width: 224px; height: 14px; display: block; border: 1px solid #999; }
.ticks { position: relative; height: 2.6em; font-size: 75%; }
.ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.ticks span.tol { color: #b00020; top: 1.2em; }
.ticks span.tol::before { content: "\\25B2 "; }
td.op { font-size: 80%; word-break: break-all; min-width: 12em; }
.finding { border-left: 4px solid #b00020; padding: .2em .8em; margin: .5em 0; background: #fafafa; }
pre { background: #f4f4f4; padding: .5em; overflow-x: auto; font-size: 85%; }
section.stage { border-top: 1px solid #ddd; margin-top: 1em; }
"""


def _e(x) -> str:
    return html.escape(str(x))


def _fmt(x, digits: int = 6) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    x = float(x)
    if x == 0:
        return "0"
    if x == float("inf"):
        return "inf"
    if x.is_integer() and abs(x) < 1e9:
        return str(int(x))
    return f"{x:.{digits}g}"


def _b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _img(path: Path, alt: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<img{c} alt="{_e(alt)}" src="data:image/png;base64,{_b64(path)}">'


def colourbar(bar_png: Path, top: float, tolerance: Optional[float]) -> str:
    """The bar and its ticks: positions follow the heatmap's square-root scale."""
    ticks = [(0.0, "0", "")]
    if tolerance and 0 < tolerance < top:
        ticks.append((tolerance, f"tolerance {_fmt(tolerance, 3)}", "tol"))
    ticks += [(top / 4, _fmt(top / 4, 3), ""), (top, _fmt(top, 3), "")]
    spans = "".join(f'<span class="{cls}" style="left:{100 * (v / top) ** 0.5:.1f}%">{_e(label)}</span>'
                    for v, label, cls in ticks)
    return (f'<div class="colourbar" data-top="{top!r}" data-tolerance="{tolerance!r}">{_img(bar_png, "colour bar")}'
            f'<div class="ticks">{spans}</div><div>|original &minus; ported|, square-root scale</div></div>')


def _finding_block(f: dict) -> str:
    from portlint.verify.explain import where

    fix = f.get("fix")
    out = [f'<div class="finding" id="finding-{_e(f["code"])}-{f.get("_index", 0)}">',
           f'<b>{_e(f["code"])} [{_e(f["kind"])}]</b> at <code>{_e(where(f.get("ported")))}</code>'
           + (f' (original <code>{_e(where(f.get("original")))}</code>)' if f.get("original") else "")
           + f'<br>{_e(f["message"])}']
    if fix:
        out.append(f'<br><b>fix ({_e(fix["applicability"])})</b>: {_e(fix["description"])}'
                   + (" &mdash; <code>portlint fix --apply</code>" if fix["applicability"] == "safe" else ""))
        if fix.get("diff"):
            out.append(f'<pre class="diff">{_e(fix["diff"])}</pre>')
    out.append("</div>")
    return "".join(out)


def _top5(pred: Optional[dict]) -> str:
    top = (pred or {}).get("top_k")
    if not top or not top.get("original"):
        return ""
    o, p = top["original"][0], top["ported"][0]
    rows = "".join(f"<tr><td>{i + 1}</td><td>{_e(a[0])}</td><td>{_e(_fmt(float(a[1]), 5))}</td>"
                   f"<td>{_e(b[0])}</td><td>{_e(_fmt(float(b[1]), 5))}</td></tr>"
                   for i, (a, b) in enumerate(zip(o, p)))
    return (f'<h2 id="top5">Top-{top["k"]} (end to end)</h2><table class="top5"><tr><th>rank</th>'
            f"<th>original label</th><th>score</th><th>ported label</th><th>score</th></tr>{rows}</table>")


def page(result, images: dict) -> str:
    """`images[stage]`: {"original": png, "ported": png, "heatmap": (png, top), "bar": png}."""
    findings = list(getattr(result, "findings", []) or [])
    for i, f in enumerate(findings):
        f["_index"] = i
    by_code: dict[str, list] = {}
    for f in findings:
        by_code.setdefault(f["code"], []).append(f)
    fd = result.first_divergence
    parts = [f"<h1>portlint verify</h1>"]
    parts += [f'<div class="warning">warning: {_e(w)}</div>' for w in getattr(result, "warnings", [])]
    mo, mp = result.model.get("original"), result.model.get("ported")
    parts.append(f"<p>Original <code>{_e(result.original)}</code> ({_e(mo or 'no model')}), ported "
                 f"<code>{_e(result.ported)}</code> ({_e(mp or 'no bmodel')}), image <code>{_e(result.image)}</code>.</p>")
    parts.append('<p id="first-divergence">First divergence: '
                 + (f'<a href="#stage-{_e(fd)}"><b>{_e(fd)}</b></a>' if fd else "<b>none, every stage aligned</b>")
                 + "</p>")
    pred = result.prediction
    if pred:
        verdict = "aligned" if pred["aligned"] else "unaligned"
        parts.append(f'<p id="prediction">Prediction ({_e(pred.get("task", ""))}): original {_e(pred["original"])}, '
                     f'ported {_e(pred["ported"])}: <b class="{"yes" if pred["aligned"] else "no"}">{verdict}</b></p>')
    e2e = result.end_to_end
    if e2e:
        parts.append(f'<p id="end-to-end">End to end (each side\'s own input into its own model): '
                     f'<b class="{"yes" if e2e["aligned"] else "no"}">{"aligned" if e2e["aligned"] else "unaligned"}</b>, '
                     f'max|diff| {_e(_fmt(e2e["max_abs_diff"]))}, cosine {_e(_fmt(e2e.get("cosine"), 7))}</p>')
    parts.append(_top5(pred))
    head = ("<tr><th>stage</th><th>aligned</th><th>failed test</th><th>max|diff|</th><th>mean|diff|</th><th>cosine</th>"
            "<th>euclidean</th><th>SQNR dB</th><th>tolerance</th><th>original op</th><th>ported op</th><th>check</th></tr>")
    rows = []
    for s in result.stages:
        codes = s.extra.get("findings", [])
        # a divergent stage's section holds its findings; an aligned stage's codes are named only
        links = " ".join((f'<a href="#finding-{_e(c)}-{by_code[c][0]["_index"]}">{_e(c)}</a>' if not s.aligned else _e(c))
                         for c in codes if c in by_code)
        rows.append(f'<tr><td><a href="#stage-{_e(s.name)}">{_e(s.name)}</a></td>'
                    f'<td class="{"yes" if s.aligned else "no"}">{"yes" if s.aligned else "NO"}</td>'
                    f"<td>{_e(', '.join(s.failed))}</td><td>{_e(_fmt(s.max_abs_diff))}</td><td>{_e(_fmt(s.mean_abs_diff))}</td>"
                    f"<td>{_e(_fmt(s.cosine, 7))}</td><td>{_e(_fmt(s.euclidean, 6))}</td><td>{_e(_fmt(s.sqnr_db, 4))}</td>"
                    f"<td>{_e(_fmt(s.tolerance))}</td><td class=\"op\">{_e(s.original_op or '')}</td><td class=\"op\">{_e(s.ported_op or '')}</td>"
                    f"<td>{links}</td></tr>")
    parts.append(f'<h2>Stages</h2><table id="stages">{head}{"".join(rows)}</table>')
    for s in result.stages:
        entry = images.get(s.name) or {}
        status = "aligned" if s.aligned else "unaligned"
        sec = [f'<section class="stage" id="stage-{_e(s.name)}"><h2>{_e(s.name)}: '
               f'<span class="{"yes" if s.aligned else "no"}">{status}</span></h2>']
        if s.message and s.message != f"{s.name} aligned.":  # the heading says that much
            sec.append(f"<p>{_e(s.message)}</p>")
        if s.compared_as:
            sec.append(f"<p>Compared as {_e(s.compared_as)}.</p>")
        figs = []
        for side in ("original", "ported"):
            if side in entry:
                figs.append(f"<figure>{_img(entry[side], side)}<figcaption>{side}</figcaption></figure>")
        if "heatmap" in entry:
            path, top = entry["heatmap"]
            figs.append(f'<figure>{_img(path, "heatmap " + s.name, "heatmap")}<figcaption>'
                        f'{colourbar(entry["bar"], top, s.tolerance)}</figcaption></figure>')
        if figs:
            sec.append(f'<div class="row">{"".join(figs)}</div>')
        if not s.aligned:
            explained = [f for c in s.extra.get("findings", []) for f in by_code.get(c, [])]
            if explained:
                sec.append("<p>Explained by <code>portlint check</code>:</p>" + "".join(_finding_block(f) for f in explained))
            else:
                sec.append("<p>No <code>portlint check</code> finding is about this stage: the difference comes from "
                           "an earlier stage, or from something the analyser does not see.</p>")
        sec.append("</section>")
        parts.append("".join(sec))
    others = [f for f in findings if not f.get("stage")]
    if others:
        parts.append("<h2>Other findings</h2>" + "".join(_finding_block(f) for f in others))
    notes = list(result.notes) + sorted({n for s in result.stages for n in s.notes})
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
    for f in findings:
        f.pop("_index", None)
    return _document(f"portlint verify: {result.ported}", "".join(parts))


def _document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def dataset_page(summary) -> str:
    """Agreement over the set, per stage, and the worst images by the model input's max|diff|."""
    a = summary.agreement
    done = [r for r in summary.per_image if "error" not in r]
    parts = ["<h1>portlint verify: data set</h1>",
             f"<p>Original <code>{_e(summary.original)}</code>, ported <code>{_e(summary.ported)}</code>, "
             f"{len(summary.per_image)} images in <code>{_e(summary.folder)}</code>.</p>"]
    if a["total"]:
        parts.append(f'<p id="agreement">Prediction agreement: <b>{a["agree"]}/{a["total"]} '
                     f'({100 * a["rate"]:.1f}%)</b></p>')
    else:
        parts.append('<p id="agreement">Prediction agreement: not compared (no models).</p>')
    stages: list[str] = []
    for r in done:
        for name in r.get("aligned_stages", {}):
            if name not in stages:
                stages.append(name)
    rows = []
    for name in stages:
        flags = [r["aligned_stages"][name] for r in done if name in r.get("aligned_stages", {})]
        diffs = [(r["stages"].get(name), r["image"]) for r in done if r["stages"].get(name) is not None]
        worst = max(diffs) if diffs else (None, "")
        first = sum(1 for r in done if r.get("first_divergence") == name)
        rows.append(f"<tr><td>{_e(name)}</td><td>{sum(flags)}/{len(flags)}</td><td>{first}</td>"
                    f"<td>{_e(_fmt(worst[0]))}</td><td>{_e(Path(worst[1]).name if worst[1] else '')}</td></tr>")
    parts.append('<h2>Agreement per stage</h2><table id="per-stage"><tr><th>stage</th><th>aligned</th>'
                 "<th>first divergence</th><th>worst max|diff|</th><th>worst image</th></tr>" + "".join(rows) + "</table>")
    ranked = sorted((r for r in done if r.get("input_max_abs_diff") is not None),
                    key=lambda r: -r["input_max_abs_diff"])[:5]
    worst_rows = "".join(
        f"<tr><td>{_e(Path(r['image']).name)}</td><td>{_e(_fmt(r['input_max_abs_diff']))}</td>"
        f"<td>{_e(r.get('first_divergence') or 'none')}</td><td>{_e(r.get('original'))}</td><td>{_e(r.get('ported'))}</td>"
        f"<td>{'' if r.get('prediction_aligned') is None else ('yes' if r['prediction_aligned'] else 'NO')}</td></tr>"
        for r in ranked)
    parts.append('<h2>Worst images</h2><table id="worst"><tr><th>image</th><th>input max|diff|</th>'
                 "<th>first divergence</th><th>original</th><th>ported</th><th>agree</th></tr>" + worst_rows + "</table>")
    errors = summary.errors
    if errors:
        parts.append("<h2>Errors</h2><ul>" + "".join(f"<li>{_e(r['image'])}: {_e(r['error'])}</li>" for r in errors) + "</ul>")
    return _document(f"portlint verify: {summary.folder}", "".join(parts))
