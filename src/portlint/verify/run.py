"""`portlint verify`: the precision-alignment manual's steps 3-7, automated.

One `Session` analyses the pair and loads the models once; `Session.verify(image)` replays both
pipelines on the image, compares them stage by stage (step 7), compares the model inputs
(step 4), runs the same input through both models (step 5), post-processes both sides the same
way (step 6) and compares the end-to-end predictions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from portlint.errors import PortlintError
from portlint.verify.compare import (
    Stage, Tolerances, carried_error, compare_input, compare_stages, first_divergence, judge, spec,
)
from portlint.verify.values import to_numpy

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class VerifyOptions:
    original: str
    ported: str
    image: Optional[str] = None
    images: Optional[str] = None
    model: Optional[str] = None
    bmodel: Optional[str] = None
    bmrt_dir: Optional[str] = None
    report: Optional[str] = None
    input_shape: Optional[tuple] = None
    tolerances: Tolerances = field(default_factory=Tolerances)
    task: str = "auto"
    topk: int = 5
    jobs: int = 1
    backend: Optional[str] = None
    save_tensors: Optional[str] = None  # folder for original.npz / ported.npz (npz_tool compare reads them)
    weights: Optional[str] = None  # a state dict for --model module:factory (torch.load weights_only=True)

    @classmethod
    def from_cli(cls, original, ported, image, images, model, bmodel, bmrt_dir, report, input_shape, atol, rtol,
                 cos, pixel_atol, task, topk, jobs, backend, save_tensors=None, weights=None) -> "VerifyOptions":
        """The options of `portlint verify` as given, checked (one-line PortlintError otherwise)."""
        from portlint.checker import parse_shape

        if image is None and images is None:
            raise PortlintError("give --image IMAGE (or --images DIR for a data set)")
        if image is not None and images is not None:
            raise PortlintError("give --image or --images, not both")
        for name, value in (("--atol", atol), ("--rtol", rtol), ("--pixel-atol", pixel_atol)):
            if value < 0:
                raise PortlintError(f"{name} must be >= 0")
        if not -1.0 <= cos <= 1.0:
            raise PortlintError("--cos must be between -1 and 1")
        if jobs < 1:
            raise PortlintError("--jobs must be >= 1")
        if topk < 1:
            raise PortlintError("--top-k must be >= 1")
        if save_tensors is not None and images is not None:
            raise PortlintError("--save-tensors works with --image (one image's stages), not --images")
        return cls(
            original=original, ported=ported, image=image, images=images, model=model, bmodel=bmodel,
            bmrt_dir=bmrt_dir, report=report, input_shape=parse_shape(input_shape) if input_shape else None,
            tolerances=Tolerances(pixel_atol=pixel_atol, atol=atol, rtol=rtol, cos=cos),
            task=task, topk=topk, jobs=jobs, backend=backend, save_tensors=save_tensors, weights=weights,
        )


@dataclass
class VerifyResult:
    image: str
    original: str
    ported: str
    stages: list
    model: dict
    prediction: Optional[dict] = None
    end_to_end: Optional[dict] = None
    notes: list = field(default_factory=list)
    bmrt: Optional[dict] = None
    pipelines: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)  # said first in every format (and on stderr)
    tensors: Optional[dict] = None  # --save-tensors: the files written
    findings: list = field(default_factory=list)  # `portlint check`'s findings on the pair (JSON dicts)

    @property
    def first_divergence(self) -> Optional[str]:
        return first_divergence(self.stages)

    @property
    def aligned(self) -> bool:
        return self.first_divergence is None and (self.prediction is None or self.prediction.get("aligned", True))

    def stage(self, name: str) -> Optional[Stage]:
        return next((s for s in self.stages if s.name == name), None)

    def to_json(self) -> dict:
        return {
            "version": 1,
            "warnings": list(self.warnings),
            "stages": [s.to_json() for s in self.stages],
            "first_divergence": self.first_divergence,
            "model": self.model,
            "prediction": self.prediction,
            "image": self.image,
            "original_program": self.original,
            "ported_program": self.ported,
            "end_to_end": self.end_to_end,
            "bmrt": self.bmrt,
            "model_files": self.models,
            "pipelines": self.pipelines,
            "notes": self.notes,
            "tensors": self.tensors,
            "findings": self.findings,
        }


def _check_file(path: Optional[str], what: str) -> None:
    if path is None:
        return
    p = Path(path)
    if not p.exists():
        raise PortlintError(f"{path}: no such {what}")
    if p.is_dir():
        raise PortlintError(f"{path}: is a directory, expected a {what}")


def check_image(path: str) -> None:
    """A regular file whose header's size is within bounds and that OpenCV or PIL decodes
    (verify/images.py: image bombs and FIFOs are one-line errors)."""
    from portlint.verify.images import check_image as checked

    checked(path)


def _silent(step: str) -> None:
    pass


class Session:
    """The analysed pair and the loaded models, reused for every image. `progress(step)` is told
    each long step as it starts (the CLI shows it on a terminal: a verify takes 10-20 s)."""

    def __init__(self, opts: VerifyOptions, progress=_silent):
        from portlint.verify.models import is_factory_spec, load_bmodel, load_original
        from portlint.verify.plan import build_plan, resolve_hint

        self.opts = opts
        self.progress = progress
        for path in (opts.original, opts.ported):
            if not Path(path).exists():
                raise PortlintError(f"{path}: no such file or directory")
        if opts.model and not (is_factory_spec(opts.model) and not os.path.exists(opts.model)):
            _check_file(opts.model, "model file")
        _check_file(opts.bmodel, "bmodel file")
        if opts.bmrt_dir is not None and not Path(opts.bmrt_dir).is_dir():
            raise PortlintError(f"{opts.bmrt_dir}: no such directory (--bmrt-dir)")
        self.notes: list[str] = []
        bmodel_path = opts.bmodel
        progress("analysing both programs")
        self.plan = build_plan(opts.original, opts.ported, bmodel_path, opts.input_shape)
        if bmodel_path is None:
            hint = resolve_hint(self.plan.ported_model_hint, opts.ported)
            if hint:
                bmodel_path = hint
                self.notes.append(f"bmodel {hint}: the path the ported program gives sail.Engine")
                self.plan = build_plan(opts.original, opts.ported, bmodel_path, opts.input_shape)
        if bmodel_path:
            progress(f"loading the bmodel {bmodel_path}")
        self.bmodel = load_bmodel(bmodel_path, opts.backend) if bmodel_path else None
        if self.bmodel is None:
            self.notes.append("no bmodel (give --bmodel): model outputs are not compared")
        if opts.bmrt_dir is not None and self.bmodel is None:
            raise PortlintError("--bmrt-dir needs --bmodel: the .dat.bmrt files are split by the bmodel's tensor shapes")
        self.bmodel_path = bmodel_path
        self.dims = opts.input_shape or (self.bmodel.input_shape if self.bmodel else None) or self.plan.input_shape
        weights = getattr(opts, "weights", None)
        if weights and not opts.model:
            raise PortlintError("--weights needs --model module:factory (the model the state dict is for)")
        if opts.model:
            progress(f"loading the original model {opts.model}")
            self.original_model = load_original(opts.model, weights)
        else:
            self.original_model = self._default_original_model(resolve_hint(self.plan.original_model_hint, opts.original))
        self.runtime_label: Optional[str] = None

    def _default_original_model(self, hint: Optional[str]):
        """The model file the original program loads, when verify reads it without unpickling
        (TorchScript, ONNX): a pickle lying there is never loaded (docs/verify.md, Models)."""
        from portlint.verify.models import load_original, unpickling_needed

        if hint is None:
            self.notes.append("no original model (give --model): model outputs are not compared")
            return None
        kind = unpickling_needed(hint)
        if kind is not None:
            self.notes.append(f"no original model: the original program loads {hint}, {kind}, which verify never "
                              "unpickles (it can run code); give --model with a TorchScript or ONNX export, or "
                              "--model module:factory --weights STATE_DICT: model outputs are not compared")
            return None
        self.notes.append(f"original model {hint}: the path the original program loads")
        return load_original(hint)

    def replan(self, ported: Optional[str] = None) -> None:
        """Analyse the ported program again (after a fix), keeping the loaded models."""
        from portlint.verify.plan import build_plan

        if ported is not None:
            self.opts.ported = ported
        self.plan = build_plan(self.opts.original, self.opts.ported, self.bmodel_path, self.opts.input_shape)

    # ------------------------------------------------------------------------------
    def replay(self, image: str):
        from portlint.verify.replay import replay

        o = replay("original", self.plan.original_ops, image, self.dims, self.plan.original_state)
        p = replay("ported", self.plan.ported_ops, image, self.dims, self.plan.ported_state)
        return o, p

    def run_bmodel(self, x: np.ndarray) -> dict:
        self.progress("running the bmodel")
        outs, label = self.bmodel.run(x)
        self.runtime_label = label
        return outs

    def verify(self, image: str, bmrt_dir: Optional[str] = None, light: bool = False) -> VerifyResult:
        """light: dataset mode, no step-5 run (one bmodel forward per image)."""
        from portlint.verify import post
        from portlint.verify.models import as_sail_input, match_outputs
        from portlint.verify.replay import describe_ops

        opts, tols = self.opts, self.opts.tolerances
        check_image(image)
        self.progress(f"replaying both pipelines on {image}")
        snaps_o, snaps_p = self.replay(image)
        rows = compare_stages(snaps_o, snaps_p, tols)
        notes = list(self.notes)
        warnings: list[str] = []
        vo, vp = snaps_o[-1].value, snaps_p[-1].value
        x_o = np.ascontiguousarray(to_numpy(vo.data))
        x_p_prog = to_numpy(vp.data)
        in_dtype = self.bmodel.input_dtype if self.bmodel else "float32"
        x_p, note = as_sail_input(x_p_prog, in_dtype)
        if note:
            notes.append(note)
        source = "ported: the array its sail.Engine.process receives, as float32"
        bmrt = None
        if bmrt_dir is not None:
            bm_in, bm_out = self._read_bmrt(bmrt_dir)
            replay_vs_dump = judge("input", x_p, bm_in, tols.atol, tols) if x_p.shape == bm_in.shape else None
            bmrt = {"dir": bmrt_dir, "input_shape": list(bm_in.shape),
                    "outputs": {k: list(v.shape) for k, v in bm_out.items()},
                    "replayed_input_vs_dump": None if replay_vs_dump is None else {
                        "aligned": replay_vs_dump.aligned, "max_abs_diff": replay_vs_dump.max_abs_diff}}
            x_p = bm_in
            source = "ported: input_ref_data.dat.bmrt"
            if replay_vs_dump is None:
                warnings.append(f"--bmrt-dir {bmrt_dir}: the dumped input is {list(bm_in.shape)}, the port's replayed "
                                f"input {list(x_p_prog.shape)}: the dump may come from another program or bmodel")
            elif not replay_vs_dump.aligned:
                warnings.append(f"--bmrt-dir {bmrt_dir}: the dump is not from this input: the port replayed on "
                                f"{image} differs from input_ref_data.dat.bmrt by max|diff| "
                                f"{replay_vs_dump.max_abs_diff:.6g}; the input and output stages describe the dump's image")
        carried = carried_error(rows)
        in_row = compare_input(vo, x_o, x_p, tols, carried, vp.emulated, source)
        in_row.original_op, in_row.ported_op = self.plan.original_api, self.plan.ported_api
        rows.append(in_row)

        model = {"original": self.original_model.kind if self.original_model else None, "ported": None}
        if self.original_model:
            self.progress("running the original model")
        outs_o = self.original_model.run(x_o) if self.original_model else None
        e2e_p = same_p = None
        same_o = outs_o
        if bmrt_dir is not None:
            e2e_p = bm_out
            model["ported"] = "bmodel:dump"
            if self.original_model is not None:
                same_o = self.original_model.run(bm_in.astype(x_o.dtype, copy=False))
                same_p = bm_out
        elif self.bmodel is not None:
            fits = x_p.shape == tuple(self.bmodel.input_shape)
            if fits:
                e2e_p = self.run_bmodel(x_p)
            else:
                notes.append(f"the bmodel was not run on the port's input: {list(x_p.shape)} does not fit its "
                             f"{list(self.bmodel.input_shape)} (SAIL would refuse it too)")
            if outs_o is not None and not light:
                x_same, _ = as_sail_input(x_o, in_dtype)
                if x_same.shape != tuple(self.bmodel.input_shape):
                    notes.append(f"step 5 skipped: the original's input {list(x_same.shape)} does not fit the "
                                 f"bmodel's {list(self.bmodel.input_shape)}")
                elif fits and np.array_equal(x_same, x_p):
                    same_p = e2e_p
                else:
                    same_p = self.run_bmodel(x_same)
            model["ported"] = self.runtime_label
        end_to_end = prediction = None
        same_pairs = self._paired(same_o, same_p, match_outputs) if outs_o is not None and same_p is not None else []
        e2e_pairs = self._paired(outs_o, e2e_p, match_outputs) if outs_o is not None and e2e_p is not None else []
        if outs_o is not None and same_p is not None:
            rows.append(self._output_row(same_o, same_p, tols, match_outputs))
        any_pairs = same_pairs or e2e_pairs
        task = post.detect_task(dict([any_pairs[0][:2]]), opts.task) if any_pairs else None
        if task and same_pairs:
            pp = post.compare_predictions(task, same_pairs[0][1], same_pairs[0][2], opts.topk)
            rows.append(self._post_row(task, pp, same_pairs[0][1], same_pairs[0][2]))
        if e2e_pairs:
            e2e = self._output_row(outs_o, e2e_p, tols, match_outputs)
            end_to_end = {"aligned": e2e.aligned, "max_abs_diff": e2e.max_abs_diff, "mean_abs_diff": e2e.mean_abs_diff,
                          "cosine": e2e.cosine, "outputs": e2e.extra.get("outputs", {}),
                          "input": "each side's own input (original program vs ported program)"}
            if task:
                prediction = post.compare_predictions(task, e2e_pairs[0][1], e2e_pairs[0][2], opts.topk)
                prediction["output"] = e2e_pairs[0][0]
        if any_pairs and not task and opts.task != "none":
            notes.append("no post-processing compared: the outputs are not a classifier's (N, C) or a "
                         "detector's (N, M, >=6); use --task")
        result = VerifyResult(
            image=image, original=opts.original, ported=opts.ported, stages=rows, model=model,
            prediction=prediction, end_to_end=end_to_end, notes=notes, bmrt=bmrt,
            pipelines={"original": describe_ops(self.plan.original_ops), "ported": describe_ops(self.plan.ported_ops)},
            models={"original": self.original_model.path if self.original_model else None,
                    "ported": self.bmodel.path if self.bmodel else None},
            warnings=warnings,
        )
        return result

    # ------------------------------------------------------------------------------
    def _read_bmrt(self, d: str):
        from portlint.bmodel import read_bmrt_dat
        from portlint.errors import SourceError

        net = self.bmodel.net
        try:
            [x] = read_bmrt_dat(Path(d) / "input_ref_data.dat.bmrt", [net.inputs[0].shape], net.inputs[0].dtype) \
                if len(net.inputs) == 1 else [None]
            outs = read_bmrt_dat(Path(d) / "output_ref_data.dat.bmrt", [t.shape for t in net.outputs],
                                 [t.dtype for t in net.outputs])
        except SourceError as err:
            raise PortlintError(f"{err.path}: {err.detail}") from None
        if x is None:
            raise PortlintError("--bmrt-dir: bmodels with several inputs are not supported")
        return x, {t.name: o for t, o in zip(net.outputs, outs)}

    @staticmethod
    def _paired(outs_o: dict, outs_p: dict, match) -> list:
        """[(name, original array, ported array)] in the ported (bmodel) order."""
        mapping = match(list(outs_p), list(outs_o))
        out = []
        for rt, arr in outs_p.items():
            name = mapping.get(rt)
            if name is not None and name in outs_o:
                out.append((name, outs_o[name], arr, rt))
        return out

    def _output_row(self, outs_o: dict, outs_p: dict, tols: Tolerances, match) -> Stage:
        pairs = self._paired(outs_o, outs_p, match)
        per, aligned, maxes, means, coss = {}, True, [], [], []
        for name, a, b, rt in pairs:
            a2 = np.asarray(a, dtype=np.float64)
            b2 = np.asarray(b, dtype=np.float64)
            if a2.shape != b2.shape and a2.size == b2.size:
                b2 = b2.reshape(a2.shape)
            r = judge("output", a2, b2, tols.atol, tols)
            per[name] = {"runtime_name": rt, "aligned": r.aligned, "max_abs_diff": r.max_abs_diff,
                         "mean_abs_diff": r.mean_abs_diff, "cosine": r.cosine,
                         "original": spec(np.asarray(a)), "ported": spec(np.asarray(b))}
            aligned &= r.aligned
            if r.max_abs_diff is not None:
                maxes.append(r.max_abs_diff)
                means.append(r.mean_abs_diff)
                coss.append(r.cosine)
        unmatched = [k for k in outs_p if k not in {p[3] for p in pairs}]
        if not pairs:
            aligned = False
        first = pairs[0] if pairs else None
        row = Stage("output", aligned, max(maxes) if maxes else None, float(np.mean(means)) if means else None,
                    min(coss) if coss else None,
                    spec(np.asarray(first[1])) if first else {"shape": [], "dtype": None},
                    spec(np.asarray(first[2])) if first else {"shape": [], "dtype": None},
                    tolerance=tols.atol, compared_as="model outputs matched by name (tpu-mlir's _<OpType> suffix)",
                    extra={"outputs": per, "input": "the same tensor into both models (the original's input)"})
        top = "-" if row.max_abs_diff is None else f"{row.max_abs_diff:.6g}"
        row.message = (f"output aligned. output_diff_max: {top}" if aligned else f"output unaligned! output_diff_max: {top}")
        if unmatched:
            row.notes.append(f"bmodel outputs without an original counterpart: {', '.join(unmatched)}")
        if first is not None and np.size(first[1]) == np.size(first[2]):  # else the shapes differ: no heatmap
            row.diff = np.abs(np.asarray(first[1], np.float64) - np.asarray(first[2], np.float64).reshape(np.shape(first[1])))
            row.pair = (np.asarray(first[1]), np.asarray(first[2]).reshape(np.shape(first[1])))
        return row

    @staticmethod
    def _post_row(task: str, pred: dict, a, b) -> Stage:
        aligned = bool(pred["aligned"])
        if task == "classify":
            desc = f"top-1 original {pred['original']} ported {pred['ported']}"
        else:
            m = pred["matching"][0] if pred["matching"] else {}
            desc = f"boxes matched {m.get('matched')} (unmatched {m.get('unmatched_original')}/{m.get('unmatched_ported')})"
        row = Stage("postprocess", aligned, pred.get("max_score_diff"), pred.get("mean_score_diff"), None,
                    spec(np.asarray(a)), spec(np.asarray(b)),
                    compared_as=f"{task} post-processing of the same-input outputs (step 6)",
                    message=("postprocess aligned. " if aligned else "postprocess unaligned! ") + desc,
                    extra={"task": task, "details": {k: v for k, v in pred.items() if k not in ("aligned",)}})
        return row


def list_images(folder: str) -> list[str]:
    p = Path(folder)
    if not p.is_dir():
        raise PortlintError(f"{folder}: no such directory (--images)")
    found = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise PortlintError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return found


def run_verify(opts: VerifyOptions, progress=_silent) -> VerifyResult:
    if opts.image is None:
        raise PortlintError("give --image IMAGE (or --images DIR for a data set)")
    _check_file(opts.image, "image file")
    session = Session(opts, progress)
    result = session.verify(opts.image, bmrt_dir=opts.bmrt_dir)
    if not result.aligned:
        from portlint.verify.explain import attach, check_findings

        progress("looking up the check findings that explain the divergence")
        attach(result, check_findings(opts.original, opts.ported, session.bmodel_path, opts.input_shape))
    if opts.save_tensors:
        from portlint.verify.tensors import save_tensors

        result.tensors = save_tensors(result, opts.save_tensors)
    return result
