"""Apply rules to one analysed graph and turn matches into findings."""

from __future__ import annotations

from ..findings import Finding, Location
from .context import context_for
from .rules import Rule
from .subjects import KINDS


def run_rules(rules: list[Rule], graph, facts, locate=None) -> list[Finding]:
    """The findings of ``rules`` whose subjects belong to this graph's front end.

    ``locate``, when given, maps a subject's origin ops to the ``(file, line)`` of the Python
    code that created them (see :mod:`bnlint.sources.debug_info`).
    """
    context = context_for(graph, facts)
    findings = []
    for rule in rules:
        kind = KINDS[rule.subject]
        if kind.frontend != context.frontend:
            continue
        matched = [s for s in kind.all_subjects(context) if rule.matcher.test(context, s)]
        for subject, related in _grouped(rule, kind, context, matched):
            findings.append(_finding(rule, kind, context, subject, related, locate))
    return findings


def _grouped(rule: Rule, kind, context, matched):
    """``(subject, the other subjects reported with it)``: one per distinct value of the rule's
    ``group_by`` facts (the first subject in graph order reported), else one per subject."""
    if not rule.group_by:
        return [(subject, []) for subject in matched]
    groups: dict = {}
    for subject in sorted(matched, key=lambda s: kind.anchor(context, s)):
        key = tuple(_hashable(kind.fact(context, subject, fact)) for fact in rule.group_by)
        groups.setdefault(key if None not in key else id(subject), []).append(subject)
    return [(members[0], members[1:]) for members in groups.values()]


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def _finding(rule: Rule, kind, context, subject, others: list, locate) -> Finding:
    args = {key: kind.fact(context, subject, key) for key in kind.facts}
    related = [kind.display(context, other) for other in others]
    args["group"] = [kind.display(context, subject), *related]
    args["group_size"] = len(args["group"])
    source_file, source_line = _created_at(locate, kind, context, subject)
    anchor = context.node(kind.anchor(context, subject))
    message = rule.render(rule.message, args)
    if related and "{group}" not in rule.message:
        message += f" (also: {rule.render('{related}', {'related': related})})"
    meta = context.graph.graph
    return Finding(
        rule=rule.code, name=rule.name, severity=rule.severity, path=meta["path"],
        graph=meta.get("label"), node=kind.display(context, subject), line=anchor.get("line"),
        message=message, fix=rule.render(rule.fix, args), related=tuple(related),
        related_lines=tuple(context.node(kind.anchor(context, other)).get("line")
                            for other in others), args=args,
        source_file=source_file, source_line=source_line,
        locations=_locations(rule, kind, context, subject, locate),
    )


def _locations(rule: Rule, kind, context, subject, locate) -> tuple[Location, ...]:
    """The places the rule's ``locations`` relations lead to, each with its creating line."""
    found = []
    for relation_name, role in rule.locations:
        relation = kind.relations[relation_name]
        target = KINDS[relation.target]
        for other in relation.follow(context, subject):
            found.append(Location(
                role, target.display(context, other),
                context.node(target.anchor(context, other)).get("line"),
                *_created_at(locate, target, context, other)))
    return tuple(found)


def _created_at(locate, kind, context, subject) -> tuple[str | None, int | None]:
    """``(file, line)`` of the Python code that created ``subject``'s ops, or Nones."""
    created = locate(kind.origins(context, subject)) if locate else None
    return created if created else (None, None)
