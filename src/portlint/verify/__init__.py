"""`portlint verify`: replays the original and the ported pipelines on real images with each
library's real implementation and compares them stage by stage, then the models and the
predictions (docs/verify.md). Submodules import torch, cv2 and PIL lazily."""

__all__ = ["run_verify", "VerifyOptions"]


def __getattr__(name):
    if name in __all__:
        from portlint.verify import run

        return getattr(run, name)
    raise AttributeError(name)
