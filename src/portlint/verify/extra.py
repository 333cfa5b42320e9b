"""Is the `verify` extra installed? `verify` and `fix --verify` replay both pipelines with the
libraries the programs call (torch, torchvision, OpenCV, PIL); with only the base package they
must say so in one line, with the command that installs them, never with a traceback."""

from __future__ import annotations

import importlib.util

from portlint.errors import PortlintError

# import name -> what it is, for the message
REQUIRED = {"torch": "torch", "torchvision": "torchvision", "cv2": "opencv-python-headless", "PIL": "pillow"}
INSTALL = "pip install 'portlint[verify]'"


def missing_error(modules) -> PortlintError:
    names = ", ".join(REQUIRED.get(m, m) for m in modules)
    return PortlintError(f"verify needs {names}, which {'is' if len(modules) == 1 else 'are'} not installed: {INSTALL}")


def require_verify_extra() -> None:
    """Raise the one-line error when a library every replay needs is missing (no import done)."""
    missing = []
    for name in REQUIRED:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a broken or half-removed installation
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise missing_error(missing)


def as_missing_extra(exc: ModuleNotFoundError):
    """The one-line error for an import of a verify library that failed later (onnxruntime for an
    .onnx model, a library removed since the check above), else None."""
    top = (exc.name or "").split(".")[0]
    if top in REQUIRED or top in ("onnx", "onnxruntime"):
        return missing_error([top])
    return None
