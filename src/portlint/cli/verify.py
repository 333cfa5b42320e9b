"""`portlint verify ORIGINAL PORTED --image IMG ...`: runtime check of a port (docs/verify.md).

Nothing heavy is imported here: torch, cv2, PIL and onnxruntime load only when the command runs.
Exit codes: 0 every stage and the prediction aligned, 1 a divergence, 2 usage or input error.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer


class VerifyFormat(str, Enum):
    text = "text"
    json = "json"


class Task(str, Enum):
    auto = "auto"
    classify = "classify"
    detect = "detect"
    none = "none"


def verify_command(opts, output_format: str) -> int:
    """Argument mistakes are said first; then a missing verify extra (one line, exit 2)."""
    from portlint.verify.extra import as_missing_extra, require_verify_extra
    from portlint.verify.run import _check_file, list_images

    if opts.images is not None:
        list_images(opts.images)
    else:
        _check_file(opts.image, "image file")
    require_verify_extra()
    try:
        return _verify(opts, output_format)
    except ModuleNotFoundError as exc:
        error = as_missing_extra(exc)
        if error is None:
            raise
        raise error from None


def _verify(opts, output_format: str) -> int:
    if opts.images is not None:
        from portlint.verify.dataset import render_dataset, run_dataset, write_dataset_report

        summary = run_dataset(opts)
        if opts.report:
            path = write_dataset_report(summary, opts.report)
            print(f"portlint: report written to {path}", file=sys.stderr)
        print(render_dataset(summary, output_format))
        return summary.exit_code
    from portlint.verify.report import render_json, render_text, write_report
    from portlint.verify.run import run_verify

    with _progress() as step:
        result = run_verify(opts, step)
    for w in result.warnings:  # first, whatever the format
        print(f"portlint: warning: {w}", file=sys.stderr)
    if opts.report:
        path = write_report(result, opts.report)
        print(f"portlint: report written to {path}", file=sys.stderr)
    print(render_json(result) if output_format == "json" else render_text(result))
    return 0 if result.aligned else 1


class _progress:
    """Say each long step on a terminal's stderr (a spinner line), nothing when piped: a single
    verify takes 10-20 s of loading models and running the simulator."""

    def __enter__(self):
        self.status = None
        if sys.stderr.isatty():
            from rich.console import Console

            self.status = Console(stderr=True).status("portlint verify")
            self.status.start()
        return self

    def __call__(self, step: str) -> None:
        if self.status is not None:
            self.status.update(f"portlint verify: {step}...")

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.stop()


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        original: str = typer.Argument(..., help="Original program: a .py file or a directory."),
        ported: str = typer.Argument(..., help="Ported program: a .py file or a directory."),
        image: Optional[str] = typer.Option(None, "--image", help="Image both pipelines are replayed on."),
        images: Optional[str] = typer.Option(None, "--images", help="Folder of images: data-set mode (agreement over the set)."),
        model: Optional[str] = typer.Option(None, "--model", help="Original model: TorchScript .pt, .onnx, or module:factory (never a pickle; default: the path the original program loads, if it is TorchScript or ONNX)."),
        bmodel: Optional[str] = typer.Option(None, "--bmodel", help="The FP32 bmodel the port runs (default: the path the ported program gives sail.Engine)."),
        bmrt_dir: Optional[str] = typer.Option(None, "--bmrt-dir", help="Folder with input_ref_data.dat.bmrt / output_ref_data.dat.bmrt (BMRT_SAVE_IO_TENSORS=1) from the device."),
        report: Optional[str] = typer.Option(None, "--report", help="Write heatmaps and an HTML report into this folder."),
        output_format: VerifyFormat = typer.Option(VerifyFormat.text, "--format", "-f", help="Output format."),
        atol: float = typer.Option(1e-3, "--atol", help="Tolerance of normalised tensors and model outputs (the manual's FP32 criterion)."),
        rtol: float = typer.Option(0.0, "--rtol", help="Relative tolerance, times max|original|, added to every tolerance."),
        cos: float = typer.Option(0.999, "--cos", help="Minimum cosine similarity of an aligned stage."),
        pixel_atol: float = typer.Option(1.0, "--pixel-atol", help="Tolerance of 0-255 image stages, in grey levels."),
        input_shape: Optional[str] = typer.Option(None, "--input-shape", help="Model input shape, e.g. 1,3,224,224, where there is no bmodel."),
        task: Task = typer.Option(Task.auto, "--task", help="Post-processing to compare: classify (top-k), detect (boxes by IoU), none."),
        topk: int = typer.Option(5, "--top-k", help="k of the classifier's top-k."),
        jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes in data-set mode."),
        backend: Optional[str] = typer.Option(None, "--backend", help="bmodel runtime: sail or simulator (default: sail if importable)."),
        save_tensors: Optional[str] = typer.Option(None, "--save-tensors", metavar="DIR", help="Write each stage's two arrays as DIR/original.npz and DIR/ported.npz (tpu-mlir's npz_tool compare reads them)."),
        weights: Optional[str] = typer.Option(None, "--weights", help="State dict for --model module:factory, read with torch.load(weights_only=True)."),
    ) -> None:
        """Replay both pipelines on real images and compare them stage by stage, then the models."""
        from portlint.verify.run import VerifyOptions

        opts = VerifyOptions.from_cli(original, ported, image, images, model, bmodel, bmrt_dir, report, input_shape,
                                      atol, rtol, cos, pixel_atol, task.value, topk, jobs, backend, save_tensors,
                                      weights)
        raise typer.Exit(verify_command(opts, output_format.value))
