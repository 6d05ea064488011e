"""GitHub Actions workflow commands: one annotation per finding on the pull request.

``::error file=PATH,line=N,col=1,title=bnlint (BN101)::MESSAGE`` with GitHub's escaping: in
the message ``%``, carriage return and newline; in properties also ``:`` and ``,``. When the
Python line that created the op is known, the annotation is on that line of the ``.py`` file
(where the pull request shows it) and the message names the graph file.
"""

from __future__ import annotations

from .context import Report

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, path: str, line: int | None, title: str, message: str) -> str:
    properties = ",".join((f"file={escape_property(path)}", f"line={line or 1}", "col=1",
                           f"title={escape_property(title)}"))
    return f"::{level} {properties}::{escape_data(message)}"


def render_github(report: Report) -> tuple[str, str]:
    lines = []
    for finding in report.result.findings:
        message = f"{finding.message} (fix: {finding.fix})"
        path, line = report.relative(finding.path), finding.line
        if finding.source_file:  # annotate the user's Python line, name the graph file
            message += f" [in {path}, created at {report.created_at(finding)}]"
            path, line = report.relative(finding.source_file), finding.source_line
        for place in finding.locations:  # an annotation has one location: name the others
            where = f" at {report.created_at(place)}" if place.source_file else ""
            message += f" [{place.role} '{place.node}'{where}]"
        lines.append(annotation(COMMANDS[finding.severity], path, line,
                                f"bnlint ({finding.rule})", message))
    for error in report.result.errors:
        lines.append(annotation("error", report.relative(error.path), error.line,
                                "bnlint: input error", error.message))
    return "".join(line + "\n" for line in lines), ""
