"""Fixture cases: one folder per case under tests/fixtures (TorchFix-style checker/codemod pairs),
grouped by rule code: `tests/fixtures/PL101/<case>/`. A case lives under the lowest code among
its expected findings; an aligned case (no findings) under the rule it is a negative for. A case
that shows several rules lives under the first and says so in expected.json: `"rules"` lists every
code it exercises, the folder's first, and `"note"` says so in one line (tests/test_fixture_layout.py).

A case folder holds `original.py` (or a folder named in expected.json), `ported.py`, and
`expected.json`:
    {"args": ["--input-shape", "1,3,224,224"],          # optional extra CLI arguments
     "original": "original.py", "ported": "ported.py",   # optional, these are the defaults
     "findings": [{"code": "PL101", "ported_line": 27, "original_line": 15,
                   "message": ["cv2.resize", "antialias"]}]}   # substrings the message must contain
The set of (code, ported_line) reported must equal the expected set exactly, so an aligned
negative case is simply `"findings": []`. An optional `fixed.py` is the expected ported file
after `portlint fix --apply` (then apply-twice idempotence and re-check are tested too).
"""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def cases() -> list[Path]:
    """Every case folder, tests/fixtures/<CODE>/<case>/ holding an expected.json."""
    return sorted(p.parent for p in FIXTURES.glob("*/*/expected.json"))


def case_id(case: Path) -> str:
    """`PL101/resize_antialias_cv2_self_attrs`: the case's path under tests/fixtures."""
    return case.relative_to(FIXTURES).as_posix()


def spec(case: Path) -> dict:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    from portlint.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def finishes_in_time(fn, seconds: float = 60):
    """fn()'s result, run in a thread; fails the test (instead of hanging the run) when fn does
    not finish in time: for inputs that used to block (a FIFO, /dev/zero)."""
    import threading

    box = {}
    t = threading.Thread(target=lambda: box.setdefault("value", fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "hung"
    return box["value"]


def copy_case(case: Path, work: Path) -> tuple[Path, Path]:
    """Copy a case folder to `work` and return (original, ported) in the copy. A case may name the
    original (or ported program) of a sibling case (`"original": "../<case>/original.py"` or a folder,
    so aligned and positive cases share one program): that file or folder is copied to the same
    relative place, so the path still holds."""
    import shutil

    shutil.copytree(case, work)
    s = spec(case)
    out = []
    for rel in (s.get("original", "original.py"), s.get("ported", "ported.py")):
        path = work / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            if (case / rel).is_dir():  # a sibling's original folder (an OpenMMLab repository tree)
                shutil.copytree(case / rel, path)
            else:
                shutil.copy2(case / rel, path)
        out.append(path)
    return out[0], out[1]
