"""The rule language: YAML mappings compiled into matchers over subjects.

A matcher is a mapping; every key in it must hold (like ast-grep's rule objects):

========================  ===============================================================
``kind: op|bn_layer``     the subject is of that kind
``op: T`` / ``[T, ...]``  (nodes) the op type / layer class is one of these
``name: GLOB``            the subject's name matches a glob (or any of a list)
``attr: {key: TEST}``     (nodes) an op attribute / layer config value passes a test
``fact: {key: TEST}``     a fact of the subject (see ``bnlint --list-facts``) passes a test
``graph: {key: TEST}``    a fact of the whole graph passes a test
``reaches: M``            (nodes) some node matching M is reachable from the subject
``reached_from: M``       (nodes) the subject is reachable from some node matching M
``has: M``                some subject related by ``M.relation`` matches the rest of M
``all: [M, ...]``         every matcher holds
``any: [M, ...]``         at least one holds
``not: M``                M does not hold
``matches: NAME``         the named predicate from ``utils`` holds
========================  ===============================================================

``reaches``/``reached_from`` take ``edges: data|control|any`` (default any) and ``stop_by: M``
(no path may pass *through* an op matching M). A value TEST is a scalar (equality), a list
(membership) or a mapping of operators: ``eq ne in not_in lt le gt ge exists glob regex
contains empty``; in ``fact`` tests, ``same_as: OTHER`` and ``differs_from: OTHER`` compare
with another fact of the same subject.

Reachability is evaluated for all subjects at once: the ops matching the target are found
once per graph, then one traversal marks every op that reaches them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

from ..errors import RuleError
from ..graph import query
from .subjects import GRAPH_FACTS, KINDS, Context

MATCHER_KEYS = (
    "kind", "op", "name", "attr", "fact", "graph", "matches", "all", "any", "not", "has",
    "reaches", "reached_from",
)
_REACH_OPTIONS = ("edges", "stop_by")
_HAS_OPTIONS = ("relation",)
_OPERATORS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "exists", "glob", "regex",
              "contains", "empty")
_COMPARISONS = ("same_as", "differs_from")
_MISSING = object()


class Matcher:
    def test(self, context: Context, subject) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def select(self, context: Context, subjects) -> list:
        """The subjects that match; subclasses answer from an index where they can."""
        return [subject for subject in subjects if self.test(context, subject)]

    def select_all(self, context: Context):
        """Every op of the graph that matches (a walk's targets or stops), in any order."""
        return self.select(context, context.nodes)


class _All(Matcher):
    def __init__(self, parts):
        self.parts = parts

    def test(self, context, subject):
        return all(part.test(context, subject) for part in self.parts)


class _Any(Matcher):
    def __init__(self, parts):
        self.parts = parts

    def test(self, context, subject):
        return any(part.test(context, subject) for part in self.parts)


class _Not(Matcher):
    def __init__(self, part):
        self.part = part

    def test(self, context, subject):
        return not self.part.test(context, subject)


class _Check(Matcher):
    """An atomic test: ``read(context, subject)`` passed to ``accept``."""

    def __init__(self, read, accept):
        self.read = read
        self.accept = accept

    def test(self, context, subject):
        return self.accept(self.read(context, subject))


class _Indexed(Matcher):
    """``fact: {flag: true}`` for a fact the subject kind keeps an index of."""

    def __init__(self, index):
        self.index = index

    def test(self, context, subject):
        return subject in self.index(context)

    def select(self, context, subjects):
        members = self.index(context)
        return [subject for subject in subjects if subject in members]

    def select_all(self, context):
        return self.index(context)  # holds exactly the subjects that have the fact


class _Always(Matcher):
    def test(self, context, subject):
        return True


class _Has(Matcher):
    def __init__(self, follow, target):
        self.follow = follow
        self.target = target

    def test(self, context, subject):
        return any(self.target.test(context, other) for other in self.follow(context, subject))


class _Reach(Matcher):
    """Subject reaches (``backward``: is an ancestor of) / is reached from an op matching
    ``target``; computed for the whole graph once, then a set lookup per subject."""

    def __init__(self, target, backward: bool, edges: str, stop):
        self.target = target
        self.backward = backward
        self.edges = edges
        self.stop = stop

    def test(self, context, subject):
        key = (self.target, self.backward, self.edges, self.stop)
        marked = context.cache.get(key)
        if marked is None:
            targets = self.target.select_all(context)
            stop = None
            if self.stop is not None:
                stop = set(self.stop.select_all(context))
            walk = query.ancestors if self.backward else query.descendants
            marked = context.cache[key] = walk(context.graph, targets, self.edges, stop)
        return subject in marked


def _value_test(spec, where: str, path: str) -> Callable[[Any], bool]:
    if isinstance(spec, list):
        options = list(spec)
        return lambda value: value in options
    if not isinstance(spec, dict):
        return lambda value: value == spec
    tests = []
    for operator, operand in spec.items():
        if operator not in _OPERATORS:
            raise RuleError(path, f"{where}.{operator}",
                            f"unknown operator (expected one of: {', '.join(_OPERATORS)})")
        tests.append(_operator(operator, operand, f"{where}.{operator}", path))
    return lambda value: all(test(value) for test in tests)


def _operator(operator: str, operand, where: str, path: str) -> Callable[[Any], bool]:
    def ordered(compare):
        if not isinstance(operand, (int, float)) or isinstance(operand, bool):
            raise RuleError(path, where, "needs a number")
        return lambda value: (isinstance(value, (int, float)) and not isinstance(value, bool)
                              and compare(value, operand))

    if operator in ("in", "not_in"):
        if not isinstance(operand, list):
            raise RuleError(path, where, "needs a list")
        return (lambda value: value in operand) if operator == "in" else (
            lambda value: value not in operand)
    if operator in ("glob", "regex"):
        if not isinstance(operand, str):
            raise RuleError(path, where, "needs a string")
        try:
            pattern = re.compile(fnmatch.translate(operand) if operator == "glob" else operand)
        except re.error as exc:
            raise RuleError(path, where, f"invalid regular expression: {exc}") from None
        search = pattern.match if operator == "glob" else pattern.search
        return lambda value: isinstance(value, str) and bool(search(value))
    if operator in ("exists", "empty"):
        if not isinstance(operand, bool):
            raise RuleError(path, where, "needs true or false")
        if operator == "exists":
            return lambda value: (value is not None and value is not _MISSING) == operand
        return lambda value: (not value) == operand
    return {
        "eq": lambda: (lambda value: value == operand),
        "ne": lambda: (lambda value: value != operand),
        "contains": lambda: (lambda value: isinstance(value, (list, tuple, str))
                             and operand in value),
        "lt": lambda: ordered(lambda a, b: a < b),
        "le": lambda: ordered(lambda a, b: a <= b),
        "gt": lambda: ordered(lambda a, b: a > b),
        "ge": lambda: ordered(lambda a, b: a >= b),
    }[operator]()


def _globs(spec, where: str, path: str) -> Callable[[Any], bool]:
    patterns = spec if isinstance(spec, list) else [spec]
    if not patterns or not all(isinstance(p, str) for p in patterns):
        raise RuleError(path, where, "needs a glob or a list of globs")
    compiled = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
    return lambda value: isinstance(value, str) and bool(compiled.match(value))


class Compiler:
    """Compiles one rule file's matchers, checking every key against the subject kind."""

    def __init__(self, path: str, utils: dict[str, tuple[str, Any]]):
        self.path = path
        self.utils = utils  # name -> (file it came from, spec)
        self.compiled: dict[tuple[str, str], Matcher] = {}
        self.active: set[tuple[str, str]] = set()

    def util(self, name: str, kind: str, where: str) -> Matcher:
        key = (name, kind)
        if key in self.active:
            raise RuleError(self.path, where, f"util '{name}' refers to itself")
        if key in self.compiled:
            return self.compiled[key]
        if name not in self.utils:
            known = ", ".join(sorted(self.utils)) or "none defined"
            raise RuleError(self.path, where, f"unknown util '{name}' (known: {known})")
        origin, spec = self.utils[name]
        compiler = Compiler(origin, self.utils)
        compiler.compiled, compiler.active = self.compiled, self.active
        self.active.add(key)
        matcher = compiler.compile(spec, kind, f"utils.{name}")
        self.active.discard(key)
        self.compiled[key] = matcher
        return matcher

    def compile(self, spec, kind: str, where: str) -> Matcher:
        path = self.path
        if not isinstance(spec, dict) or not spec:
            raise RuleError(path, where, "a matcher must be a non-empty mapping")
        subject = KINDS[kind]
        parts: list[Matcher] = []
        for key in spec:
            if key not in MATCHER_KEYS:
                raise RuleError(path, f"{where}.{key}",
                                f"unknown key (expected one of: {', '.join(MATCHER_KEYS)})")
        for key in MATCHER_KEYS:
            if key not in spec:
                continue
            value = spec[key]
            here = f"{where}.{key}"
            if key in ("op", "attr", "reaches", "reached_from") and not subject.is_node:
                raise RuleError(path, here, f"only applies to graph nodes (ops, layers), but "
                                            f"the subject here is a {kind}")
            if key == "kind":
                if value not in KINDS:
                    raise RuleError(path, here,
                                    f"unknown kind '{value}' (known: {', '.join(KINDS)})")
                if value != kind:
                    raise RuleError(path, here, f"can never match: the subject here is a {kind}")
            elif key == "op":
                ops = value if isinstance(value, list) else [value]
                if not ops or not all(isinstance(op, str) for op in ops):
                    raise RuleError(path, here, "needs an op type or a list of op types")
                wanted = frozenset(ops)
                parts.append(_Check(lambda c, n: c.node(n)["op"], wanted.__contains__))
            elif key == "name":
                parts.append(_Check(subject.display, _globs(value, here, path)))
            elif key == "attr":
                parts.extend(self._attr_tests(value, here))
            elif key == "fact":
                parts.extend(self._fact_tests(value, kind, here))
            elif key == "graph":
                parts.extend(self._graph_tests(value, here))
            elif key == "matches":
                if not isinstance(value, str):
                    raise RuleError(path, here, "needs the name of a util")
                parts.append(self.util(value, kind, here))
            elif key in ("all", "any"):
                if not isinstance(value, list) or not value:
                    raise RuleError(path, here, "needs a non-empty list of matchers")
                children = [self.compile(item, kind, f"{here}[{i}]")
                            for i, item in enumerate(value)]
                parts.append(_All(children) if key == "all" else _Any(children))
            elif key == "not":
                parts.append(_Not(self.compile(value, kind, here)))
            elif key == "has":
                parts.append(self._has(value, subject, here))
            else:
                parts.append(self._reach(value, key == "reaches", here, kind))
        return parts[0] if len(parts) == 1 else _All(parts)

    def _tests(self, spec, where: str) -> list[tuple[str, Callable]]:
        if not isinstance(spec, dict) or not spec:
            raise RuleError(self.path, where, "needs a mapping of key: test")
        return [(key, _value_test(test, f"{where}.{key}", self.path)) for key, test in spec.items()]

    def _attr_tests(self, spec, where: str) -> list[Matcher]:
        return [
            _Check(lambda c, n, key=key: c.node(n)["attrs"].get(key, _MISSING), test)
            for key, test in self._tests(spec, where)
        ]

    def _fact_tests(self, spec, kind: str, where: str) -> list[Matcher]:
        subject = KINDS[kind]
        parts = []
        if not isinstance(spec, dict) or not spec:
            raise RuleError(self.path, where, "needs a mapping of key: test")
        for key, test_spec in spec.items():
            if key not in subject.facts:
                raise RuleError(self.path, f"{where}.{key}",
                                f"unknown fact of a {kind} (known: {', '.join(subject.facts)})")
            if test_spec is True and key in subject.indexes:
                parts.append(_Indexed(subject.indexes[key]))
            elif isinstance(test_spec, dict) and set(test_spec) & set(_COMPARISONS):
                parts.append(self._comparison(subject, key, test_spec, f"{where}.{key}"))
            else:
                test = _value_test(test_spec, f"{where}.{key}", self.path)
                parts.append(_Check(lambda c, s, key=key: subject.fact(c, s, key), test))
        return parts

    def _comparison(self, subject, key: str, spec: dict, where: str) -> Matcher:
        """``same_as: OTHER`` / ``differs_from: OTHER``: compare two facts of the subject;
        false when either is unknown (none)."""
        if len(spec) != 1:
            raise RuleError(self.path, where, "a comparison with another fact stands alone")
        (operator, other), = spec.items()
        if other not in subject.facts:
            raise RuleError(self.path, f"{where}.{operator}",
                            f"unknown fact of a {subject.name} (known: {', '.join(subject.facts)})")
        equal = operator == "same_as"

        def read(context, item):
            return subject.fact(context, item, key), subject.fact(context, item, other)

        return _Check(read, lambda pair: None not in pair and (pair[0] == pair[1]) == equal)

    def _graph_tests(self, spec, where: str) -> list[Matcher]:
        parts = []
        for key, test in self._tests(spec, where):
            if key not in GRAPH_FACTS:
                raise RuleError(self.path, f"{where}.{key}",
                                f"unknown graph fact (known: {', '.join(GRAPH_FACTS)})")
            parts.append(_Check(lambda c, s, key=key: c.graph_facts().get(key), test))
        return parts

    def _has(self, spec, subject, where: str) -> Matcher:
        if not isinstance(spec, dict) or "relation" not in spec:
            raise RuleError(self.path, where, "needs a 'relation' and a matcher for its targets")
        relation = spec["relation"]
        if relation not in subject.relations:
            raise RuleError(self.path, f"{where}.relation",
                            f"unknown relation of a {subject.name} "
                            f"(known: {', '.join(subject.relations)})")
        target = subject.relations[relation]
        rest = {key: value for key, value in spec.items() if key not in _HAS_OPTIONS}
        matcher = self.compile(rest, target.target, where) if rest else _Always()
        return _Has(target.follow, matcher)

    def _reach(self, spec, backward: bool, where: str, kind: str) -> Matcher:
        if not isinstance(spec, dict):
            raise RuleError(self.path, where, "needs a matcher")
        edges = spec.get("edges", "any")
        if edges not in query.EDGE_KINDS:
            raise RuleError(self.path, f"{where}.edges",
                            f"must be one of: {', '.join(query.EDGE_KINDS)}")
        stop = None
        if "stop_by" in spec:
            stop = self.compile(spec["stop_by"], kind, f"{where}.stop_by")
        rest = {key: value for key, value in spec.items() if key not in _REACH_OPTIONS}
        if not rest:
            raise RuleError(self.path, where, "needs a matcher for the nodes to reach")
        return _Reach(self.compile(rest, kind, where), backward, edges, stop)
