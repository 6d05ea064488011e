"""Paths as bnlint writes them in reports, baselines and glob matches."""

from __future__ import annotations

import os


def relative_posix(path: str, root: str) -> str:
    """``path`` relative to the directory ``root``, with ``/`` separators on every platform."""
    return os.path.relpath(os.path.abspath(path), os.path.abspath(root)).replace(os.sep, "/")
