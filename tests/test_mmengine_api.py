"""mmengine 0.x / mmcv 2.x facts (analysis/apis/mmengine_api.py) and decord's (decord_api.py), on
small OpenMMLab-2.x-style programs: registry children found through the default scope, a type
resolved by importing only the module of the location that defines it, Compose and BaseTransform,
pseudo_collate, BaseModel.test_step through the data preprocessor, and the clip layouts."""

from __future__ import annotations

import textwrap

from portlint.analysis.analyze import interpret
from portlint.analysis.context import PairContext
from portlint.analysis.runspec import resolve_run
from portlint.analysis.source import load_side
from portlint.analysis.apis.numpy_api import reshaped_layout
from portlint.analysis.image import Img, ImageState

REGISTRY = """
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS, MODELS as ROOT_MODELS, Registry
TRANSFORMS = Registry('transform', parent=ROOT_TRANSFORMS, locations=['vkit.pipes'])
MODELS = Registry('model', parent=ROOT_MODELS, locations=['vkit.nets'])
"""

PIPES = """
import mmcv
from mmcv.transforms import BaseTransform
from vkit.registry import TRANSFORMS


@TRANSFORMS.register_module()
class Load(BaseTransform):
    def transform(self, results):
        import decord
        vr = decord.VideoReader(results['filename'])
        results['imgs'] = list(vr.get_batch([0, 1, 2, 3]).asnumpy())
        return results


@TRANSFORMS.register_module(name='Scale')
class FixedScale(BaseTransform):
    def __init__(self, size):
        self.size = size

    def transform(self, results):
        results['imgs'] = [mmcv.imresize(img, self.size) for img in results['imgs']]
        return results
"""

UNUSED = """
raise RuntimeError('imported although it defines no transform the pipeline names')
"""

NETS = """
import numpy as np
import torch
from mmengine.model import BaseDataPreprocessor, BaseModel, BaseModule, stack_batch
from vkit.registry import MODELS


class Head(BaseModule):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, 3)

    def forward(self, x):
        return self.conv(x).mean(dim=(2, 3, 4))


@MODELS.register_module()
class Norm(BaseDataPreprocessor):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1, 1), False)

    def forward(self, data, training=False):
        batch = stack_batch(data['inputs'])
        data['inputs'] = (batch - self.mean) / self.std
        return data


@MODELS.register_module()
class Net(BaseModel):
    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.head = Head()

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.head(inputs.view((-1,) + inputs.shape[2:]))
"""

MAIN = """
import numpy as np
from mmcv.transforms import to_tensor
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope, MODELS as ROOT_MODELS
import vkit.registry


def pack(results):
    clip = np.array(results['imgs']).reshape((-1, 4) + results['imgs'][0].shape)
    return dict(inputs=to_tensor(np.transpose(clip, (0, 4, 1, 2, 3))))


if __name__ == '__main__':
    init_default_scope('vkit')
    model = ROOT_MODELS.build(dict(type='Net', data_preprocessor=dict(type='Norm', mean=[1, 2, 3], std=[2, 2, 2])))
    pipeline = Compose([dict(type='Load'), dict(type='Scale', size=(64, 48)), pack])
    data = pseudo_collate([pipeline(dict(filename='clip.mp4'))])
    model.test_step(data)
"""


def _side(tmp_path, unused=True):
    (tmp_path / "vkit" / "pipes").mkdir(parents=True)
    (tmp_path / "vkit" / "nets").mkdir()
    (tmp_path / "vkit" / "__init__.py").write_text("")
    (tmp_path / "vkit" / "registry.py").write_text(textwrap.dedent(REGISTRY))
    (tmp_path / "vkit" / "pipes" / "__init__.py").write_text("from .video import *\nfrom .unused import *\n")
    (tmp_path / "vkit" / "pipes" / "video.py").write_text(textwrap.dedent(PIPES))
    if unused:
        (tmp_path / "vkit" / "pipes" / "unused.py").write_text(textwrap.dedent(UNUSED))
    (tmp_path / "vkit" / "nets" / "__init__.py").write_text("from .models import *\n")
    (tmp_path / "vkit" / "nets" / "models.py").write_text(textwrap.dedent(NETS))
    (tmp_path / "run.py").write_text(textwrap.dedent(MAIN))
    return load_side(str(tmp_path))


