"""Apply rules to one analysed graph and turn matches into findings."""

from __future__ import annotations

from ..findings import Finding
from .rules import Rule
from .subjects import KINDS, Context


def run_rules(rules: list[Rule], graph, facts) -> list[Finding]:
    context = Context(graph, facts)
    meta = graph.graph
    findings = []
    for rule in rules:
        kind = KINDS[rule.subject]
        for subject in kind.all_subjects(context):
            if not rule.matcher.test(context, subject):
                continue
            args = {key: kind.fact(context, subject, key) for key in kind.facts}
            anchor = context.node(kind.anchor(context, subject))
            findings.append(Finding(
                rule=rule.code, name=rule.name, severity=rule.severity,
                path=meta["path"], graph=meta.get("label"), node=kind.display(context, subject),
                line=anchor.get("line"), message=rule.render(rule.message, args),
                fix=rule.render(rule.fix, args), args=args,
            ))
    return findings
