"""Edits, imports, the re-check loop, atomic writes and `portlint fix`, with a fake checker."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from portlint.cli import fix as cli_fix
from portlint.fix.write import atomic_write, is_crlf, match_newlines, read_snapshot
from portlint.errors import PortlintError
from portlint.findings import Finding, Fix, Location, TextEdit
from portlint.fix.edits import apply_edits, split_overlapping
from portlint.fix.imports import add_imports, import_insertion
from portlint.fix.diff import unified_diff
from portlint.fix.loop import OneAtATime, fix_pair
from portlint.report import CheckReport


def E(start, end, text, path="f.py"):
    return TextEdit(path, start, end, text)


# --- apply_edits --------------------------------------------------------------------------

def test_apply_edits_positions_and_order():
    text = "abc\ndef\nghi"
    out = apply_edits(text, [E((3, 1), (3, 2), "G"), E((1, 2), (2, 2), "-"), E((3, 4), (3, 4), "!")])
    assert out == "a-ef\nGhi!"


def test_apply_edits_crlf_and_whole_line_delete():
    text = "a = 1\r\nb = 2\r\nc = 3\r\n"
    assert apply_edits(text, [E((2, 1), (3, 1), "")]) == "a = 1\r\nc = 3\r\n"
    assert apply_edits(text, [E((4, 1), (4, 1), "d = 4\r\n")]).endswith("c = 3\r\nd = 4\r\n")


def test_apply_edits_overlap_keeps_first():
    text = "0123456789\n"
    skipped = []
    out = apply_edits(text, [E((1, 3), (1, 6), "X"), E((1, 5), (1, 8), "Y"), E((1, 6), (1, 7), "Z")], skipped)
    assert out == "01XZ6789\n"  # touching edits are fine
    assert [e.replacement for e in skipped] == ["Y"]
    kept, dropped = split_overlapping(text, [E((1, 2), (1, 2), "a"), E((1, 2), (1, 2), "b")])
    assert len(kept) == 1 and len(dropped) == 1  # two insertions at one point conflict


@pytest.mark.parametrize("edit", [E((5, 1), (5, 1), ""), E((1, 9), (1, 9), ""), E((1, 3), (1, 2), "")])
def test_apply_edits_rejects_bad_positions(edit):
    with pytest.raises(ValueError):
        apply_edits("abc\nd\n", [edit])


# --- imports ------------------------------------------------------------------------------

def test_add_imports_after_existing_imports_keeping_comments():
    text = ('#!/usr/bin/env python\n"""Doc."""\nimport os  # keep me\nfrom PIL import Image\n'
            "try:\n    import sophon.sail as sail\nexcept ImportError:\n    sail = None\n\n\ndef main():\n    pass\n")
    out = add_imports(text, ["import numpy as np", "from PIL import ImageOps", "import os", "import sophon.sail as sail"])
    assert out == text.replace("    sail = None\n", "    sail = None\nimport numpy as np\nfrom PIL import ImageOps\n")


def test_add_imports_never_duplicates():
    text = "import numpy as np\nfrom PIL import Image, ImageOps as IO\nx = 1\n"
    assert add_imports(text, ["import numpy as np", "from PIL import ImageOps as IO", "from PIL import Image"]) == text
    assert add_imports(text, ["import numpy"]) == "import numpy as np\nfrom PIL import Image, ImageOps as IO\nimport numpy\nx = 1\n"
    assert add_imports(text, ["import cv2", "import cv2"]).count("import cv2") == 1


def test_add_imports_without_imports_or_newline():
    assert add_imports('"""Doc."""\nx = 1\n', ["import cv2"]) == '"""Doc."""\nimport cv2\nx = 1\n'
    assert add_imports("# header\nx = 1\n", ["import cv2"]) == "# header\nimport cv2\nx = 1\n"
    assert add_imports("", ["import cv2"]) == "import cv2\n"
    assert add_imports("import os", ["import cv2"]) == "import os\nimport cv2"
    assert add_imports("import os\r\nx = 1\r\n", ["import cv2"]) == "import os\r\nimport cv2\r\nx = 1\r\n"


def test_add_imports_stops_at_the_first_definition():
    text = "import os\nsys.path.append('..')\nimport cv2\n\ndef f():\n    import json\n\nimport late\n"
    edit = import_insertion(text, ["import numpy as np"])
    assert edit.start == (4, 1)
    with pytest.raises(ValueError):
        import_insertion(text, ["x = 1"])


# --- fix_pair -----------------------------------------------------------------------------

class FakeEngine:
    """Reports `old(` calls (safe fix -> new(, needs an import), `bad(` (a fix that breaks the
    syntax), `risky` (unsafe fix), `shown` (display-only fix) and `flip` (a fix that undoes itself)."""

    def __init__(self, path: Path, original: Path | None = None):
        self.path, self.original, self.runs = str(path), original, 0

    def finding(self, code, line, col, end, repl, applicability="safe", imports=(), path=None):
        edit = TextEdit(path or self.path, (line, col), (line, end), repl)
        return Finding(code, "other", "warning", f"{code} here", Location(self.path, line, col), None,
                       Fix(applicability, "fix it", [edit], list(imports)))

    def __call__(self) -> CheckReport:
        self.runs += 1
        findings = []
        text = Path(self.path).read_text(encoding="utf-8")
        for i, line in enumerate(re.split(r"\r\n|\n", text), 1):
            for m in re.finditer(r"\bold\(", line):
                findings.append(self.finding("PL101", i, m.start() + 1, m.end() + 1, "new(", imports=["from lib import new"]))
                # a second fix over the same span: taken only if still reported after the re-check
                findings.append(self.finding("PL102", i, m.start() + 1, m.end() + 1, "mid("))
            for m in re.finditer(r"\bbad\(", line):
                findings.append(self.finding("PL103", i, m.start() + 1, m.end() + 1, "bad(("))
            for m in re.finditer(r"\brisky\b", line):
                findings.append(self.finding("PL104", i, m.start() + 1, m.end() + 1, "careful", "unsafe"))
            for m in re.finditer(r"\bshown\b", line):
                findings.append(self.finding("PL105", i, m.start() + 1, m.end() + 1, "gone", "display-only"))
            for m in re.finditer(r"flip = ([12])", line):
                findings.append(self.finding("PL106", i, m.start(1) + 1, m.end(1) + 1, "2" if m.group(1) == "1" else "1"))
            if "touch_original" in line and self.original:
                findings.append(self.finding("PL107", i, 1, 2, "#", path=str(self.original)))
        return CheckReport(findings, files=1)


def test_fix_pair_converges(tmp_path):
    p = tmp_path / "p.py"
    p.write_text("import os\nx = old(1) + old(2)\ny = bad(3)\nz = risky\nw = shown\n", encoding="utf-8")
    engine = FakeEngine(p)
    result = fix_pair(engine, [str(p)], include_unsafe=False)
    after = result.after[str(p)]
    assert after == "import os\nfrom lib import new\nx = new(1) + new(2)\ny = bad(3)\nz = risky\nw = shown\n"
    assert p.read_text(encoding="utf-8") == after  # the (temporary) copy is updated in place
    assert sorted(f.code for f in result.applied) == ["PL101", "PL101"]
    assert [(f.finding.code, f.reason) for f in result.failures] == [("PL103", "the fixed file would not parse")]
    assert result.converged and result.iterations == 1 and engine.runs == 2
    assert {f.code for f in result.report.findings} == {"PL103", "PL104", "PL105"}
    assert result.changed == [str(p)]


def test_fix_pair_unsafe_and_crlf(tmp_path):
    p = tmp_path / "p.py"
    p.write_bytes(b"z = risky\r\nq = old(1)\r\n")
    result = fix_pair(FakeEngine(p), [str(p)], include_unsafe=True)
    assert result.after[str(p)] == "from lib import new\r\nz = careful\r\nq = new(1)\r\n"
    assert not result.report.findings


def test_fix_pair_stops_when_texts_repeat(tmp_path):
    p = tmp_path / "p.py"
    p.write_text("flip = 1\n", encoding="utf-8")
    result = fix_pair(FakeEngine(p), [str(p)], include_unsafe=False)
    assert not result.converged
    assert result.after[str(p)] == "flip = 2\n"
    assert len(result.applied) == 1


def test_fix_pair_max_iterations(tmp_path):
    p = tmp_path / "p.py"
    p.write_text("x = 1\n", encoding="utf-8")
    n = {"i": 0}

    def grow() -> CheckReport:  # always one more fix: never converges
        n["i"] += 1
        text = p.read_text(encoding="utf-8")
        f = Finding("PL101", "other", "warning", "m", Location(str(p), 1, 1), None,
                    Fix("safe", "d", [TextEdit(str(p), (1, 5), (1, 6), str(int(text[4:-1]) + 1))]))
        return CheckReport([f], files=1)

    result = fix_pair(grow, [str(p)], include_unsafe=False, max_iterations=3)
    assert not result.converged and result.after[str(p)] == "x = 4\n" and n["i"] == 4


def test_fix_pair_never_edits_other_files(tmp_path):
    p, o = tmp_path / "p.py", tmp_path / "o.py"
    p.write_text("touch_original = 1\n", encoding="utf-8")
    o.write_text("keep = 1\n", encoding="utf-8")
    result = fix_pair(FakeEngine(p, o), [str(p)], include_unsafe=True)
    assert o.read_text(encoding="utf-8") == "keep = 1\n"
    assert "not part of the ported program" in result.failures[0].reason
    assert result.changed == []


def test_one_at_a_time_keeps_reverts_and_goes_on(tmp_path):
    """fix --verify's mode: one fix per round, each tried once; one its judge rejects is reverted."""
    p = tmp_path / "p.py"
    p.write_text("x = old(1)\ny = bad(3)\nz = risky\n", encoding="utf-8")
    log = []

    class Judge:
        def refused(self, f, reason):
            log.append(("refused", f.code, reason))

        def keep(self, f):
            log.append(("keep?", f.code, p.read_text(encoding="utf-8")))
            return f.code != "PL104"

        def reverted(self):
            log.append(("reverted", p.read_text(encoding="utf-8")))

    result = fix_pair(FakeEngine(p), [str(p)], include_unsafe=True, mode=OneAtATime(Judge()))
    fixed = "from lib import new\nx = new(1)\ny = bad(3)\nz = risky\n"
    assert log == [("keep?", "PL101", fixed), ("refused", "PL103", "the fixed file would not parse"),
                   ("keep?", "PL104", fixed.replace("risky", "careful")), ("reverted", fixed)]
    assert result.after[str(p)] == fixed == p.read_text(encoding="utf-8")
    assert [f.code for f in result.applied] == ["PL101"] and result.converged


# --- atomic_write -------------------------------------------------------------------------

def test_atomic_write_keeps_mode_crlf_and_bom(tmp_path):
    p = tmp_path / "a.py"
    p.write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n")
    os.chmod(p, 0o754)
    snap = read_snapshot(str(p))
    assert snap.text == "x = 1\r\ny = 2\r\n" and snap.bom
    atomic_write(snap, "x = 1\r\ny = 3\nimport os\n")
    assert p.read_bytes() == b"\xef\xbb\xbfx = 1\r\ny = 3\r\nimport os\r\n"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o754
    assert [q.name for q in tmp_path.iterdir()] == ["a.py"]  # no temporary file left


def test_atomic_write_through_symlink(tmp_path):
    real = tmp_path / "real.py"
    real.write_text("x = 1\n", encoding="utf-8")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    atomic_write(read_snapshot(str(link)), "x = 2\n")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "x = 2\n"


def test_atomic_write_refuses_changed_file_and_bad_code(tmp_path):
    p = tmp_path / "a.py"
    p.write_text("x = 1\n", encoding="utf-8")
    snap = read_snapshot(str(p))
    with pytest.raises(PortlintError, match="would not parse"):
        atomic_write(snap, "x = (\n")
    p.write_text("x = 5\n", encoding="utf-8")
    with pytest.raises(PortlintError, match="changed since portlint read it"):
        atomic_write(snap, "x = 2\n")
    assert p.read_text(encoding="utf-8") == "x = 5\n"
    (tmp_path / "latin.py").write_bytes(b"s = '\xe9'\n")
    with pytest.raises(PortlintError, match="not UTF-8"):
        read_snapshot(str(tmp_path / "latin.py"))


def test_newline_helpers():
    assert is_crlf("a\r\nb\r\n") and not is_crlf("a\r\nb\n") and not is_crlf("a\n")
    assert match_newlines("a\r\n", "x\ny\r\n") == "x\r\ny\r\n"
    assert match_newlines("a\n", "x\r\ny\n") == "x\r\ny\n"


# --- portlint fix -------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, monkeypatch):
    """orig/ and port/ (a package with a helper module) and a fake engine behind run_check."""
    (tmp_path / "orig").mkdir()
    (tmp_path / "orig" / "main.py").write_text("y = old(1)\n", encoding="utf-8")
    port = tmp_path / "port"
    (port / "lib").mkdir(parents=True)
    (port / "main.py").write_text("from lib.helper import h\nx = old(1)\n", encoding="utf-8")
    (port / "lib" / "helper.py").write_text("def h():\n    return old(2)\n", encoding="utf-8")
    (port / "model.bmodel").write_bytes(b"\0" * 10)
    monkeypatch.chdir(tmp_path)
    seen = []

    def fake_run_check(options):
        pair = options.pairs[0]
        assert pair.original == "orig/main.py" or pair.original == "orig"
        assert os.path.exists(os.path.join(os.path.dirname(pair.ported), "model.bmodel")) or \
            os.path.exists(os.path.join(pair.ported, "model.bmodel"))
        seen.append(pair.ported)
        report = CheckReport(files=2)
        root = Path(pair.ported) if Path(pair.ported).is_dir() else Path(pair.ported).parent
        for f in sorted(root.rglob("*.py")):
            report.extend(FakeEngine(f)())
        return report

    monkeypatch.setattr("portlint.checker.run_check", fake_run_check)
    return tmp_path, seen


def test_fix_diff_without_apply(project, capsys):
    root, seen = project
    code = cli_fix.fix_command("orig/main.py", "port/main.py", False, False, None, None, None, None, None, False)
    out, err = capsys.readouterr()
    assert code == 1
    assert "--- a/port/main.py\n+++ b/port/main.py\n" in out
    assert "--- a/port/lib/helper.py\n+++ b/port/lib/helper.py\n" in out
    assert "-x = old(1)\n+from lib import new\n+x = new(1)\n" in out
    assert "Would fix 2 findings (0 remaining)." in err
    assert (root / "port" / "main.py").read_text(encoding="utf-8") == "from lib.helper import h\nx = old(1)\n"
    assert (root / "orig" / "main.py").read_text(encoding="utf-8") == "y = old(1)\n"
    assert seen and all(not s.startswith(str(root)) for s in seen)  # checked on a temporary copy
    assert not os.path.exists(os.path.dirname(seen[0]))  # and cleaned up


def test_fix_apply_writes_and_counts(project, capsys):
    root, _ = project
    code = cli_fix.fix_command("orig", "port", True, False, None, None, None, None, None, False)
    out, err = capsys.readouterr()
    assert code == 0 and out.strip() == "Fixed 2 findings (0 remaining)."
    assert (root / "port" / "main.py").read_text(encoding="utf-8") == "from lib.helper import h\nfrom lib import new\nx = new(1)\n"
    assert (root / "port" / "lib" / "helper.py").read_text(encoding="utf-8") == "from lib import new\ndef h():\n    return new(2)\n"
    assert (root / "orig" / "main.py").read_text(encoding="utf-8") == "y = old(1)\n"
    code = cli_fix.fix_command("orig", "port", False, False, None, None, None, None, None, False)
    assert code == 0 and capsys.readouterr().out == ""


def test_fix_remaining_and_warnings(project, capsys):
    root, _ = project
    (root / "port" / "main.py").write_text("x = bad(1)\nz = risky\n", encoding="utf-8")
    code = cli_fix.fix_command("orig", "port", True, False, None, None, None, None, None, False)
    out, err = capsys.readouterr()
    assert code == 1 and "Fixed 1 finding (2 remaining)." in out
    assert "portlint: warning: PL103 at port/main.py:1:5: fix not applied: the fixed file would not parse" in err
    code = cli_fix.fix_command("orig", "port", True, True, None, None, None, None, None, False)
    assert "Fixed 1 finding (1 remaining)." in capsys.readouterr().out
    assert (root / "port" / "main.py").read_text(encoding="utf-8") == "x = bad(1)\nz = careful\n"


def test_unified_diff_no_newline_and_absolute():
    d = unified_diff("a\nb", "a\nc", "x.py")
    assert d.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")
    assert unified_diff("a\n", "b\n", "/abs/x.py").startswith("--- /abs/x.py\n+++ /abs/x.py\n")


def test_fix_command_registered(project):
    app = typer.Typer()
    cli_fix.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command, so `fix` is a subcommand as in portlint's app
        pass

    result = CliRunner().invoke(app, ["fix", "orig", "port"])
    assert result.exit_code == 1 and "+x = new(1)" in result.output
    result = CliRunner().invoke(app, ["fix", "--help"])
    assert "--apply" in result.output and "--unsafe-fixes" in result.output


def test_pre_commit_fix_and_check(project, capsys):
    root, _ = project
    (root / "pyproject.toml").write_text('[tool.portlint]\npairs = [{original = "orig", ported = "port"}]\n', encoding="utf-8")
    assert cli_fix.pre_commit_command("fix", ["README.md"], None, None, None, False) == 0  # no pair touched
    assert cli_fix.pre_commit_command("fix", ["port/main.py"], None, None, None, False) == 1
    assert "fixed port/main.py" in capsys.readouterr().out
    assert cli_fix.pre_commit_command("fix", ["port/main.py"], None, None, None, False) == 0
    assert cli_fix.pre_commit_command("check", ["port/main.py"], None, None, None, False) == 0


def test_two_pairs_sharing_a_ported_program(project, capsys):
    root, seen = project
    (root / "pyproject.toml").write_text(
        '[tool.portlint]\npairs = [{original = "orig", ported = "port"}, {original = "orig/main.py", ported = "port/main.py"}]\n',
        encoding="utf-8")
    code = cli_fix.fix_command(None, None, True, False, None, None, None, None, None, False)
    assert code == 0 and capsys.readouterr().out.strip() == "Fixed 2 findings (0 remaining)."  # the 2nd pair saw the 1st's fixes
    assert len({os.path.dirname(s) for s in seen}) == 2
    assert (root / "port" / "main.py").read_text(encoding="utf-8") == "from lib.helper import h\nfrom lib import new\nx = new(1)\n"


def test_fix_refuses_missing_ported(project):
    with pytest.raises(PortlintError, match="nope.py: no such file or directory"):
        cli_fix.fix_command("orig", "nope.py", False, False, None, None, None, None, None, False)


def test_not_converging_is_an_error_and_writes_nothing(tmp_path, capsys, monkeypatch):
    """issue 15.3: "fixes did not converge" exited 0 and wrote a half-fixed file."""
    import shutil

    import portlint.fix.run as fix_run
    from fixture_support import FIXTURES, run_cli

    case = FIXTURES / "PL107" / "normalize_mean_in_bgr_order"
    shutil.copytree(case, tmp_path / "case")
    ported = tmp_path / "case" / "ported.py"
    before = ported.read_text()
    real = fix_run.fix_pair

    def never_converges(*args, **kwargs):
        result = real(*args, **kwargs)
        result.converged = False
        return result

    monkeypatch.setattr(fix_run, "fix_pair", never_converges)
    code, _, err = run_cli(["fix", str(tmp_path / "case" / "original.py"), str(ported), "--apply", "--no-cache"], capsys)
    assert code == 2 and "portlint: error:" in err and "did not converge" in err
    assert ported.read_text() == before
