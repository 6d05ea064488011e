"""What every reporter is given: the result, the rules that ran, and how to present them."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from ..findings import file_and_line
from ..paths import relative_posix

SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


@dataclass
class Report:
    result: object  # bnlint.lint.LintResult
    rules: list = field(default_factory=list)  # every rule that ran, for rule metadata
    verbose: bool = False
    statistics: bool = False
    suppressed: int = 0  # findings a baseline held back
    root: str = "."  # paths in machine-readable output are relative to it
    quiet: bool = False  # the findings only: no summary line
    color: bool = False  # ANSI colours (text formats, in a terminal)

    def relative(self, path: str) -> str:
        """``path`` relative to ``root``, or absolute when it lies outside it."""
        relative = relative_posix(path, self.root)
        if relative.startswith(".."):
            return os.path.abspath(path).replace(os.sep, "/")
        return relative

    def created_at(self, place) -> str | None:
        """``file:line`` of the Python code that created a finding's op (or one of its
        locations'), the file relative to ``root``; None when unknown."""
        if place.source_file is None:
            return None
        return file_and_line(self.relative(place.source_file), place.source_line)


def rule_counts(findings) -> list[tuple[str, str, int]]:
    """``(code, name, count)`` per rule, most findings first, as ruff's ``--statistics``."""
    counts = Counter((finding.rule, finding.name) for finding in findings)
    return [(rule, name, count) for (rule, name), count
            in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
