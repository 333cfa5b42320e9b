"""Replays a pipeline found by the analyser with each library's real implementation.

The analyser records every step from decode to the model input as a typed op (analysis/ops.py);
here each op is executed on a real image: PIL and torchvision for what the program calls
through them, cv2 and numpy for theirs, and SOPHON-SAIL's Bmcv emulated in numpy
(`sail_emu`) where `sophon.sail` is not importable. Sizes recorded as symbolic expressions of
the image's H and W and of the bmodel's input dims are evaluated on the actual image.
`driver` dispatches on the op's type, one module per family of stages executes it.
"""

from portlint.verify.replay.common import ReplayError, where
from portlint.verify.replay.driver import Replayer, describe_ops, replay

__all__ = ["Replayer", "ReplayError", "replay", "where", "describe_ops"]
