"""`# portlint: ignore[...]` handling on hand-made findings."""

from __future__ import annotations

from pathlib import Path

from portlint.findings import Finding, Location
from portlint.report import CheckReport
from portlint.suppressions import apply_suppressions, comments, parse_suppressions


def finding(ported: tuple[str, int] | None, original: tuple[str, int] | None = None,
            code: str = "PL101", kind: str = "resize-antialias") -> Finding:
    return Finding(code, kind, "error", "differs",
                   Location(ported[0], ported[1], 5) if ported else None,
                   Location(original[0], original[1], 3) if original else None)


def files(tmp_path: Path, **texts: str) -> dict[str, str]:
    out = {}
    for name, text in texts.items():
        p = tmp_path / f"{name}.py"
        p.write_text(text, encoding="utf-8")
        out[name] = str(p)
    return out


PORTED = """import cv2
img = cv2.resize(img, (224, 224))  # portlint: ignore[PL101]
img = img[:, :, ::-1]  # portlint: ignore[PL101, PL106]
x = 1  # portlint: ignore
s = "# portlint: ignore[PL107]"
y = 2
"""
ORIGINAL = """from torchvision import transforms
t = transforms.Resize(224)  # portlint: ignore[resize-antialias]
u = 3
"""


def test_line_suppression_on_ported_or_original(tmp_path):
    f = files(tmp_path, port=PORTED, orig=ORIGINAL)
    report = CheckReport([
        finding((f["port"], 2)),                                   # ignore[PL101]
        finding((f["port"], 2), code="PL106", kind="channel-order"),  # not listed -> kept
        finding((f["port"], 3), code="PL106", kind="channel-order"),  # listed second
        finding((f["port"], 4), code="PL203", kind="coco-rounding"),  # bare ignore
        finding((f["port"], 5), code="PL107", kind="normalize"),   # marker is inside a string
        finding((f["port"], 6), (f["orig"], 2)),                   # original line, by kind
        finding((f["port"], 6), (f["orig"], 3)),                   # nothing anywhere
    ], files=2)
    apply_suppressions(report)
    kept = [(x.code, x.ported.line) for x in report.findings]
    assert kept == [("PL106", 2), ("PL107", 5), ("PL101", 6)]


def test_file_level(tmp_path):
    f = files(tmp_path, port="import cv2\n\n# portlint: ignore-file[PL107]\nx = 1\n",
              orig="# portlint: ignore-file\nimport torch\n", other="y = 1\n")
    report = CheckReport([
        finding((f["port"], 4), code="PL107", kind="normalize"),
        finding((f["port"], 4), code="PL101"),
        finding((f["other"], 1), (f["orig"], 2), code="PL109", kind="dtype"),
        finding((f["other"], 1), code="PL109", kind="dtype"),
    ])
    apply_suppressions(report)
    assert [(x.code, Path(x.ported.path).name) for x in report.findings] == [("PL101", "port.py"), ("PL109", "other.py")]
    assert report.findings[1].original is None


def test_unreadable_file_suppresses_nothing(tmp_path):
    report = CheckReport([finding((str(tmp_path / "missing.py"), 1)), finding(None, (str(tmp_path), 1))])
    apply_suppressions(report)
    assert len(report.findings) == 2


def test_unused_suppressions(tmp_path):
    f = files(tmp_path, port=PORTED, orig=ORIGINAL,
              quiet="# portlint: ignore-file[PL205]\nz = 1  # portlint: ignore[PL100]\n")
    report = CheckReport([finding((f["port"], 2)), finding((f["port"], 3), code="PL106", kind="channel-order")])
    report.paths = [f["orig"], f["quiet"]]  # the analysed files, when the checker provides them
    apply_suppressions(report, show_unused=True)
    unused = sorted((Path(x.ported.path).name, x.ported.line, x.message) for x in report.findings if x.code == "PL001")
    assert unused == [
        ("orig.py", 2, "unused suppression ignore[resize-antialias]: nothing to suppress here"),
        ("port.py", 3, "unused suppression ignore[PL101]: nothing to suppress here"),
        ("port.py", 4, "unused suppression ignore: nothing to suppress here"),
        ("quiet.py", 1, "unused suppression ignore-file[PL205]: nothing to suppress here"),
        ("quiet.py", 2, "unused suppression ignore[PL100]: nothing to suppress here"),
    ]
    extra = [x for x in report.findings if x.code == "PL001"]
    assert all(x.kind == "other" and x.severity == "info" and x.original is None for x in extra)
    first = next(x for x in extra if x.ported.line == 4 and x.ported.path == f["port"])
    assert first.ported.column == PORTED.splitlines()[3].index("#") + 1
    assert [x.code for x in report.findings if x.code != "PL001"] == []


def test_unused_not_reported_without_flag(tmp_path):
    f = files(tmp_path, port=PORTED)
    report = CheckReport([finding((f["port"], 6))])
    apply_suppressions(report)
    assert [x.code for x in report.findings] == ["PL101"]


def test_comment_scanner_skips_strings():
    text = (
        'a = "# not"  # yes 1\n'
        "b = '''\n# inside\n'''  # yes 2\n"
        'c = "esc \\" # still string"  # yes 3\n'
        "d = 'unterminated # x\n"
        "e = 1 # yes 4\n"
        'f = """a\\\n# in"""\n'
        "g = '#'\r\n"
        "h = 2  # yes 5\r\n"
    )
    got = [(line, c) for line, _, c in comments(text)]
    assert got == [(1, "# yes 1"), (4, "# yes 2"), (5, "# yes 3"), (7, "# yes 4"), (11, "# yes 5")]


def test_parse_forms():
    text = ("x = 1  # noqa: E501 # portlint: ignore[pl101 ,PL106]\n"
            "# portlint:ignore-file\n"
            "# see portlint: ignore-files docs\n"
            "y = 2  # portlint: ignored\n")
    sups = parse_suppressions("f.py", text)
    assert [(s.line, s.file_level, s.codes) for s in sups] == [(1, False, ("PL101", "PL106")), (2, True, None)]
