"""Model hubs: classes of the program that load themselves through a library mixin.

Facts (huggingface_hub `hub_mixin.py`, `ModelHubMixin.from_pretrained`): the classmethod
downloads the repository's `config.json`, then calls `cls._from_pretrained(model_id=..., ...)`;
`PyTorchModelHubMixin._from_pretrained` builds `cls(**config)` and loads the weights into it. So
`MyModel.from_pretrained(repo)` is an instance of the program's class, built with keyword
arguments read from a downloaded file: unknown here, so each parameter keeps its default or is
unknown, as for any `cls(**unknown)`. A class that overrides `_from_pretrained` runs its own.
"""

from __future__ import annotations

from portlint.analysis.apis.common import Ctx, handles
from portlint.analysis.objects import ClassVal, FunctionVal
from portlint.analysis.values import UNKNOWN

_MIXINS = ("huggingface_hub.PyTorchModelHubMixin", "huggingface_hub.ModelHubMixin",
           "huggingface_hub.hub_mixin.PyTorchModelHubMixin", "huggingface_hub.hub_mixin.ModelHubMixin")


@handles(*(m + ".from_pretrained" for m in _MIXINS))
def _from_pretrained(ctx: Ctx):
    cls = ctx.args[0]
    if not isinstance(cls, ClassVal):
        return UNKNOWN
    override = cls.lookup("_from_pretrained")
    if isinstance(override, FunctionVal):
        model_id = ctx.args[1] if len(ctx.args) > 1 else ctx.kwargs.get("pretrained_model_name_or_path", UNKNOWN)
        bound = override.bind(cls) if override.defaults.get("__decorator__") == "classmethod" else override
        return ctx.interp.call_function(bound, [], {"model_id": model_id, "__splat__": True}, ctx.site)
    return ctx.interp.instantiate(cls, [], {"__splat__": True}, ctx.site)
