#!/usr/bin/env python3
"""Runs portlint over sophon-demo's ported programs (a checkout you give; nothing is copied here).

1. Every `sample/*/python/**/*.py` is interpreted in strict mode: an analyser exception is a bug.
2. Every `sample/*/python` folder is checked with the CLI against the example original:
   exit 0 or 1, or 3 when the JSON says the folder's pipeline was not found (`not_compared`:
   the language, speech and diffusion samples have no image pipeline), no traceback, and no file
   errors except real syntax errors.

    .venv/bin/python scripts/check_sophon_demo.py [/path/to/sophon-demo]
"""

from __future__ import annotations

import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from portlint.analysis.analyze import interpret  # noqa: E402
from portlint.analysis.context import PairContext  # noqa: E402
from portlint.analysis.source import load_side  # noqa: E402
from portlint.errors import SourceError  # noqa: E402


def main() -> int:
    demo = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/sophon-demo") / "sample"
    if not demo.is_dir():
        print(f"check_sophon_demo: no sample/ folder in {demo.parent}", file=sys.stderr)
        return 2
    files = sorted(demo.glob("*/python/**/*.py"))
    crashes, syntax, traced = [], [], 0
    start = time.perf_counter()
    for path in files:
        try:
            interp = interpret(load_side(str(path)), PairContext(), strict=True)
            traced += bool(interp.sinks)
        except SourceError as err:
            syntax.append(str(err))
        except Exception:
            crashes.append(f"{path}: {traceback.format_exc(limit=-1).strip().splitlines()[-1]}")
    print(f"{len(files)} files interpreted in strict mode in {time.perf_counter() - start:.1f} s: "
          f"{traced} reach a model call, {len(syntax)} not parsable, {len(crashes)} analyser errors")
    original = ROOT / "examples" / "resnet" / "resnet_torch.py"
    bad_cli, not_compared = [], []
    for folder in sorted(demo.glob("*/python")):
        r = subprocess.run([sys.executable, "-m", "portlint", "check", str(original), str(folder), "--format", "json",
                            "--no-cache"], capture_output=True, text=True, cwd=ROOT)
        if r.returncode == 3 and "Traceback" not in r.stderr and _not_compared(r.stdout):
            not_compared.append(folder.parent.name)
        elif r.returncode not in (0, 1) or "Traceback" in r.stderr:
            bad_cli.append(f"{folder}: exit {r.returncode}: {r.stderr.strip()[:300]}")
    print(f"{len(list(demo.glob('*/python')))} sample folders checked: {len(bad_cli)} failures, "
          f"{len(not_compared)} without an image pipeline (exit 3): {', '.join(not_compared)}")
    for line in syntax + crashes + bad_cli:
        print("  " + line)
    return 1 if crashes or bad_cli else 0


def _not_compared(stdout: str) -> bool:
    import json

    try:
        return bool(json.loads(stdout).get("not_compared"))
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
