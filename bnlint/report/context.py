"""What every reporter is given: the result, the rules that ran, and how to present them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


@dataclass
class Report:
    result: object  # bnlint.lint.LintResult
    rules: list = field(default_factory=list)  # every rule that ran, for rule metadata
    verbose: bool = False
    statistics: bool = False
    suppressed: int = 0  # findings a baseline held back
    root: str = "."  # paths in machine-readable output are relative to it

    def relative(self, path: str) -> str:
        relative = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))
        if relative.startswith(".."):
            relative = os.path.abspath(path)
        return relative.replace(os.sep, "/")
