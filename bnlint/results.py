"""What linting one file produced, as plain data: sent back by worker processes (``-j``) and
stored in the cache, then merged into the run's result.

Decoding never trusts its input: a cache file may be corrupt, truncated or written by someone
else, so every field's type is checked and anything unexpected raises ``ValueError``.

>>> result = FileResult(linted=True, notes=[Note("m.json", "lambda", "not inspected", 3)])
>>> FileResult.from_data(result.to_data()) == result
True
>>> FileResult.from_data({"findings": "none"})
Traceback (most recent call last):
...
ValueError: 'findings' is not list
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .findings import SEVERITIES, Finding, Location, Note
from .sources.discover import Skipped


@dataclass
class FileResult:
    """One input's findings, notes and errors; ``skipped`` when it turned out not to be a graph
    or model; ``linted`` when it was read (even with errors beside it, a checkpoint say)."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    linted: bool = False
    cacheable: bool = True  # False for an internal error: a bug is looked at again next time

    def __eq__(self, other) -> bool:
        return isinstance(other, FileResult) and self.to_data() == other.to_data()

    def to_data(self) -> dict[str, Any]:
        return {
            "findings": [finding.to_dict() for finding in self.findings],
            "notes": [note.to_dict() for note in self.notes],
            "errors": [error.to_dict() for error in self.errors],
            "skipped": [item.to_dict() for item in self.skipped],
            "linted": self.linted,
            "cacheable": self.cacheable,
        }

    @classmethod
    def from_data(cls, data: Any) -> FileResult:
        record = _Record(data, "result")
        return cls(
            findings=[_finding(item) for item in record.items("findings")],
            notes=[_note(item) for item in record.items("notes")],
            errors=[_error(item) for item in record.items("errors")],
            skipped=[Skipped(item.text("path"), item.text("reason"))
                     for item in record.items("skipped")],
            linted=record.value("linted", bool),
            cacheable=record.value("cacheable", bool),
        )


class _Record:
    """A dict read from untrusted data, each field checked as it is taken."""

    def __init__(self, data: Any, what: str):
        if not isinstance(data, dict):
            raise ValueError(f"{what} is not an object")
        self.data = data

    def value(self, key: str, kind, optional: bool = False):
        value = self.data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"'{key}' is not {kind.__name__}")
        return value

    def text(self, key: str, optional: bool = False) -> str | None:
        return self.value(key, str, optional)

    def number(self, key: str) -> int | None:
        return self.value(key, int, optional=True)

    def items(self, key: str) -> list[_Record]:
        return [_Record(item, key) for item in self.value(key, list)]

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.value(key, list)
        if not all(isinstance(value, str) for value in values):
            raise ValueError(f"'{key}' holds a non-string")
        return tuple(values)


def _finding(record: _Record) -> Finding:
    related = record.texts("related")
    lines = tuple(record.value("related_lines", list))
    if len(lines) != len(related) or not all(
            line is None or (isinstance(line, int) and not isinstance(line, bool))
            for line in lines):
        raise ValueError("'related_lines' does not match 'related'")
    severity = record.text("severity")
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity '{severity}'")
    return Finding(
        rule=record.text("rule"), name=record.text("name"), severity=severity,
        path=record.text("path"), node=record.text("node"), message=record.text("message"),
        fix=record.text("fix"), line=record.number("line"),
        graph=record.text("graph", optional=True), related=related, related_lines=lines,
        source_file=record.text("source_file", optional=True),
        source_line=record.number("source_line"),
        locations=tuple(_location(item) for item in record.items("locations")))


def _location(record: _Record) -> Location:
    return Location(role=record.text("role"), node=record.text("node"), line=record.number("line"),
                    source_file=record.text("source_file", optional=True),
                    source_line=record.number("source_line"))


def _note(record: _Record) -> Note:
    return Note(record.text("path"), record.text("node"), record.text("message"),
                record.number("line"))


def _error(record: _Record) -> InputError:
    return InputError(record.text("path"), record.text("message"), record.number("line"),
                      record.number("column"))
