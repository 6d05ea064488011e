"""Reporters: turn a LintResult into text for a terminal or JSON for tools."""

from __future__ import annotations

from .json_report import render_json
from .text import render_text

RENDERERS = {"text": render_text, "json": render_json}
