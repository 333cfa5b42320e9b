"""mmcv.Config.fromfile read as data (analysis/apis/config_file.py): `_base_` merging as mmcv's
Config._file2dict / _merge_a_into_b do (mmcv/utils/config.py, v1.7.0), literal evaluation only;
mmcv.rescale_size's rounding (mmcv/image/geometric.py _scale_size: int(x * scale + 0.5))."""

from portlint.analysis.apis import config_file
from portlint.analysis.apis.config_api import AttrDict
from portlint.analysis.apis.mmcv_api import rescale_size
from portlint.analysis.values import UNKNOWN, sym_eval, var


def _load(files: dict, path: str):
    return config_file.load(lambda p: files.get(p, UNKNOWN), path)


def test_child_keys_override_and_dicts_merge_into_the_base():
    files = {
        "configs/_base_/data.py": "norm = dict(mean=[1, 2, 3], std=[4, 5, 6])\n"
                                  "data = dict(workers=2, test=dict(type='Folder', pipeline=[dict(type='Load')]))\n",
        "configs/_base_/model.py": "model = dict(type='Net', depth=18, head=dict(classes=10))\n",
        "configs/net.py": "_base_ = ['./_base_/data.py', './_base_/model.py']\n"
                          "model = dict(depth=50)\n"
                          "data = dict(workers=4, test=dict(pipeline=[dict(type='Load'), dict(type='Resize')]))\n",
    }
    cfg = _load(files, "configs/net.py")
    assert cfg['model'] == {"type": "Net", "depth": 50, "head": {"classes": 10}}
    assert cfg['data']['workers'] == 4 and cfg['data']['test']['type'] == "Folder"  # merged key by key
    assert [t['type'] for t in cfg['data']['test']['pipeline']] == ["Load", "Resize"]  # a list replaces
    assert cfg["norm"]["mean"] == [1, 2, 3] and "_base_" not in cfg


def test_delete_replaces_the_base_dict_and_a_single_base_may_be_a_string():
    files = {
        "a/base.py": "optimizer = dict(type='SGD', lr=0.01, momentum=0.9)\n",
        "a/child.py": "_base_ = 'base.py'\noptimizer = dict(_delete_=True, type='AdamW', lr=0.001)\n",
    }
    assert _load(files, "a/child.py")['optimizer'] == {"type": "AdamW", "lr": 0.001}


def test_nested_bases_resolve_relative_to_each_file():
    files = {
        "c/_base_/runtime.py": "log_level = 'INFO'\n",
        "c/_base_/schedule.py": "_base_ = './runtime.py'\ntotal_iters = 160000\n",
        "c/b0/cfg.py": "_base_ = ['../_base_/schedule.py']\nlog_level = 'WARN'\n",
    }
    cfg = _load(files, "c/b0/cfg.py")
    assert cfg['total_iters'] == 160000 and cfg['log_level'] == "WARN"


def test_only_literal_data_is_evaluated():
    text = ("import os\n"
            "side = 512\n"
            "crop = (side, side * 2)\n"
            "scales = [side * r for r in (0.5, 1.0)]\n"
            "home = os.environ['HOME']\n"
            "norm = dict(mean=[123.675, 116.28], **dict(to_rgb=True))\n"
            "neg = -side // 2\n"
            "first = crop[0]\n")
    cfg = _load({"x.py": text}, "x.py")
    assert cfg['crop'] == (512, 1024) and cfg['neg'] == -256 and cfg['first'] == 512
    assert cfg['norm'] == {"mean": [123.675, 116.28], "to_rgb": True}
    assert cfg['scales'] is UNKNOWN and cfg['home'] is UNKNOWN  # a comprehension, a library value: unknown
    assert "os" not in cfg


def test_numbers_too_large_to_compute_stay_unknown():
    text = "a = 99999999999999999999\n" + "".join(f"a{i} = {'a' if i == 0 else f'a{i - 1}'} * {'a' if i == 0 else f'a{i - 1}'}\n" for i in range(40))
    cfg = _load({"big.py": text}, "big.py")
    assert cfg["a0"] == 99999999999999999999 ** 2 and cfg["a39"] is UNKNOWN


def test_unreadable_or_broken_files_give_unknown():
    assert _load({}, "missing.py") is UNKNOWN
    assert _load({"bad.py": "x = (\n"}, "bad.py") is UNKNOWN
    assert _load({"c.py": "_base_ = 'gone.py'\nx = 1\n"}, "c.py") is UNKNOWN


def test_rescale_size_rounds_half_up_within_the_long_and_short_edges():
    def evaluated(w, h, scale):
        nw, nh, _ = rescale_size(var("W"), var("H"), scale)
        return sym_eval((nw, nh), {"W": w, "H": h})

    # mmcv: scale_factor = min(1024 / max(h, w), 512 / min(h, w)); int(x * scale_factor + 0.5)
    assert evaluated(2048, 1024, (1024, 512)) == (1024, 512)
    assert evaluated(451, 300, (640, 640)) == (640, 426)  # 300 * 640/451 = 425.72 -> 426
    assert evaluated(480, 640, (1024, 512)) == (512, 683)  # the long edge may take the 1024
    assert evaluated(100, 50, 1.5) == (150, 75)
