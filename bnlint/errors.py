"""Errors that reach the user as one line each, never as a traceback."""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """An exception's message on one line, at most 200 characters (its type when empty)."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


class BnlintError(Exception):
    """Base class: something bnlint reports and recovers from."""


class InputError(BnlintError):
    """An input file or directory that cannot be linted.

    ``path`` names the file; ``line``/``column`` locate a syntax error when known.
    """

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "column": self.column,
                "message": self.message}


class CorruptAttribute(BnlintError):
    """A node attribute that cannot be parsed. A binary graph's attributes are parsed when an
    analysis reads one (:func:`bnlint.sources.protos.lazy_class`), so this is found while the
    file is linted, and reported as its error."""

    def __init__(self, node: str, key: str | None, detail: str):
        what = f"attribute '{key}'" if key is not None else "an attribute"
        super().__init__(f"corrupt graph: {what} of node '{node}' cannot be parsed ({detail})")


class RuleError(BnlintError):
    """A rule file that is not valid: names the file and the offending key."""

    def __init__(self, path: str, key: str | None, message: str):
        super().__init__(message)
        self.path = path
        self.key = key
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else self.path
        return f"{where}: {self.message}"
