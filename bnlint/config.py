"""Project configuration: ``.bnlint.yaml`` or ``[tool.bnlint]`` in ``pyproject.toml``.

Like ruff, each linted file uses the closest configuration above it: the first directory,
walking up from the file, that holds a ``.bnlint.yaml`` or a ``pyproject.toml`` with a
``[tool.bnlint]`` table (``.bnlint.yaml`` wins in a directory that has both). Command-line
options override it; ``--config FILE`` uses one file for everything and ``--isolated`` none.

Keys (kebab-case, ``snake_case`` also accepted)::

    select = ["BN1", "BN2"]          # codes, code prefixes, rule names or ALL (selectors)
    ignore = ["BN207"]
    extend-select = ["XBN001"]       # on top of select (for rules loaded from `rules`)
    extend-ignore = []
    severity = {BN122 = "error"}     # selector -> severity (the most specific one applies)
    per-file-ignores = {"legacy/**" = ["BN102"]}   # glob (relative to the config) -> selectors
    node-ignores = [{rule = "BN101", node = "tower_*/bn*"}]   # + optional path glob; no rule: all
    rules = ["lint-rules"]           # more YAML rule directories (relative to the config)
    fail-on = "warning"              # the lowest severity that fails (exit 1)
    baseline = "bnlint-baseline.json"
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field

from .errors import BnlintError
from .findings import SEVERITIES
from .paths import relative_posix
from .selectors import matches, specificity
from .yaml_files import read_mapping, read_text

MAX_PYPROJECT_BYTES = 4 << 20

CONFIG_FILES = (".bnlint.yaml", ".bnlint.yml", "pyproject.toml")
KEYS = ("select", "ignore", "extend-select", "extend-ignore", "severity", "per-file-ignores",
        "node-ignores", "rules", "fail-on", "baseline")


class ConfigError(BnlintError):
    def __init__(self, path: str, key: str | None, message: str):
        super().__init__(message)
        self.path, self.key, self.message = path, key, message

    def __str__(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else self.path
        return f"{where}: {self.message}"


@dataclass
class Config:
    """One configuration file's settings (empty for none); paths in it are relative to
    ``root``, the directory holding the file."""

    path: str | None = None
    root: str = "."
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    node_ignores: list[dict[str, str]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    fail_on: str | None = None
    baseline: str | None = None

    def relative(self, path: str) -> str:
        """``path`` relative to the configuration's directory, with ``/`` separators."""
        return relative_posix(path, self.root)

    def ignored(self, finding, path: str) -> bool:
        """True when ``per-file-ignores`` drop the finding's rule in ``path``."""
        relative = self.relative(path)
        return any(_glob(pattern, relative) and matches(codes, finding.rule, finding.name)
                   for pattern, codes in self.per_file_ignores.items())

    def node_ignored(self, finding, node: str, path: str) -> bool:
        """True when ``node-ignores`` drop ``node`` (one of the nodes the finding covers)."""
        relative = self.relative(path)
        return any(
            matches([entry.get("rule", "ALL")], finding.rule, finding.name)
            and fnmatch.fnmatchcase(node, entry["node"])
            and ("path" not in entry or _glob(entry["path"], relative))
            for entry in self.node_ignores)

    def severity_of(self, finding) -> str | None:
        """The configured severity for the finding's rule: the most specific selector's."""
        ranked = [(specificity(token, finding.rule, finding.name), severity)
                  for token, severity in self.severity.items()]
        ranked = [item for item in ranked if item[0] is not None]
        return max(ranked)[1] if ranked else None


def _glob(pattern: str, path: str) -> bool:
    """``**`` spans directories, ``*`` does not (a bare file name matches at any depth)."""
    regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
    regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    if "/" not in pattern:
        regex = "(.*/)?" + regex
    return re.fullmatch(regex, path) is not None


def _read_toml(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    text = read_text(path, ConfigError, MAX_PYPROJECT_BYTES)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}") from None


def _tool_table(path: str, data: dict) -> dict | None:
    table = data.get("tool", {}).get("bnlint") if isinstance(data.get("tool"), dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(path, "tool.bnlint", "must be a table")
    return table


def load_config(path: str) -> Config | None:
    """Read one configuration file (raises ConfigError naming the file and key); None for a
    ``pyproject.toml`` without a ``[tool.bnlint]`` table. Any other ``.toml`` file (given with
    ``--config``) holds bnlint's keys at its top level, as ``ruff.toml`` does, or under
    ``[tool.bnlint]``; anything else is YAML."""
    if os.path.basename(path) == "pyproject.toml":
        table = _tool_table(path, _read_toml(path))
        return None if table is None else _validate(path, table, "tool.bnlint.")
    if path.endswith(".toml"):
        data = _read_toml(path)
        table = _tool_table(path, data)
        return _validate(path, data, "") if table is None else \
            _validate(path, table, "tool.bnlint.")
    return _validate(path, read_mapping(path, ConfigError, empty={}), "")


def _validate(path: str, data: dict, prefix: str) -> Config:
    config = Config(path=path, root=os.path.dirname(os.path.abspath(path)))
    for raw_key, value in data.items():
        key = str(raw_key).replace("_", "-")
        where = f"{prefix}{raw_key}"
        if key not in KEYS:
            raise ConfigError(path, where, f"unknown key (expected: {', '.join(KEYS)})")
        if key in ("select", "ignore", "extend-select", "extend-ignore", "rules"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(path, where, "must be a list of strings")
            if key == "rules":
                value = [os.path.join(config.root, v) for v in value]
        elif key == "severity":
            if not isinstance(value, dict) or not all(v in SEVERITIES for v in value.values()):
                raise ConfigError(path, where, f"must map codes to one of: {', '.join(SEVERITIES)}")
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                    isinstance(v, list) and all(isinstance(c, str) for c in v)
                    for v in value.values()):
                raise ConfigError(path, where, "must map globs to lists of codes")
        elif key == "node-ignores":
            if not isinstance(value, list) or not all(
                    isinstance(v, dict) and "node" in v and set(v) <= {"rule", "node", "path"}
                    and all(isinstance(x, str) for x in v.values()) for v in value):
                raise ConfigError(path, where, "must be a list of {rule, node, path} with a "
                                               "node glob")
        elif key == "fail-on":
            if value not in SEVERITIES:
                raise ConfigError(path, where, f"must be one of: {', '.join(SEVERITIES)}")
        elif key == "baseline":
            if not isinstance(value, str):
                raise ConfigError(path, where, "must be a path")
            value = os.path.join(config.root, value)
        setattr(config, key.replace("-", "_"), value)
    return config


class ConfigFinder:
    """The closest configuration for each file, read once per directory."""

    def __init__(self, explicit: str | None = None, isolated: bool = False):
        self.explicit = (load_config(explicit) or Config(path=explicit)) if explicit else None
        self.isolated = isolated
        self._none = Config()  # what a file with no configuration gets
        self._by_directory: dict[str, Config] = {}

    def for_path(self, path: str) -> Config:
        if self.explicit is not None:
            return self.explicit
        if self.isolated:
            return self._none
        directory = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        return self._lookup(directory)

    def _lookup(self, directory: str) -> Config:
        if directory in self._by_directory:
            return self._by_directory[directory]
        found = None
        for name in CONFIG_FILES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                found = load_config(candidate)
                if found is not None:
                    break
        if found is None:
            parent = os.path.dirname(directory)
            found = self._none if parent == directory else self._lookup(parent)
        self._by_directory[directory] = found
        return found
