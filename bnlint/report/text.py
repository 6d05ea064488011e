"""Text for people and problem matchers, as ruff writes it.

``full`` (the default; ``text`` is its old name): each finding's line
``path:line:col: CODE message`` (the form ruff, compilers and editors' problem matchers read),
then indented lines with the fix (``help:``), the user's Python line that created the op when
it is known (``-->``, relative to the working directory), the other nodes of the same root
cause, and the other places the rule points at (BN101's training step, with its own ``-->``).
``concise``: the finding's line alone, with its severity and the creating line.

Binary graphs have no lines; their findings point at line 1, column 1. Colours only when the
report says so (a terminal, ``FORCE_COLOR``; never with ``NO_COLOR``).
"""

from __future__ import annotations

import os
from collections import Counter

from ..findings import file_and_line
from .context import Report, rule_counts

_STYLES = {"bold": "1", "error": "1;31", "warning": "1;33", "info": "1;36", "help": "1;36",
           "arrow": "1;34", "dim": "2"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if color else text


def finding_line(finding, color: bool = False, concise: bool = False) -> str:
    graph = f"[{finding.graph}] " if finding.graph else ""
    created = f" [created at {finding.created_at}]" if concise and finding.created_at else ""
    severity = f" {_paint(finding.severity, finding.severity, color)}:" if concise else ""
    where = _paint(f"{finding.path}:{finding.line or 1}:1:", "bold", color)
    code = _paint(finding.rule, finding.severity, color)
    return f"{where} {code}{severity} {graph}{finding.message}{created}"


def detail_lines(finding, color: bool = False) -> list[str]:
    """The fix, the creating Python line and the other nodes of a finding, indented."""
    lines = [f"  {_paint('help:', 'help', color)} {finding.fix}"]
    if finding.source_file:
        lines.append(f"  {_paint('-->', 'arrow', color)} {_created_at(finding)}")
    if finding.related:
        shown = [f"'{node}'" + (f" (line {line})" if line else "")
                 for node, line in zip(finding.related[:10], finding.related_lines[:10],
                                       strict=True)]
        more = f" and {len(finding.related) - 10} more" if len(finding.related) > 10 else ""
        lines.append(f"  {_paint('also:', 'dim', color)} {', '.join(shown)}{more}")
    for place in finding.locations:  # e.g. BN101's training step, at its minimize() line
        where = f" (line {place.line})" if place.line else ""
        if place.source_file:
            where += f" {_paint('-->', 'arrow', color)} {_created_at(place)}"
        lines.append(f"  {_paint(place.role + ':', 'dim', color)} '{place.node}'{where}")
    return lines


def _created_at(place) -> str:
    """A finding's or location's creating Python line, relative to the working directory."""
    return file_and_line(_relative(place.source_file), place.source_line)


def _relative(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith("..") else relative


def error_line(error) -> str:
    where = error.path
    if error.line is not None:
        where += f":{error.line}:{error.column or 1}"
    return f"{where}: error: {error.message}"


def statistics_lines(findings) -> list[str]:
    """Like ``ruff --statistics``: how many findings of each rule, most first."""
    counts = rule_counts(findings)
    width = max((len(str(count)) for _, _, count in counts), default=1)
    return [f"{count:>{width}}  {rule}  {name}" for rule, name, count in counts]


def render_full(report: Report) -> tuple[str, str]:
    """(stdout, stderr) texts: each finding with its fix and locations."""
    return _render(report, concise=False)


def render_concise(report: Report) -> tuple[str, str]:
    """(stdout, stderr) texts: one line per finding."""
    return _render(report, concise=True)


render_text = render_full  # the format's name before ruff's names were adopted


def _render(report: Report, concise: bool) -> tuple[str, str]:
    result = report.result
    color = report.color
    if report.statistics:
        out = statistics_lines(result.findings)
    else:
        out = []
        for finding in result.findings:
            out.append(finding_line(finding, color, concise))
            if not concise:
                out.extend(detail_lines(finding, color))
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
