"""Adopt bnlint on legacy graphs: record today's findings, then fail only on new ones.

A baseline file lists findings by rule, file (relative to the baseline's directory), graph
(a SavedModel's tag-set) and node — never by line, which moves when a text graph is rewritten::

    {"version": 1, "findings": [{"rule": "BN101", "path": "models/train.meta",
                                  "graph": null, "node": "block1/bn"}, ...]}
"""

from __future__ import annotations

import json
import os

from .errors import BnlintError
from .paths import relative_posix

VERSION = 1


class BaselineError(BnlintError):
    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path, self.message = path, message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _key(finding, root: str) -> tuple:
    return finding.rule, relative_posix(finding.path, root), finding.graph, finding.node


class Baseline:
    def __init__(self, path: str, keys: set[tuple]):
        self.path = path
        self.root = os.path.dirname(os.path.abspath(path))
        self.keys = keys

    def __contains__(self, finding) -> bool:
        return _key(finding, self.root) in self.keys


def write_baseline(path: str, findings) -> int:
    root = os.path.dirname(os.path.abspath(path))
    keys = sorted({_key(finding, root) for finding in findings},
                  key=lambda key: tuple("" if part is None else part for part in key))
    entries = [dict(zip(("rule", "path", "graph", "node"), key, strict=True)) for key in keys]
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"version": VERSION, "findings": entries}, handle, indent=2)
            handle.write("\n")
    except OSError as exc:
        raise BaselineError(path, f"cannot write baseline: {exc.strerror}") from None
    return len(entries)


def load_baseline(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise BaselineError(path, f"cannot read baseline: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(path, f"baseline is not JSON (line {exc.lineno})") from None
    if not isinstance(document, dict) or document.get("version") != VERSION or not isinstance(
            document.get("findings"), list):
        raise BaselineError(path, f"not a bnlint baseline (version {VERSION})")
    keys = set()
    for entry in document["findings"]:
        if not isinstance(entry, dict) or not {"rule", "path", "node"} <= set(entry):
            raise BaselineError(path, "each finding needs rule, path and node")
        keys.add((entry["rule"], entry["path"], entry.get("graph"), entry["node"]))
    return Baseline(path, keys)
