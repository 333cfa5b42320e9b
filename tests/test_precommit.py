"""The pre-commit hooks for real: a temporary project whose commits go through pre-commit, with
the hooks installed (by pre-commit, with pip) from a copy of this working tree, so uncommitted
work is what gets tested. Slow (about a minute: pre-commit builds the hook environment)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
_COPY = ("pyproject.toml", "README.md", "README.rst", "LICENSE", "LICENSE.md", "LICENSE.txt", "NOTICE",
         ".pre-commit-hooks.yaml", "src", "rules")

ORIGINAL = '''\
import torch
from PIL import Image
from torchvision import transforms


def main():
    model = torch.jit.load("resnet18_traced.pt").eval()
    transform = transforms.Compose([
        transforms.Resize((224, 224)),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    img = Image.open("test.jpg").convert("RGB")
    x = transform(img).unsqueeze(0)
    with torch.no_grad():
        out = model(x)
    print(out.argmax(1))


if __name__ == "__main__":
    main()
'''

PORTED = '''\
import cv2
import numpy as np
import sophon.sail as sail
from PIL import Image


class Classifier:
    def __init__(self, bmodel):
        self.net = sail.Engine(bmodel, 0, sail.IOMode.SYSIO)
        self.graph_name = self.net.get_graph_names()[0]
        self.input_name = self.net.get_input_names(self.graph_name)[0]
        self.mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
        self.std = np.array([0.229, 0.224, 0.225], dtype=np.float32)

    def preprocess(self, img):
        img = cv2.resize(img, (224, 224))
        img = (img.astype(np.float32) / 255.0 - self.mean) / self.std
        return np.transpose(img, (2, 0, 1))

    def __call__(self, img):
        data = np.stack([self.preprocess(img)])
        return self.net.process(self.graph_name, {self.input_name: data})


def main():
    model = Classifier("resnet.bmodel")
    img = np.asarray(Image.open("test.jpg").convert("RGB"))
    print(model(img))


if __name__ == "__main__":
    main()
'''

# The ported program with the resize made the way torchvision resizes a PIL image.
ALIGNED = PORTED.replace("cv2.resize(img, (224, 224))",
                        "np.asarray(Image.fromarray(img).resize((224, 224), Image.BILINEAR))")

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("pre-commit", path=os.path.dirname(sys.executable)) is None
    and shutil.which("pre-commit") is None,
    reason="needs git and pre-commit")


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    gitconfig = home / "gitconfig"
    gitconfig.write_text("[init]\n\tdefaultBranch = main\n[user]\n\tname = t\n\temail = t@example.invalid\n")
    env.update(GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(home / "pre-commit"),
               PRE_COMMIT_COLOR="never", PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    return env


def _run(args, cwd, env, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _git(cwd, env, *args) -> str:
    proc = _run(["git", *args], cwd, env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """(path, rev, env): a git repo holding a copy of this working tree's package."""
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base)
    repo = base / "portlint-src"
    repo.mkdir()
    for name in _COPY:
        src = CHECKOUT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        elif src.is_file():
            shutil.copy2(src, repo / name)
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "portlint under test")
    return repo, _git(repo, env, "rev-parse", "HEAD"), env


def _project(tmp_path: Path, hook_repo, hook_id: str) -> tuple[Path, dict]:
    repo, rev, env = hook_repo
    proj = tmp_path / "proj"
    (proj / "orig").mkdir(parents=True)
    (proj / "port").mkdir()
    (proj / "orig" / "classify.py").write_text(ORIGINAL, encoding="utf-8")
    (proj / "port" / "classify.py").write_text(PORTED, encoding="utf-8")
    (proj / "pyproject.toml").write_text(
        '[tool.portlint]\npairs = [{original = "orig/classify.py", ported = "port/classify.py"}]\n', encoding="utf-8")
    (proj / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: {hook_id}\n", encoding="utf-8")
    _git(proj, env, "init", "-q")
    proc = _run([sys.executable, "-m", "pre_commit", "install"], proj, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proj, env


def _commit(proj: Path, env: dict) -> subprocess.CompletedProcess:
    _git(proj, env, "add", "-A")
    return _run(["git", "commit", "-m", "change"], proj, env)


def test_portlint_hook_refuses_a_diverging_port(tmp_path, hook_repo):
    proj, env = _project(tmp_path, hook_repo, "portlint")
    refused = _commit(proj, env)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0, out
    assert "PL101" in out and "port/classify.py" in out, out
    assert _run(["git", "rev-parse", "--verify", "HEAD"], proj, env).returncode != 0  # nothing committed

    (proj / "port" / "classify.py").write_text(ALIGNED, encoding="utf-8")  # now the same pipeline
    passed = _commit(proj, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "portlint" in passed.stderr + passed.stdout and "Passed" in passed.stderr + passed.stdout

    (proj / "notes.txt").write_text("no python here\n", encoding="utf-8")
    skipped = _commit(proj, env)  # the hook only looks at python files
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr


def test_portlint_fix_hook_fixes_then_lets_the_commit_pass(tmp_path, hook_repo):
    proj, env = _project(tmp_path, hook_repo, "portlint-fix")
    refused = _commit(proj, env)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0, out
    fixed = (proj / "port" / "classify.py").read_text(encoding="utf-8")
    assert fixed == ALIGNED, out  # the safe PL101 fix was written
    assert "files were modified by this hook" in out
    passed = _commit(proj, env)  # stage the fix: nothing left to fix
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert (proj / "orig" / "classify.py").read_text(encoding="utf-8") == ORIGINAL
