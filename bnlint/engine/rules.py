"""Rule files: load safely (``bnlint.yaml_files``), validate, and compile.

One rule per file (``rules/BN101-missing-update-dependency.yaml``); a file with only a
``utils`` mapping adds named predicates that every rule may use with ``matches``.
Every problem is reported as ``file: key.path: what is wrong``.
"""

from __future__ import annotations

import functools
import os
import re
import string
from dataclasses import dataclass
from typing import Any

from ..errors import RuleError
from ..findings import SEVERITIES
from ..yaml_files import parsed_texts, read_mapping
from .language import Compiler, Matcher
from .subjects import KINDS

CODE = re.compile(r"[A-Z]{2,}[0-9]{3}\Z")
KEBAB = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
REQUIRED = ("code", "name", "severity", "summary", "subject", "match", "message", "fix", "docs")
OPTIONAL = ("utils", "group_by", "locations")
# Placeholders every message may use besides its subject's facts: the subjects a grouped
# finding covers (see ``group_by``), the reported one first.
GROUP_FACTS = {
    "group": "the names of every subject the finding covers, the reported one first",
    "group_size": "how many subjects the finding covers",
}
# Beside the built-in rules, their texts parsed (tools/build_rules.py writes it): loading them
# then needs no YAML parser, whose import alone costs 15-20 ms. A file whose text it does not
# hold, edited or a user's own, is parsed as usual.
PARSED_RULES = "parsed.json"
DOC_REQUIRED = ("what", "why")
DOC_OPTIONAL = ("example", "use_instead", "references")


@dataclass
class Rule:
    code: str
    name: str
    severity: str
    summary: str
    subject: str
    matcher: Matcher
    message: str
    fix: str
    docs: dict[str, Any]
    path: str
    group_by: tuple[str, ...] = ()
    # (relation, role): the subjects a relation leads to are reported as other places the
    # finding points at, e.g. BN101's training step as "training step"
    locations: tuple[tuple[str, str], ...] = ()

    def render(self, template: str, facts: dict[str, Any]) -> str:
        return template.format_map({key: _render_value(value) for key, value in facts.items()})


