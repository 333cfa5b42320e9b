"""The two models: the original (TorchScript, ONNX through onnxruntime, or `module:factory` with an
optional state dict) and the ported bmodel (through portlint.runtime: SOPHON-SAIL on a card, else
tpu-mlir's chip simulator). Outputs are dicts {name: float array} in model order. Nothing is ever
unpickled with Python's pickle: a pickle file can run any code when loaded."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from portlint.errors import PortlintError


@dataclass
class OriginalModel:
    kind: str  # torchscript | onnx | module
    path: str
    names: Optional[list]  # output names where the format has them (ONNX)
    input_name: Optional[str]
    _run: Callable[[np.ndarray], dict]

    def run(self, x: np.ndarray) -> dict:
        return self._run(x)


def _torch_outputs(out) -> dict:
    import torch

    if isinstance(out, torch.Tensor):
        return {"output0": out.detach().cpu().numpy()}
    if isinstance(out, dict):
        return {str(k): v.detach().cpu().numpy() for k, v in out.items() if isinstance(v, torch.Tensor)}
    if isinstance(out, (list, tuple)):
        flat = {}
        for i, v in enumerate(out):
            if isinstance(v, torch.Tensor):
                flat[f"output{i}"] = v.detach().cpu().numpy()
            elif isinstance(v, (list, tuple)):
                for j, w in enumerate(v):
                    if isinstance(w, torch.Tensor):
                        flat[f"output{i}_{j}"] = w.detach().cpu().numpy()
        return flat
    raise PortlintError(f"the original model returned {type(out).__name__}, not tensors")


def _torch_runner(module) -> Callable:
    import torch

    def run(x: np.ndarray) -> dict:
        x = np.ascontiguousarray(x)
        if x.dtype == np.float64:  # a .float() the analyser did not see; the model wants float32
            x = x.astype(np.float32)
        t = torch.from_numpy(x)
        try:
            with torch.no_grad():
                out = module(t)
        except Exception as exc:
            msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise PortlintError(f"the original model failed on the replayed input {list(x.shape)} {x.dtype}: {msg}") from None
        return _torch_outputs(out)
    return run


def _load_factory(spec: str):
    """`package.module:factory` or `path/to/file.py:factory`; the factory returns an nn.Module."""
    mod_name, _, fn_name = spec.rpartition(":")
    if mod_name.endswith(".py") or os.sep in mod_name or "/" in mod_name:
        path = Path(mod_name)
        if not path.is_file():
            raise PortlintError(f"--model {spec}: no such file {mod_name}")
        sys.path.insert(0, str(path.resolve().parent))
        s = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(s)
        try:
            s.loader.exec_module(module)
        except Exception as exc:
            raise PortlintError(f"--model {spec}: importing {mod_name} failed: {type(exc).__name__}: {exc}") from None
    else:
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(mod_name)
        except Exception as exc:
            raise PortlintError(f"--model {spec}: cannot import {mod_name}: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, fn_name, None)
    if not callable(factory):
        raise PortlintError(f"--model {spec}: {mod_name} has no callable {fn_name}")
    try:
        model = factory()
    except Exception as exc:
        raise PortlintError(f"--model {spec}: {fn_name}() failed: {type(exc).__name__}: {exc}") from None
    if hasattr(model, "eval"):
        model.eval()
    return model


def is_factory_spec(spec: str) -> bool:
    head, sep, tail = spec.rpartition(":")
    return bool(sep) and bool(head) and tail.isidentifier() and not (len(head) == 1 and head.isalpha())


def load_original(spec: str, weights: Optional[str] = None) -> OriginalModel:
    """The original model, loaded without unpickling anything (a pickle can run any code): a
    TorchScript archive (torch.jit.load reads its own restricted format), an ONNX file, or
    `module:factory` (code the user names on purpose), whose state dict `weights` gives, read
    with `torch.load(weights_only=True)` (tensors and plain containers only)."""
    if is_factory_spec(spec) and not os.path.exists(spec):
        model = _load_factory(spec)
        if weights is not None:
            _load_weights(model, weights, spec)
        return OriginalModel("module", spec, None, None, _torch_runner(model))
    if weights is not None:
        raise PortlintError(f"--weights {weights}: give --model module:factory to build the model the weights are for")
    path = Path(spec)
    if not path.exists():
        raise PortlintError(f"{spec}: no such model file")
    if not path.is_file():
        raise PortlintError(f"{spec}: not a regular file")
    if path.suffix.lower() == ".onnx":
        try:
            import onnxruntime as ort
        except ImportError:
            raise PortlintError("onnxruntime is not installed: pip install portlint[verify]") from None
        try:
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise PortlintError(f"{spec}: onnxruntime cannot load it: {str(exc).splitlines()[0]}") from None
        names = [o.name for o in sess.get_outputs()]
        in_name = sess.get_inputs()[0].name

        def run(x: np.ndarray) -> dict:
            try:
                outs = sess.run(None, {in_name: np.ascontiguousarray(x, dtype=np.float32)})
            except Exception as exc:
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise PortlintError(f"the original model failed on the replayed input {list(np.shape(x))}: {msg}") from None
            return dict(zip(names, outs))
        return OriginalModel("onnx", str(path), names, in_name, run)
    kind = _archive_kind(path)
    if kind != "torchscript":
        raise PortlintError(f"{spec}: {kind}, which verify does not load (unpickling can run code): export the "
                            "model with torch.jit.script/trace or to ONNX, or give --model module:factory "
                            "--weights STATE_DICT")
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch 2.14 deprecates torch.jit.load in favour of torch.export
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        jit_error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PortlintError(f"{spec}: not a TorchScript or ONNX model ({jit_error})") from None
    module.eval()
    return OriginalModel("torchscript", str(path), None, None, _torch_runner(module))


def unpickling_needed(path: str) -> Optional[str]:
    """None when `path` is a model file verify loads without unpickling (ONNX, a TorchScript
    archive), else what the file is (a pickle, a torch.save file, ...): for a path verify was
    not given but found in the original program, which is then not loaded at all."""
    if Path(path).suffix.lower() == ".onnx":
        return None
    kind = _archive_kind(Path(path))
    return None if kind == "torchscript" else kind


def _archive_kind(path: Path) -> str:
    """"torchscript" for a TorchScript archive (a zip with code/ and constants.pkl, which
    torch.jit.load reads with its own restricted unpickler), else what the file is, read from its
    first bytes and the zip's table of contents only."""
    import zipfile

    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head.startswith(b"\x93NUMPY"):
            return "a numpy array file"
        if not zipfile.is_zipfile(path):
            return "a pickle file" if head[:1] == b"\x80" else "not a TorchScript, ONNX or state-dict file"
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return "not a TorchScript or ONNX file"
    parts = {n.split("/", 1)[1] if "/" in n else n for n in names}
    if "constants.pkl" in parts and any(p.startswith("code/") for p in parts):
        return "torchscript"
    if "data.pkl" in parts:
        return "a torch.save file (a pickled model or state dict)"
    return "a zip file that is not a TorchScript archive"


