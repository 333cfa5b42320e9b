"""Output formats for `portlint check`: each module renders a CheckReport to a string."""

from __future__ import annotations

from dataclasses import dataclass, field

from portlint.findings import Finding


@dataclass
class FileError:
    path: str
    message: str

    def to_json(self) -> dict:
        return {"path": self.path, "message": self.message}


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files: int = 0
    notes: list[str] = field(default_factory=list)  # things the user should know that are not findings
    paths: list[str] = field(default_factory=list)  # every analysed file, as displayed
    # per pair, what each side's pipelines are (portlint.pipelines: plain JSON data)
    pairs: list[dict] = field(default_factory=list)
    input_error: bool = False  # a usage or input error (exit 2) though something may be reported
    inputs: dict[str, str] = field(default_factory=dict)  # real path -> sha256 of every file the analysis read

    def extend(self, other: "CheckReport") -> None:
        self.pairs.extend(other.pairs)
        self.input_error = self.input_error or other.input_error
        self.findings.extend(other.findings)
        self.errors.extend(other.errors)
        self.files += other.files
        self.notes.extend(other.notes)
        self.paths.extend(p for p in other.paths if p not in self.paths)

    @property
    def not_compared(self) -> list[str]:
        """`PATH (ported)` for each side whose image pipeline was not found."""
        return [f"{p[side]} ({side})" for p in self.pairs for side in p.get("not_found", [])]

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings, 2 when nothing could be analysed (docs/contract.md); 3 (added) when
        there is no finding but a side's pipeline was not found, so its pre-processing was not
        compared (README, "Exit codes")."""
        if self.input_error or (self.files == 0 and self.errors):
            return 2
        if self.findings:
            return 1
        return 3 if self.not_compared else 0
