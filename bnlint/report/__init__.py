"""Reporters: a LintResult as text, JSON, SARIF, GitHub annotations or JUnit XML."""

from __future__ import annotations

from .context import Report
from .github import render_github
from .json_report import render_json
from .junit import render_junit
from .sarif import render_sarif
from .text import render_text

RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif,
             "github": render_github, "junit": render_junit}

__all__ = ["RENDERERS", "Report"]
