"""SARIF 2.1.0, as GitHub code scanning reads it.

Each result's location is the Python line that created the op when it is known (so code
scanning annotates the user's code), else the graph or model file (line 1 for a binary file);
the node or layer is its logical location. Related locations: the graph file (when the primary
one is Python), the other nodes of the same root cause, and the places the rule points at
(BN101's training step, at its ``minimize()`` line when known). ``partialFingerprints`` are made
from rule, file, graph and node, so results match across runs even when a text graph's lines
move.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from urllib.parse import quote

from .. import __url__, __version__
from ..engine.docs import rule_markdown
from .context import SARIF_LEVELS, Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "bnlintFinding/v1"


def fingerprint(rule: str, path: str, graph: str | None, node: str) -> str:
    return hashlib.sha256("\0".join((rule, path, graph or "", node)).encode()).hexdigest()


def _descriptor(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(rule.docs["what"].split())},
        "help": {"text": " ".join(rule.docs["why"].split()) + " Fix: " + rule.fix,
                 "markdown": rule_markdown(rule)},
        "helpUri": f"{__url__}/blob/main/rules/{pathlib.Path(rule.path).name}",
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {"tags": ["batch-normalization"], "subject": rule.subject},
    }


def _artifact(path: str) -> dict:
    """Relative to %SRCROOT% (the directory bnlint ran in), or a file: URI outside it."""
    if pathlib.PurePath(path).is_absolute():
        return {"uri": pathlib.Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": "%SRCROOT%"}


def _location(path: str, line: int | None, message: str | None = None) -> dict:
    location = {"physicalLocation": {
        "artifactLocation": _artifact(path),
        "region": {"startLine": line or 1},
    }}
    if message:
        location["message"] = {"text": message}
    return location


def _logical(graph: str | None, node: str) -> list[dict]:
    """A node or layer as SARIF's ``logicalLocations`` (qualified by its graph's tag-set)."""
    return [{"name": node, "fullyQualifiedName": f"{graph}:{node}" if graph else node,
             "kind": "object"}]


def render_sarif(report: Report) -> tuple[str, str]:
    rules = sorted({rule.code: rule for rule in report.rules}.values(), key=lambda r: r.code)
    index = {rule.code: position for position, rule in enumerate(rules)}
    results = []
    for finding in report.result.findings:
        path = report.relative(finding.path)
        in_graph = _location(path, finding.line)
        logical = _logical(finding.graph, finding.node)
        in_graph["logicalLocations"] = logical
        # Where the user's Python line is known it is the primary location, so that code
        # scanning annotates the line that built the op; the graph file becomes related.
        if finding.source_file:
            location = _location(report.relative(finding.source_file), finding.source_line)
            location["logicalLocations"] = logical
            in_graph["message"] = {"text": f"{finding.node}: the op in the graph file"}
        else:
            location = in_graph
        result = {
            "ruleId": finding.rule,
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT: fingerprint(finding.rule, path, finding.graph,
                                                             finding.node)},
        }
        if finding.rule in index:
            result["ruleIndex"] = index[finding.rule]
        related = [in_graph] if finding.source_file else []
        for node, line in zip(finding.related, finding.related_lines, strict=True):
            other = _location(path, line, f"also {node}: the same cause")
            other["logicalLocations"] = _logical(finding.graph, node)
            related.append(other)
        for place in finding.locations:
            text = f"{place.role}: {place.node}"
            if place.source_file:
                other = _location(report.relative(place.source_file), place.source_line, text)
            else:
                other = _location(path, place.line, text)
            other["logicalLocations"] = _logical(finding.graph, place.node)
            related.append(other)
        if related:
            result["relatedLocations"] = [dict(item, id=number)
                                          for number, item in enumerate(related, 1)]
        results.append(result)
    notifications = [{
        "level": "error",
        "message": {"text": error.message},
        "locations": [_location(report.relative(error.path), error.line)],
    } for error in report.result.errors]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bnlint", "version": __version__, "semanticVersion": __version__,
                "informationUri": __url__, "rules": [_descriptor(rule) for rule in rules],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {
                "uri": pathlib.Path(report.root).resolve().as_uri() + "/"}},
            "invocations": [{"executionSuccessful": not report.result.errors,
                             "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n", ""
