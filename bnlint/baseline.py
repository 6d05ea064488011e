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
from .yaml_files import read_text

VERSION = 1
MAX_BASELINE_BYTES = 64 << 20


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
    text = read_text(path, lambda where, _, message: BaselineError(where, message),
                     MAX_BASELINE_BYTES)
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        raise BaselineError(path, "baseline is not JSON" + (f" (line {line})" if line else "")
                            ) from None
    if not isinstance(document, dict) or document.get("version") != VERSION or not isinstance(
            document.get("findings"), list):
        raise BaselineError(path, f"not a bnlint baseline (version {VERSION})")
    keys = set()
    for entry in document["findings"]:
        if not isinstance(entry, dict) or not {"rule", "path", "node"} <= set(entry):
            raise BaselineError(path, "each finding needs rule, path and node")
        if not all(isinstance(entry[key], str) for key in ("rule", "path", "node")) or not (
                entry.get("graph") is None or isinstance(entry["graph"], str)):
            raise BaselineError(path, "each finding's rule, path, node and graph are strings")
        keys.add((entry["rule"], entry["path"], entry.get("graph"), entry["node"]))
    return Baseline(path, keys)
