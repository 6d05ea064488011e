"""``path:line:col: CODE message``, the form ruff, compilers and editors' problem matchers use.

Binary graphs have no lines; their findings point at line 1, column 1.
"""

from __future__ import annotations

from collections import Counter


def finding_line(finding) -> str:
    graph = f"[{finding.graph}] " if finding.graph else ""
    return f"{finding.path}:{finding.line or 1}:1: {finding.rule} {graph}{finding.message}"


def error_line(error) -> str:
    where = error.path
    if error.line is not None:
        where += f":{error.line}:{error.column or 1}"
    return f"{where}: error: {error.message}"


def render_text(result, verbose: bool = False) -> tuple[str, str]:
    """(stdout, stderr) texts."""
    out = [finding_line(finding) for finding in result.findings]
    counts = Counter(finding.severity for finding in result.findings)
    files = len(result.linted)
    if result.findings:
        detail = ", ".join(_count(counts[s], s) for s in ("error", "warning", "info") if counts[s])
        out.append(f"Found {_count(len(result.findings), 'finding')} ({detail}) "
                   f"in {_count(files, 'file')}.")
    elif files:
        out.append(f"All checks passed ({_count(files, 'file')}).")
    err = [f"bnlint: {error_line(error)}" for error in result.errors]
    if verbose:
        err.extend(f"bnlint: skipped {item.path}: {item.reason}" for item in result.skipped)
        err.extend(f"bnlint: note: {note.path}:{note.line or 1}: '{note.node}': {note.message}"
                   for note in result.notes)
    return _join(out), _join(err)


def _count(number: int, noun: str) -> str:
    plural = "" if number == 1 or noun == "info" else "s"
    return f"{number} {noun}{plural}"


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
