"""One JSON object: ``findings``, ``errors`` (unreadable inputs), ``skipped`` files and
``notes`` (parts of a model bnlint could not look into)."""

from __future__ import annotations

import json

from .. import __version__
from .context import Report, rule_counts


def render_json(report: Report) -> tuple[str, str]:
    result = report.result
    if report.statistics:  # as ruff: one entry per rule, most findings first
        return json.dumps([{"code": rule, "name": name, "count": count}
                           for rule, name, count in rule_counts(result.findings)],
                          indent=2) + "\n", ""
    document = {
        "version": __version__,
        "findings": [finding.to_dict() for finding in result.findings],
        "errors": [error.to_dict() for error in result.errors],
        "skipped": [item.to_dict() for item in result.skipped],
        "notes": [note.to_dict() for note in result.notes],
        "baseline_suppressed": report.suppressed,
    }
    return json.dumps(document, indent=2) + "\n", ""
