"""Read the YAML files bnlint is configured with (rules, ``.bnlint.yaml``): safe loading only,
and every problem one line naming the file.

PyYAML's ``safe_load`` in pure Python takes 40 ms for the built-in rules, a seventh of a
pre-commit run on a small graph; ``CSafeLoader`` is the same safe loader (``SafeConstructor``:
plain scalars, lists and mappings, no Python tags) on libyaml's parser, and is used when PyYAML
was built with it.
"""

from __future__ import annotations

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream):
    """``yaml.safe_load``, on libyaml when available."""
    return yaml.load(stream, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)


def read_mapping(path: str, error, mapping_required: str = "must be a mapping",
                 empty: dict | None = None) -> dict:
    """The mapping in the YAML file at ``path``. Problems raise ``error(path, None, message)``;
    an empty file gives ``empty`` when that is not None."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = safe_load(handle)
    except OSError as exc:
        raise error(path, None, f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(path, None, f"invalid YAML{where}: {problem}") from None
    if data is None and empty is not None:
        return empty
    if not isinstance(data, dict):
        raise error(path, None, mapping_required)
    return data
