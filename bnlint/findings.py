"""Findings are data: which rule, which subject, where, and the facts the message was made of.

Reporters format them; tests assert on ``rule`` and ``node``, never on message wording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")


def file_and_line(path: str, line: int | None) -> str:
    """``path:line``, or ``path`` alone when the line is unknown."""
    return f"{path}:{line}" if line else path


@dataclass(frozen=True)
class Location:
    """Another place a finding points at, in its role: BN101's training step, whose
    ``minimize()`` line is where the missing dependency belongs."""

    role: str  # what the place is to the finding, e.g. "training step"
    node: str
    line: int | None = None  # in a text graph
    source_file: str | None = None  # the Python file that created the op, when known
    source_line: int | None = None


@dataclass(frozen=True)
class Finding:
    rule: str  # the code, e.g. BN101
    name: str  # the rule's kebab-case name
    severity: str
    path: str
    node: str  # the op or BN layer the finding is about
    message: str
    fix: str
    line: int | None = None
    graph: str | None = None  # which graph of a multi-graph file (SavedModel tag-set)
    related: tuple[str, ...] = ()  # other nodes the same finding covers (one root cause)
    related_lines: tuple[int | None, ...] = ()  # their lines (text files), in the same order
    source_file: str | None = None  # the Python file that created the offending op
    source_line: int | None = None
    locations: tuple[Location, ...] = ()  # other places the finding points at (see the rule)
    args: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def created_at(self) -> str | None:
        """``file:line`` of the Python code that created the op, when known."""
        if self.source_file is None:
            return None
        return file_and_line(self.source_file, self.source_line)

    def sort_key(self):
        return (self.path, self.graph or "", self.line or 0, self.rule, self.node)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("args")
        data["related"] = list(self.related)
        data["related_lines"] = list(self.related_lines)
        data["locations"] = [asdict(location) for location in self.locations]
        return data


@dataclass(frozen=True)
class Note:
    """Something the user should know that is not a finding: a part of the model bnlint could
    not look into (a Lambda's code, a custom layer class)."""

    path: str
    node: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
