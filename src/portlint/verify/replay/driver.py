"""Runs one side's ops on an image file: each op goes to the step of its type (analysis/ops.py),
which dispatches on the op's library; a snapshot of the value is kept after every op."""

from __future__ import annotations

from typing import Optional

import numpy as np

from portlint.analysis.ops import Batch, Colour, Crop, Decode, Dtype, Layout, Normalize, Pad, Resize
from portlint.errors import PortlintError
from portlint.verify.replay import colour, decode, geometry, normalize, tensor
from portlint.verify.replay.common import Fallback, ReplayError, where
from portlint.verify.values import V, Snapshot, channel_axis, to_numpy

_STEPS = {
    Colour: colour.colour, Resize: geometry.resize, Crop: geometry.crop, Pad: geometry.pad,
    Normalize: normalize.normalize, Layout: tensor.layout, Dtype: tensor.dtype, Batch: tensor.batch,
}


class Replayer:
    """Runs one side's ops on the image file; `run()` returns the snapshot after every op."""

    def __init__(self, side: str, ops: tuple, image: str, dims: Optional[tuple], final_state=None):
        self.side = side
        self.ops = list(ops)
        self.image = image
        self.env: dict = {}
        if dims:
            for i, d in enumerate(dims):
                self.env[f"bmodel.input.d{i}"] = int(d)
        self.final = final_state
        self.norm_folded = False  # the rest of the normalisation was applied from the final affine
        self.applied_through = -1  # ops up to this index were executed with an earlier op of their call
        self.i = 0

    # ----------------------------------------------------------------- driving
    def run(self) -> list[Snapshot]:
        snaps: list[Snapshot] = []
        v: Optional[V] = None
        for self.i, op in enumerate(self.ops):
            try:
                v = self.step(v, op)
            except ReplayError:
                raise
            except PortlintError:
                raise
            except Exception as exc:  # a library refused the op: name it, one line
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ReplayError(f"{self.side}: {op.api} at {where(op) or '?'} failed on the replayed image: {msg}") from None
            snaps.append(Snapshot(self.i, op.stage, op.api, where(op), v))
        if v is None:
            raise ReplayError(f"{self.side}: no pipeline to replay")
        return snaps

    def fail(self, op, why: str):
        raise ReplayError(f"{self.side}: cannot replay {op.api} at {where(op) or '?'}: {why}")

    def ev(self, op, value, what: str = "a size"):
        """A number from a recorded value (constant or symbolic expression of H, W, bmodel dims)."""
        from portlint.analysis.values import UNKNOWN, Sym, sym_eval, sym_vars

        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, Sym):
            r = sym_eval(value, self.env)
            if r is not None:
                return r
            missing = sorted(n for n in sym_vars(value) if n not in self.env)
            if any(n.startswith("bmodel.") for n in missing):
                self.fail(op, f"{what} depends on the bmodel's input shape: give --bmodel or --input-shape")
            self.fail(op, f"{what} could not be evaluated")
        if value is UNKNOWN or value is None:
            self.fail(op, f"{what} is not known statically")
        if isinstance(value, (list, tuple)):
            return type(value)(self.ev(op, x, what) for x in value)
        self.fail(op, f"{what} ({value!r}) is not a number")

    def same_call(self, op) -> list:
        """This op and the ops of its type right after it that the same call recorded."""
        run = [op]
        for later in self.ops[self.i + 1:]:
            if type(later) is not type(op) or later.site is not op.site:
                break
            run.append(later)
        return run

    def step(self, v: Optional[V], op) -> V:
        if isinstance(op, Decode):
            out = decode.decode(self, v, op)
            if v is None or op.source is not None:  # a new image: its size binds H and W
                arr = to_numpy(out.data)
                hw = (arr.shape[1], arr.shape[2]) if out.layout == "CHW" else (arr.shape[0], arr.shape[1])
                self.env["H"], self.env["W"] = int(hw[0]), int(hw[1])
            return out
        if v is None:
            self.fail(op, "the pipeline does not start with a decode")
        if isinstance(op, Normalize) and (self.norm_folded or self.i <= self.applied_through):
            return v
        handler = _STEPS.get(type(op))
        if handler is None:
            self.fail(op, f"no runtime equivalent for a {op.stage} step")
        try:
            return handler(self, v, op)
        except Fallback as fb:
            return self.fold_normalisation(v, op, str(fb))

    # ----------------------------------------------------------------- normalisation fallback
    def fold_normalisation(self, v: V, op, why: str) -> V:
        """Apply the rest of the normalisation at once from the analyser's final per-channel
        affine (a*raw + b): exact for any chain of per-channel arithmetic. Only for steps whose
        own constants the analyser did not know."""
        st = self.final
        if st is None or st.affine is None or v.affine is None:
            self.fail(op, why + " and the per-channel normalisation is not known")
        later = [o for o in self.ops[self.i + 1:] if isinstance(o, Colour)]
        if later:
            self.fail(op, why + " and the channels are reordered afterwards")
        arr = to_numpy(v.data).astype(np.float64)
        c = channel_axis(v.layout)
        n = len(st.affine)
        if c is None or arr.shape[c] != n or len(v.affine) != n:
            self.fail(op, why + " and the channel axis is not known")
        cur_a = np.array([p[0] for p in v.affine])
        cur_b = np.array([p[1] for p in v.affine])
        fa = np.array([p[0] for p in st.affine])
        fb = np.array([p[1] for p in st.affine])
        shape = [1] * arr.ndim
        shape[c] = n
        raw = (arr - cur_b.reshape(shape)) / cur_a.reshape(shape)
        out = (raw * fa.reshape(shape) + fb.reshape(shape)).astype(np.float32)
        self.norm_folded = True
        return v.but(data=out, affine=tuple(st.affine)).note(
            f"{op.api}: normalisation applied from the analysed per-channel affine ({why})")


def replay(side: str, ops, image: str, dims, final_state=None) -> list[Snapshot]:
    return Replayer(side, ops, image, dims, final_state).run()


def describe_ops(ops) -> list[str]:
    return [f"{op.stage}: {op.api} ({where(op) or '?'})" for op in ops]
