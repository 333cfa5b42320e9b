"""Which parser builds the trees `check` analyses, read without importing libcst (the cache key
names it): "ast" (analysis/astfront: CPython's parser, what it does not convert going to libcst),
or "libcst" for every file when PORTLINT_FRONT_END=libcst (any case)."""

from __future__ import annotations

import os


def front_end() -> str:
    return "libcst" if os.environ.get("PORTLINT_FRONT_END", "").strip().lower() == "libcst" else "ast"
