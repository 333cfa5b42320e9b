"""Runs one forward of a bmodel in tpu-mlir's pyruntime_bm (chip simulator).

Executed by the tpu-mlir Python 3.10 venv, not imported by portlint (pyruntime_bm is
cp310-only). Standalone on purpose: standard library + numpy only.
Usage: python _simulator_runner.py BMODEL NET|- IN.npz OUT.npz STATUS.json
Writes outputs to OUT.npz and {"ok", "error", "outputs": runtime names in runtime order} to STATUS.json.
"""

import json
import os
import sys


def main(bmodel, net_name, in_path, out_path, status_path):
    import numpy as np
    import tpu_mlir

    sys.path.insert(0, os.path.join(os.path.dirname(tpu_mlir.__file__), "python"))
    import pyruntime_bm

    model = pyruntime_bm.Model(bmodel, 0, "")
    names = list(model.networks)
    if net_name == "-":
        net_name = names[0]
    elif net_name not in names:
        return f"network {net_name!r} not in the bmodel (has {', '.join(names)})"
    net = model.Net(net_name)
    feeds = dict(np.load(in_path, allow_pickle=False))
    inputs = list(net.inputs)
    if len(inputs) == 1 and len(feeds) == 1 and inputs[0].name not in feeds:
        feeds = {inputs[0].name: next(iter(feeds.values()))}
    missing = [t.name for t in inputs if t.name not in feeds]
    if missing:
        return f"no array for input(s) {', '.join(missing)} (given {', '.join(feeds) or 'none'})"
    for t in inputs:
        x = feeds[t.name]
        if tuple(x.shape) != tuple(t.data.shape):
            return f"input {t.name!r}: shape {list(x.shape)} does not match the bmodel's {list(t.data.shape)}"
        t.data[:] = x
    net.forward()
    outs = [(o.name, np.array(o.data, copy=True)) for o in net.outputs]
    np.savez(out_path, **dict(outs))
    return [n for n, _ in outs]


if __name__ == "__main__":
    status = sys.argv[5]
    try:
        res = main(*sys.argv[1:6])
    except Exception as exc:  # reported to the parent as one line
        res = f"{type(exc).__name__}: {exc}".splitlines()[0]
    err = res if isinstance(res, str) else None
    with open(status, "w") as f:
        json.dump({"ok": err is None, "error": err, "outputs": None if err else res}, f)
    sys.exit(0 if err is None else 3)
