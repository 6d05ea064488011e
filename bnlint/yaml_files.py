"""Read the YAML files bnlint is configured with (rules, ``.bnlint.yaml``): safe loading only,
and every problem one line naming the file.

PyYAML's ``safe_load`` in pure Python takes 40 ms for the built-in rules, a seventh of a
pre-commit run on a small graph; ``CSafeLoader`` is the same safe loader (``SafeConstructor``:
plain scalars, lists and mappings, no Python tags) on libyaml's parser, and is used when PyYAML
was built with it. Importing PyYAML costs 15-20 ms more (its reader compiles a large regular
expression), so it is imported when a file is parsed: the built-in rules come parsed (see
``known`` in :func:`read_mapping`), and most projects have no ``.bnlint.yaml``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping


def _yaml():
    """PyYAML and its safe loader (libyaml's when available)."""
    import yaml

    return yaml, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream):
    """``yaml.safe_load``, on libyaml when available."""
    yaml, loader = _yaml()
    return yaml.load(stream, Loader=loader)  # noqa: S506 (a safe loader)


# Rule and configuration files are a few KB; anything much larger is not one.
MAX_YAML_BYTES = 1 << 20


def read_mapping(path: str, error, mapping_required: str = "must be a mapping",
                 empty: dict | None = None, known: Mapping[str, str] | None = None) -> dict:
    """The mapping in the YAML file at ``path``. Problems raise ``error(path, None, message)``;
    an empty file gives ``empty`` when that is not None.

    Only a regular file of at most ``MAX_YAML_BYTES`` is read (a FIFO would block forever),
    and aliases are refused: expanding ``*references`` is how a few lines of YAML become
    gigabytes ("billion laughs"), and no rule or configuration needs them.

    ``known`` maps the texts of files parsed before (:func:`parsed_texts`) to their mappings as
    JSON: a file whose text is one of them is not parsed again.
    """
    text = read_text(path, error, MAX_YAML_BYTES)
    if known is not None and text in known:
        return json.loads(known[text])
    return parse_mapping(text, path, error, mapping_required, empty)


def parse_mapping(text: str, path: str, error, mapping_required: str = "must be a mapping",
                  empty: dict | None = None) -> dict:
    """The mapping in ``text``, the YAML of the file at ``path``: see :func:`read_mapping`."""
    yaml, loader = _yaml()
    try:
        if "*" in text:  # only a document with an alias needs its events checked
            for event in yaml.parse(text, Loader=loader):
                if isinstance(event, yaml.AliasEvent):
                    mark = event.start_mark
                    raise error(path, None, f"YAML alias at line {mark.line + 1}: aliases "
                                            "(*name) are not allowed in bnlint's files")
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(path, None, f"invalid YAML{where}: {' '.join(problem.split())}") from None
    if data is None and empty is not None:
        return empty
    if not isinstance(data, dict):
        raise error(path, None, mapping_required)
    for key in data:
        if not isinstance(key, str):
            raise error(path, None, f"key {key!r} is not a string")
    return data


def parsed_texts(path: str) -> dict[str, str]:
    """The texts and mappings :func:`write_parsed_texts` wrote to ``path``; empty when there is
    no such file or it is not one (it only spares parsing, so it is never an error)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {text: parsed for text, parsed in files.items() if isinstance(parsed, str)}


def write_parsed_texts(paths: list[str], error, output: str | None) -> str:
    """The JSON for :func:`parsed_texts` of the YAML files at ``paths`` (each parsed as
    :func:`read_mapping` parses it); written to ``output`` unless it is None. A file whose
    mapping JSON cannot hold unchanged (a date, a non-string key) raises ``error``."""
    files = {}
    for path in paths:
        text = read_text(path, error, MAX_YAML_BYTES)
        mapping = parse_mapping(text, path, error)
        encoded = json.dumps(mapping)
        if json.loads(encoded) != mapping:
            raise error(path, None, "holds values JSON cannot represent (dates, non-string keys)")
        files[text] = encoded
    document = json.dumps({"files": files}, indent=1) + "\n"
    if output is not None:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(document)
    return document


def read_text(path: str, error, limit: int) -> str:
    """The UTF-8 text of the regular file at ``path`` (at most ``limit`` bytes)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise error(path, None, "not a regular file")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(path, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(path, None, f"larger than {limit // 1024} KiB: not a bnlint YAML file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(path, None, f"not UTF-8 text (byte {exc.start})") from None