def _render_value(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        shown = ", ".join(f"'{item}'" for item in value[:3])
        return shown + (f" and {len(value) - 3} more" if len(value) > 3 else "")
    return str(value)


def rule_files(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise RuleError(directory, None, f"cannot read rules directory: {exc.strerror}") from None
    return [os.path.join(directory, name) for name in names
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")]


def _read(path: str, known: dict[str, str] | None = None) -> dict:
    return read_mapping(path, RuleError, "a rule file must be a mapping", known=known)


@functools.lru_cache(maxsize=64)
def _parsed(directory: str) -> dict[str, str]:
    return parsed_texts(os.path.join(directory, PARSED_RULES))


def load_rules(directories: list[str]) -> list[Rule]:
    """Every rule in ``directories``, validated; raises RuleError on the first problem."""
    documents = [(path, _read(path, _parsed(directory)))
                 for directory in directories for path in rule_files(directory)]
    utils: dict[str, tuple[str, Any]] = {}
    for path, data in documents:
        if "code" not in data:
            extra = sorted(set(data) - {"utils"})
            if extra or "utils" not in data:
                raise RuleError(path, extra[0] if extra else None,
                                "a rule file needs 'code'; a utils file holds only 'utils'")
        for name, spec in _utils(path, data).items():
            if name in utils and utils[name][0] != path:
                raise RuleError(path, f"utils.{name}", f"already defined in {utils[name][0]}")
            utils.setdefault(name, (path, spec))
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, data in documents:
        if "code" not in data:
            continue
        rule = _rule(path, data, utils)
        for key in (rule.code, rule.name):
            if key in seen:
                raise RuleError(path, "code" if key == rule.code else "name",
                                f"'{key}' is already used by {seen[key]}")
            seen[key] = path
        rules.append(rule)
    rules.sort(key=lambda rule: rule.code)
    return rules


def _utils(path: str, data: dict) -> dict:
    utils = data.get("utils", {})
    if not isinstance(utils, dict):
        raise RuleError(path, "utils", "must map names to matchers")
    for name in utils:
        if not isinstance(name, str) or not KEBAB.match(name):
            raise RuleError(path, f"utils.{name}", "util names are kebab-case")
    return utils


def _rule(path: str, data: dict, utils: dict) -> Rule:
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            raise RuleError(path, str(key),
                            f"unknown key (expected: {', '.join(REQUIRED + OPTIONAL)})")
    for key in REQUIRED:
        if key not in data:
            raise RuleError(path, key, "missing")
    for key in ("code", "name", "severity", "summary", "subject", "message", "fix"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise RuleError(path, key, "must be a non-empty string")
    if not CODE.match(data["code"]):
        raise RuleError(path, "code", f"'{data['code']}' is not a code like BN101")
    if not KEBAB.match(data["name"]):
        raise RuleError(path, "name", f"'{data['name']}' is not kebab-case")
    if data["severity"] not in SEVERITIES:
        raise RuleError(path, "severity",
                        f"'{data['severity']}' is not one of: {', '.join(SEVERITIES)}")
    if data["subject"] not in KINDS:
        raise RuleError(path, "subject",
                        f"'{data['subject']}' is not one of: {', '.join(KINDS)}")
    kind = KINDS[data["subject"]]
    for key in ("message", "fix"):
        _check_placeholders(path, key, data[key], set(kind.facts) | set(GROUP_FACTS))
    docs = _docs(path, data["docs"])
    group_by = _group_by(path, data.get("group_by"), kind)
    locations = _locations(path, data.get("locations"), kind)
    scope = {name: (origin, spec) for name, (origin, spec) in utils.items()}
    scope.update({name: (path, spec) for name, spec in _utils(path, data).items()})
    matcher = Compiler(path, scope).compile(data["match"], kind.name, "match")
    return Rule(
        code=data["code"], name=data["name"], severity=data["severity"],
        summary=data["summary"].strip(), subject=kind.name, matcher=matcher,
        message=" ".join(data["message"].split()), fix=" ".join(data["fix"].split()),
        docs=docs, path=path, group_by=group_by, locations=locations,
    )


def _group_by(path: str, value, kind) -> tuple[str, ...]:
    """``group_by: FACT`` or ``[FACT, ...]``: subjects equal in all of them are one finding."""
    facts = [value] if isinstance(value, str) else value
    if facts is None:
        return ()
    if not isinstance(facts, list) or not facts or not all(isinstance(f, str) for f in facts):
        raise RuleError(path, "group_by", "must be a fact name or a list of fact names")
    for fact in facts:
        if fact not in kind.facts:
            raise RuleError(path, "group_by", f"unknown fact '{fact}' of a {kind.name} "
                                              f"(known: {', '.join(kind.facts)})")
    return tuple(facts)


def _locations(path: str, value, kind) -> tuple[tuple[str, str], ...]:
    """``locations: {RELATION: ROLE}``: where the relation leads is reported in that role."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not value:
        raise RuleError(path, "locations", "must map relation names to roles")
    for relation, role in value.items():
        if relation not in kind.relations:
            raise RuleError(path, f"locations.{relation}",
                            f"unknown relation of a {kind.name} "
                            f"(known: {', '.join(kind.relations)})")
        if not isinstance(role, str) or not role.strip():
            raise RuleError(path, f"locations.{relation}",
                            "must be a role in words, e.g. training step")
    return tuple((relation, " ".join(role.split())) for relation, role in value.items())


def _check_placeholders(path: str, key: str, template: str, facts: set[str]) -> None:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise RuleError(path, key, f"bad placeholder: {exc}") from None
    for name in fields:
        if name not in facts:
            raise RuleError(path, key, f"unknown placeholder {{{name}}} "
                                       f"(known: {', '.join(sorted(facts))})")


def _docs(path: str, docs) -> dict[str, Any]:
    if not isinstance(docs, dict):
        raise RuleError(path, "docs", "must be a mapping")
    for key in docs:
        if key not in DOC_REQUIRED and key not in DOC_OPTIONAL:
            raise RuleError(path, f"docs.{key}",
                            f"unknown key (expected: {', '.join(DOC_REQUIRED + DOC_OPTIONAL)})")
    for key in DOC_REQUIRED:
        if not isinstance(docs.get(key), str) or not docs[key].strip():
            raise RuleError(path, f"docs.{key}", "missing")
    references = docs.get("references", [])
    if not isinstance(references, list) or not all(isinstance(r, str) for r in references):
        raise RuleError(path, "docs.references", "must be a list of URLs")
    return docs
