"""What `portlint fix` without --apply prints: the fixes as a unified diff."""

from __future__ import annotations

import difflib
import os


def unified_diff(before: str, after: str, shown: str) -> str:
    """A `git apply`-able diff with a/ and b/ paths as the user gave them."""
    a, b = (shown, shown) if os.path.isabs(shown) else (f"a/{shown}", f"b/{shown}")
    out = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), a, b):
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)
