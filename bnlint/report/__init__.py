"""Reporters: a LintResult as text, JSON, SARIF, GitHub annotations or JUnit XML.

Each format's module is imported when it is used (SARIF's hashing and JUnit's XML would
otherwise add to every run's start-up).
"""

from __future__ import annotations

import importlib

from .context import Report

FORMATS = {"full": "text", "concise": "text", "json": "json_report", "sarif": "sarif",
           "github": "github", "junit": "junit", "text": "text"}  # text: full's old name


def render(fmt: str, report: Report) -> tuple[str, str]:
    """``(stdout, stderr)`` texts of ``report`` in format ``fmt`` (one of FORMATS)."""
    module = importlib.import_module(f".{FORMATS[fmt]}", __name__)
    return getattr(module, f"render_{fmt}")(report)


__all__ = ["FORMATS", "Report", "render"]
