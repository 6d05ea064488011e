"""``path:line:col: CODE message``, the form ruff, compilers and editors' problem matchers use.

Binary graphs have no lines; their findings point at line 1, column 1. When the Python line that
created the op is known, the message ends with ``[created at FILE:LINE]``.
"""

from __future__ import annotations

from collections import Counter

from .context import Report


def finding_line(finding) -> str:
    graph = f"[{finding.graph}] " if finding.graph else ""
    created = f" [created at {finding.created_at}]" if finding.created_at else ""
    return f"{finding.path}:{finding.line or 1}:1: {finding.rule} {graph}{finding.message}{created}"


def error_line(error) -> str:
    where = error.path
    if error.line is not None:
        where += f":{error.line}:{error.column or 1}"
    return f"{where}: error: {error.message}"


def statistics_lines(findings) -> list[str]:
    """Like ``ruff --statistics``: how many findings of each rule, most first."""
    counts = Counter((finding.rule, finding.name) for finding in findings)
    width = max((len(str(count)) for count in counts.values()), default=1)
    return [f"{count:>{width}}  {rule}  {name}"
            for (rule, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def render_text(report: Report) -> tuple[str, str]:
    """(stdout, stderr) texts."""
    result = report.result
    if report.statistics:
        out = statistics_lines(result.findings)
    else:
        out = [finding_line(finding) for finding in result.findings]
    counts = Counter(finding.severity for finding in result.findings)
    files = len(result.linted)
    held = (f" ({count_noun(report.suppressed, 'finding')} in the baseline not shown)"
            if report.suppressed else "")
    if report.quiet:
        pass
    elif result.findings:
        detail = ", ".join(count_noun(counts[severity], severity)
                           for severity in ("error", "warning", "info") if counts[severity])
        out.append(f"Found {count_noun(len(result.findings), 'finding')} ({detail}) "
                   f"in {count_noun(files, 'file')}.{held}")
    elif files:
        out.append(f"All checks passed ({count_noun(files, 'file')}).{held}")
    err = [f"bnlint: {error_line(error)}" for error in result.errors]
    if report.verbose:
        err.extend(f"bnlint: skipped {item.path}: {item.reason}" for item in result.skipped)
        err.extend(f"bnlint: note: {note.path}:{note.line or 1}: '{note.node}': {note.message}"
                   for note in result.notes)
    return _join(out), _join(err)


def count_noun(number: int, noun: str) -> str:
    plural = "" if number == 1 or noun == "info" else "s"
    return f"{number} {noun}{plural}"


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
