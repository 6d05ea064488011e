"""A rule's documentation in one template (What it does / Why is this bad? / Example / Use
instead / References), used by ``bnlint rule CODE`` and by machine-readable reports."""

from __future__ import annotations

SECTIONS = (
    ("what", "What it does"),
    ("why", "Why is this bad?"),
    ("example", "Example"),
    ("use_instead", "Use instead"),
)


def rule_markdown(rule) -> str:
    parts = [
        f"# {rule.name} ({rule.code})",
        "",
        f"Default severity: {rule.severity}. Applies to: {rule.subject.replace('_', ' ')}s.",
        "",
        rule.summary,
    ]
    for key, title in SECTIONS:
        text = rule.docs.get(key)
        if text:
            parts += ["", f"## {title}", "", text.strip()]
    parts += ["", "## Fix", "", rule.fix]
    references = rule.docs.get("references") or []
    if references:
        parts += ["", "## References", ""] + [f"- {url}" for url in references]
    return "\n".join(parts) + "\n"
