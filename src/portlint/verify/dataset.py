"""`portlint verify ... --images DIR`: the manual's step 2 over a data set. Every image is
replayed and compared as with `--image` (without the step-5 run: one bmodel forward per
image), in a pool of worker processes; the summary is the prediction agreement over the set
(top-1 for classifiers, every box matched for detectors) and where the pipelines first diverge."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from portlint.errors import PortlintError

_SESSION = None


@dataclass
class DatasetSummary:
    folder: str
    original: str
    ported: str
    model: dict = field(default_factory=dict)
    per_image: list = field(default_factory=list)

    @property
    def compared(self) -> list:
        return [r for r in self.per_image if "error" not in r and r.get("prediction_aligned") is not None]

    @property
    def agreement(self) -> dict:
        done = self.compared
        agree = sum(1 for r in done if r["prediction_aligned"])
        return {"agree": agree, "total": len(done), "rate": agree / len(done) if done else None}

    @property
    def divergence(self) -> dict:
        return dict(Counter(r.get("first_divergence") or "none" for r in self.per_image if "error" not in r))

    @property
    def errors(self) -> list:
        return [r for r in self.per_image if "error" in r]

    @property
    def exit_code(self) -> int:
        if self.errors and len(self.errors) == len(self.per_image):
            return 2
        bad = [r for r in self.per_image if "error" in r or r.get("first_divergence") or r.get("prediction_aligned") is False]
        return 1 if bad else 0

    def to_json(self) -> dict:
        return {"version": 1, "mode": "dataset", "folder": self.folder, "original_program": self.original,
                "ported_program": self.ported, "images": len(self.per_image), "model": self.model,
                "agreement": self.agreement, "first_divergence": self.divergence,
                "errors": len(self.errors), "per_image": self.per_image}


def _summarise(result) -> dict:
    inp = result.stage("input")
    pred = result.prediction
    return {
        "image": result.image, "first_divergence": result.first_divergence,
        "input_max_abs_diff": inp.max_abs_diff if inp else None,
        "stages": {s.name: s.max_abs_diff for s in result.stages},
        "aligned_stages": {s.name: s.aligned for s in result.stages},
        "prediction_aligned": pred["aligned"] if pred else None,
        "original": pred["original"] if pred else None, "ported": pred["ported"] if pred else None,
        "model": result.model,
    }


def _init(opts) -> None:
    global _SESSION
    import warnings

    warnings.filterwarnings("ignore")
    from portlint.verify.run import Session

    _SESSION = Session(opts)


def _one(image: str) -> dict:
    try:
        return _summarise(_SESSION.verify(image, light=True))
    except PortlintError as exc:
        return {"image": image, "error": str(exc)}
    except Exception as exc:  # one bad image must not stop the set
        return {"image": image, "error": f"{type(exc).__name__}: {exc}"}


def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("verify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=False)


def run_dataset(opts) -> DatasetSummary:
    from portlint.verify.run import list_images

    images = list_images(opts.images)
    _init(opts)  # validates every input here, once, with one-line errors
    summary = DatasetSummary(opts.images, opts.original, opts.ported)
    results: dict[str, dict] = {}
    with _progress() as progress:
        task = progress.add_task("images", total=len(images))
        if opts.jobs <= 1 or len(images) == 1:
            for img in images:
                results[img] = _one(img)
                progress.advance(task)
        else:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
            with ProcessPoolExecutor(max_workers=min(opts.jobs, len(images)), mp_context=ctx,
                                     initializer=_init, initargs=(opts,)) as pool:
                futures = {pool.submit(_one, img): img for img in images}
                for fut in as_completed(futures):
                    img = futures[fut]
                    try:
                        results[img] = fut.result()
                    except Exception as exc:  # a worker died
                        results[img] = {"image": img, "error": f"worker failed: {type(exc).__name__}: {exc}"}
                    progress.advance(task)
    summary.per_image = [results[i] for i in images]
    models = [r["model"] for r in summary.per_image if "model" in r]
    summary.model = models[0] if models else {}
    return summary


def write_dataset_report(summary: DatasetSummary, folder: str) -> Path:
    """report.json (the JSON of `--format json`) and report.html (agreement per stage, the
    worst images: verify/html_report.py) in `folder`, created if missing."""
    from portlint.verify.html_report import dataset_page

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(render_dataset(summary, "json"), encoding="utf-8")
    (out / "report.html").write_text(dataset_page(summary), encoding="utf-8")
    return out / "report.html"


def _fmt(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.6g}"


def render_dataset(s: DatasetSummary, output_format: str) -> str:
    if output_format == "json":
        from portlint.verify.values import finite_json

        return json.dumps(finite_json(s.to_json()), indent=2, default=str)
    a = s.agreement
    lines = [f"portlint verify: {s.original} vs {s.ported} on {len(s.per_image)} images in {s.folder}",
             f"models: original {s.model.get('original') or 'none'}, ported {s.model.get('ported') or 'none'}"]
    if a["total"]:
        lines.append(f"prediction agreement: {a['agree']}/{a['total']} ({100 * a['rate']:.1f}%)")
    else:
        lines.append("prediction agreement: not compared (no models)")
    lines.append("first divergence: " + ", ".join(f"{k} {v}" for k, v in sorted(s.divergence.items())))
    diffs = [r["input_max_abs_diff"] for r in s.per_image if r.get("input_max_abs_diff") is not None]
    if diffs:
        worst = max((r for r in s.per_image if r.get("input_max_abs_diff") is not None),
                    key=lambda r: r["input_max_abs_diff"])
        lines.append(f"input max|diff|: mean {_fmt(sum(diffs) / len(diffs))}, worst {_fmt(max(diffs))} "
                     f"({worst['image']})")
    for r in s.per_image:
        if "error" in r:
            lines.append(f"  {r['image']}: error: {r['error']}")
        elif r.get("prediction_aligned") is False:
            lines.append(f"  {r['image']}: original {r['original']} ported {r['ported']} "
                         f"(first divergence {r['first_divergence']})")
    return "\n".join(lines)


