"""Rule selectors, as on the command line and in configuration: a code (``BN101``), a code
prefix (``BN1``), a rule name (``missing-update-dependency``) or ``ALL``."""

from __future__ import annotations


def specificity(token: str, code: str, name: str) -> int | None:
    """How specifically ``token`` names the rule ``code``/``name``; None when it does not.

    >>> [specificity(t, "BN101", "missing-update-dependency")
    ...  for t in ("ALL", "BN", "BN1", "BN101", "missing-update-dependency", "BN2")]
    [0, 2, 3, 1000, 1000, None]
    """
    if token == "ALL":
        return 0
    if token in (code, name):
        return 1000
    return len(token) if code.startswith(token) else None


def matches(tokens, code: str, name: str) -> bool:
    """True when any of ``tokens`` names the rule."""
    return any(specificity(token, code, name) is not None for token in tokens)
