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
    inputs: dict[str, str] = field(default_factory=dict)  # real path -> sha256 of every file the analysis read

    def extend(self, other: "CheckReport") -> None:
        self.findings.extend(other.findings)
        self.errors.extend(other.errors)
        self.files += other.files
        self.notes.extend(other.notes)
        self.paths.extend(p for p in other.paths if p not in self.paths)

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings, 2 when nothing could be analysed (contract.md)."""
        if self.files == 0 and self.errors:
            return 2
        return 1 if self.findings else 0
