"""The analyser reads code; it never imports or executes it. These programs would write a marker
file or open a socket at import, in default arguments, decorators, class bodies, `__main__`
blocks, eval'd strings and imported local modules, if anything ran them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PAYLOAD = """
import os, socket
MARK = {mark!r}
def touch(tag):
    open(os.path.join(MARK, tag), "w").write(tag)
    s = socket.socket(); s.settimeout(0.2)
    try:
        s.connect(("127.0.0.1", {port}))
    except OSError:
        pass
    return tag
"""

PROGRAM = """
import cv2
import numpy as np
import sophon.sail as sail
from helpers import touch  # a local module: analysed, never imported
touch("top-level")
exec("touch('exec')")
eval("touch('eval')")
__import__("helpers").touch("dunder-import")

def decorator(f):
    touch("decorator")
    return f

@decorator
def preprocess(img, size=touch("default-argument")):
    return cv2.resize(img, (224, 224))

class Net:
    attribute = touch("class-body")
    def __init__(self):
        touch("init")
        self.engine = sail.Engine("net.bmodel", 0, sail.IOMode.SYSIO)

if __name__ == "__main__":
    touch("main")
    net = Net()
    net.engine.process("g", {{"input": preprocess(cv2.imread("a.jpg"))}})
"""


def test_nothing_runs(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    side = tmp_path / "ported"
    side.mkdir()
    (side / "helpers.py").write_text(textwrap.dedent(PAYLOAD.format(mark=str(marks), port=port)) + 'touch("helpers-import")\n')
    (side / "ported.py").write_text(PROGRAM.format())
    original = ROOT / "examples" / "resnet" / "resnet_torch.py"
    for args in (["check", str(original), str(side / "ported.py"), "--format", "json", "--no-cache"],
                 ["check", str(original), str(side), "--format", "json", "--no-cache"],
                 ["fix", str(original), str(side / "ported.py"), "--no-cache"]):
        r = subprocess.run([sys.executable, "-m", "portlint", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 1), r.stderr
        if args[0] == "check":
            codes = [f["code"] for f in json.loads(r.stdout)["findings"]]
            assert "PL101" in codes  # the program was analysed, through all of the above
    assert list(marks.iterdir()) == []
    try:
        conn, _ = server.accept()
        conn.close()
        raise AssertionError("the analysed program opened a socket")
    except socket.timeout:
        pass
    finally:
        server.close()