def test_registry_pipeline_reaches_the_model(tmp_path):
    facts = interpret(_side(tmp_path), PairContext(), strict=True)
    sinks = facts._interp.sinks
    assert len(sinks) == 1
    st = sinks[0].img.state
    assert st.channels == ("R", "G", "B")  # decord decodes RGB
    assert st.layout == "NCNHW"  # clips x C x T x H x W once the recognizer merges the video axis
    assert st.size == (48, 64)  # mmcv.imresize takes (w, h); the type registered under name='Scale'
    assert st.affine == ((0.5, -0.5), (0.5, -1.0), (0.5, -1.5))  # (x - mean) / std of the preprocessor
    kinds = [type(op).__name__ for op in st.ops]
    assert kinds[0] == "Decode" and st.ops[0].library == "decord" and "Resize" in kinds and "Normalize" in kinds


def test_only_the_defining_module_of_a_location_is_imported(tmp_path, monkeypatch):
    # the locations are packages whose __init__ imports every module; run.py needs two of them
    from portlint.analysis.interp import Interpreter

    imported = []
    real = Interpreter.module_env

    def module_env(self, src):
        if self.entry is not None and self.entry.path.name == "run.py" and src.path not in self.module_envs:
            imported.append(src.path.relative_to(tmp_path).as_posix())
        return real(self, src)

    monkeypatch.setattr(Interpreter, "module_env", module_env)
    side = _side(tmp_path)
    facts = interpret(side, PairContext(), strict=True, runs=[resolve_run("python run.py", side)])
    assert [s.entry.path.name for s in facts._interp.sinks] == ["run.py"]
    assert sorted(imported) == ["vkit/__init__.py", "vkit/nets/models.py", "vkit/pipes/video.py", "vkit/registry.py"]


def test_without_the_default_scope_the_root_registry_is_unknown(tmp_path):
    _side(tmp_path)
    run = tmp_path / "run.py"
    run.write_text(run.read_text().replace("    init_default_scope('vkit')\n", ""))
    side = load_side(str(tmp_path))
    facts = interpret(side, PairContext(), strict=True, runs=[resolve_run("python run.py", side)])
    assert not facts._interp.sinks  # mmengine's root registry holds none of vkit's classes


def _img(layout, size=(112, 112)):
    return Img(ImageState(kind="ndarray", channels=("R", "G", "B"), layout=layout, size=size))


def test_reshape_splits_and_merges_leading_batch_axes():
    from portlint.analysis.values import UNKNOWN

    frames = _img("NHWC")
    assert reshaped_layout(frames, (-1, 10, 16, 112, 112, 3)) == "NNNHWC"
    assert reshaped_layout(_img("NNCNHW"), (-1, 3, UNKNOWN, 112, 112)) == "NCNHW"
    assert reshaped_layout(frames, (-1, 112 * 112 * 3)) is None  # the pixels merged: no layout
    assert reshaped_layout(frames, (-1, 3, 112, 112)) is None  # HWC read as CHW: not a batch reshape


SCOPES = """
import cv2
from mmengine.registry import MODELS as ROOT, Registry, build_from_cfg, init_default_scope

LOCAL = Registry('model', parent=ROOT, scope='alpha')
OTHER = Registry('model', parent=ROOT, scope='beta')


@LOCAL.register_module()
class Same:
    def __init__(self, size):
        self.size = size


@OTHER.register_module(name='Same')
class Wider:
    def __init__(self, size):
        self.size = size * 2


def run(model, reg, cfg):
    obj = build_from_cfg(cfg, reg)
    model(cv2.resize(cv2.imread('a.jpg'), (obj.size, obj.size)))


if __name__ == '__main__':
    import torch
    net = torch.jit.load('m.pt')
    init_default_scope('alpha')
    run(net, ROOT, dict(type='Same', size=32))                  # the default scope's child
    run(net, ROOT, dict(type='Same', size=32, _scope_='beta'))  # _scope_ switches to beta's
    run(net, LOCAL, dict(type='beta.Same', size=32))            # a scoped key: beta's class
    run(net, ROOT, dict(type='Missing', size=32))               # nobody defines it: unknown
"""


def test_scopes_choose_the_registry(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent(SCOPES))
    side = load_side(str(tmp_path / "prog.py"))
    facts = interpret(side, PairContext(), strict=True)
    from portlint.analysis.values import UNKNOWN

    sizes = [s.img.state.size for s in facts._interp.sinks]
    assert sizes == [(32, 32), (64, 64), (64, 64), (UNKNOWN, UNKNOWN)]
