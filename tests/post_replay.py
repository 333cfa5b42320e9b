"""Runs a fixture program end to end on synthetic model outputs, to measure what a post-processing
fix changes (issue 15.3; verify's replay stops at the model input, and verify post-processes both
sides with its own code, not the port's). Tests only: the analyser never executes code.

The model is faked on both sides with the same seeded arrays: `torch.jit.load` returns a module
that answers every call with them (as tensors, in model order), and `sophon.sail.Engine` answers
`process` with a dict in lexicographic key order, as SAIL's `std::map` does (rules/PL201.md), while
`get_output_names` gives bmodel order. Everything else (cv2, numpy, torch, the fixture's own
helper modules) is real. `cv2.imwrite` and `np.save` are recorded (not written), so a lossy JPEG
never hides a difference.
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np


@dataclass
class Model:
    """The bmodel/torchscript both sides load: outputs in model order, with their bmodel names."""

    names: list[str]
    outputs: list[np.ndarray]
    input_shape: tuple = (1, 3, 640, 640)
    input_names: tuple = ("images",)
    single: bool = False  # the torch module returns one tensor instead of a tuple


@dataclass
class Run:
    stdout: str = ""
    error: Optional[str] = None  # the exception the program raised, if any
    saved: dict = field(default_factory=dict)  # file name -> array given to cv2.imwrite / np.save
    globals: dict = field(default_factory=dict)


def _sail_module(model: Model) -> types.ModuleType:
    class Engine:
        def __init__(self, *args, **kwargs):
            pass

        def get_graph_names(self):
            return ["net"]

        def get_input_names(self, graph):
            return list(model.input_names)

        def get_output_names(self, graph):
            return list(model.names)

        def get_input_shape(self, graph, name):
            return list(model.input_shape)

        def get_output_shape(self, graph, name):
            return list(model.outputs[model.names.index(name)].shape)

        def process(self, graph, inputs, *args):
            by_name = dict(zip(model.names, model.outputs))
            return {name: by_name[name].copy() for name in sorted(by_name)}  # std::map order

    sail = types.ModuleType("sophon.sail")
    sail.Engine = Engine
    sail.IOMode = types.SimpleNamespace(SYSIO=0, SYSI=1, SYSO=2, DEVIO=3)
    return sail


class _TorchModel:
    def __init__(self, model: Model):
        self.model = model

    def eval(self):
        return self

    def __call__(self, *args, **kwargs):
        import torch

        tensors = [torch.from_numpy(o.copy()) for o in self.model.outputs]
        return tensors[0] if self.model.single else tuple(tensors)


LOCAL_MODULES = ("utils", "postprocess_numpy")  # the fixtures' helper modules share these names


def _forget_local_modules() -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in LOCAL_MODULES:
            del sys.modules[name]


def run_program(path: Path, argv: list[str], model: Model, cwd: Path) -> Run:
    """Run `path` as `__main__` with `argv`, in `cwd`, on `model`'s outputs."""
    import cv2
    import torch

    run = Run()
    sophon = types.ModuleType("sophon")
    sophon.sail = _sail_module(model)

    def imwrite(name, img, *args):
        run.saved[os.path.basename(str(name))] = np.array(img)
        return True

    def save(name, arr, *args, **kwargs):
        run.saved[os.path.basename(str(name))] = np.array(arr)

    patches = [(cv2, "imwrite", imwrite), (np, "save", save), (torch.jit, "load", lambda *a, **k: _TorchModel(model))]
    saved_attrs = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    old = (sys.argv, list(sys.path), os.getcwd(), sys.modules.get("sophon"), sys.modules.get("sophon.sail"))
    out = io.StringIO()
    try:
        for obj, name, value in patches:
            setattr(obj, name, value)
        sys.modules["sophon"], sys.modules["sophon.sail"] = sophon, sophon.sail
        _forget_local_modules()
        sys.argv = [str(path), *argv]
        sys.path.insert(0, str(path.parent))
        os.chdir(cwd)
        with contextlib.redirect_stdout(out):
            try:
                run.globals = runpy.run_path(str(path), run_name="__main__")
            except Exception as exc:  # a wrong output order often ends in a shape error
                run.error = f"{type(exc).__name__}: {exc}"
    finally:
        for obj, name, value in saved_attrs:
            setattr(obj, name, value)
        sys.argv, sys.path[:] = old[0], old[1]
        os.chdir(old[2])
        for key, mod in (("sophon", old[3]), ("sophon.sail", old[4])):
            if mod is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = mod
        _forget_local_modules()
    run.stdout = out.getvalue()
    return run
