"""JUnit XML for CI systems that read test reports: one test suite per linted file, one failing
test case per finding, a passing case for a clean file, an error case for an unreadable one."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections import defaultdict

from .context import Report


def render_junit(report: Report) -> tuple[str, str]:
    result = report.result
    by_path = defaultdict(list)
    for finding in result.findings:
        by_path[finding.path].append(finding)
    root = ElementTree.Element("testsuites", name="bnlint")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for path in sorted(set(result.linted) | set(by_path)):
        findings = by_path.get(path, [])
        suite = ElementTree.SubElement(root, "testsuite", name=report.relative(path),
                                       tests=str(max(1, len(findings))),
                                       failures=str(len(findings)), errors="0")
        for finding in findings:
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"bnlint.{finding.rule}",
                name=f"{finding.rule} {finding.node}", file=report.relative(finding.path),
                line=str(finding.line or 1))
            failure = ElementTree.SubElement(case, "failure", type=finding.rule,
                                             message=finding.message)
            details = [f"{finding.name} ({finding.severity})", finding.message,
                       f"Fix: {finding.fix}"]
            if finding.source_file:
                details.append(f"Created at {report.created_at(finding)}")
            details.extend(f"{place.role.capitalize()}: {place.node}"
                           + (f", created at {report.created_at(place)}" if place.source_file
                              else "")
                           for place in finding.locations)
            failure.text = "\n".join(details)
        if not findings:
            ElementTree.SubElement(suite, "testcase", classname="bnlint", name="bnlint",
                                   file=report.relative(path))
        totals["tests"] += max(1, len(findings))
        totals["failures"] += len(findings)
    if result.errors:
        suite = ElementTree.SubElement(root, "testsuite", name="bnlint inputs",
                                       tests=str(len(result.errors)), failures="0",
                                       errors=str(len(result.errors)))
        for error in result.errors:
            case = ElementTree.SubElement(suite, "testcase", classname="bnlint.input",
                                          name=report.relative(error.path),
                                          file=report.relative(error.path))
            ElementTree.SubElement(case, "error", type="InputError",
                                   message=error.message).text = str(error)
        totals["tests"] += len(result.errors)
        totals["errors"] += len(result.errors)
    for key, value in totals.items():
        root.set(key, str(value))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n", ""
