"""`check --show-fixes`: the diff each finding's own fix would make, computed from the files as
they are now. Why a module of its own: the report renders and reads no file, so the diffs are
made here and handed to it, one per finding (by its position in the report)."""

from __future__ import annotations

from portlint.report import CheckReport


def fix_previews(report: CheckReport) -> dict[int, str]:
    """{index of the finding in report.findings: unified diff} for each fix with edits."""
    from portlint.fix.diff import unified_diff
    from portlint.fix.edits import apply_edits
    from portlint.fix.imports import with_import_edits
    from portlint.fix.write import read_source

    with_imports = with_import_edits(report)
    out = {}
    for i, f in enumerate(with_imports.findings):
        if f.fix is None or not f.fix.edits:
            continue
        by_path: dict[str, list] = {}
        for e in f.fix.edits:
            by_path.setdefault(e.path, []).append(e)
        parts = []
        for path, edits in by_path.items():
            try:
                before = read_source(path)
            except OSError:
                continue
            parts.append(unified_diff(before, apply_edits(before, edits), path))
        if parts:
            out[i] = "".join(parts)
    return out