def _load_weights(model, weights: str, spec: str) -> None:
    import torch

    if not os.path.isfile(weights):
        raise PortlintError(f"--weights {weights}: no such file")
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)  # tensors and containers only
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PortlintError(f"--weights {weights}: not a state dict torch.load(weights_only=True) reads: {msg}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # a training checkpoint
    if not isinstance(state, dict) or not hasattr(model, "load_state_dict"):
        raise PortlintError(f"--weights {weights}: holds a {type(state).__name__}, not a state dict for {spec}")
    try:
        model.load_state_dict(state)
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PortlintError(f"--weights {weights}: does not fit {spec}: {msg}") from None
    model.eval()


@dataclass
class Bmodel:
    path: str
    info: Any  # portlint.bmodel.BModelInfo
    backend: Optional[str] = None

    @property
    def net(self):
        return self.info.networks[0]

    @property
    def input_name(self) -> str:
        return self.net.inputs[0].name

    @property
    def input_shape(self) -> tuple:
        return tuple(self.net.inputs[0].shape)

    @property
    def input_dtype(self) -> str:
        return self.net.inputs[0].dtype

    def run(self, x: np.ndarray, save_io_tensors_dir=None) -> tuple[dict, str]:
        from portlint.runtime import run_bmodel

        kwargs = {"save_io_tensors_dir": save_io_tensors_dir} if save_io_tensors_dir else {}
        return run_bmodel(self.path, {self.input_name: x}, backend=self.backend, **kwargs)


def load_bmodel(path: str, backend: Optional[str] = None) -> Bmodel:
    from portlint.bmodel import read_bmodel
    from portlint.errors import SourceError

    try:
        info = read_bmodel(path)
    except SourceError as err:
        raise PortlintError(f"{err.path}: {err.detail}") from None
    return Bmodel(path, info, backend)


def as_sail_input(x: np.ndarray, dtype: str) -> tuple[np.ndarray, Optional[str]]:
    """The array SAIL's numpy `Engine.process` hands the runtime for an input of `dtype`:
    FP32 inputs are float32 (float64 is converted); others are quantised by the scale, which
    verify does not model (FP32 bmodels only)."""
    x = np.asarray(x)
    note = None
    if dtype == "float32":
        if x.dtype != np.float32:
            note = f"the ported input is {x.dtype}; SAIL converts it to float32"
        return np.ascontiguousarray(x, dtype=np.float32), note
    raise PortlintError(f"the bmodel input is {dtype}: verify compares FP32 bmodels (compile with --quantize F32)")


def match_outputs(runtime_names, model_names) -> dict:
    """{runtime name: original name} with tpu-mlir's `_<OpType>` suffix in mind."""
    from portlint.runtime.simulator import match_output_names

    return match_output_names(list(runtime_names), list(model_names))
