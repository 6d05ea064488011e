"""What to run and what to report for each linted file.

Command-line options are combined with the file's closest configuration (see
:mod:`bnlint.config`): the rules selected for it, their severities, and the findings its
``per-file-ignores`` and ``node-ignores`` drop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .config import Config, ConfigError, ConfigFinder
from .engine.rules import Rule, load_rules
from .findings import Finding
from .selectors import matches, specificity


@dataclass
class Options:
    """The command line's say; None means "as configured"."""

    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # extra rule directories
    config: str | None = None
    isolated: bool = False
    debug: bool = False  # let an internal error's traceback through (--debug)


class UnknownSelector(ValueError):
    def __init__(self, token: str):
        super().__init__(f"unknown rule selector '{token}'")
        self.token = token


def select_rules(rules: list[Rule], select: list[str] | None, ignore: list[str] = (),
                 extend_select: list[str] = (), extend_ignore: list[str] = ()) -> list[Rule]:
    """The rules that ``select`` (default ALL) and ``extend_select`` choose and the ignores do
    not drop. As in ruff, the most specific selector decides (``select BN1, ignore BN101``
    runs BN1 but BN101; ``ignore BN1, select BN101`` runs BN101), an ignore winning a tie.
    Selectors are codes, code prefixes, rule names or ALL; an unknown one raises
    UnknownSelector."""
    chosen = [*(select if select is not None else ["ALL"]), *extend_select]
    dropped = [*ignore, *extend_ignore]
    for token in {*chosen, *dropped}:
        if not _names_a_rule(token, rules):
            raise UnknownSelector(token)

    def decision(rule):
        weights = [(specificity(token, rule.code, rule.name), 0) for token in chosen]
        weights += [(specificity(token, rule.code, rule.name), 1) for token in dropped]
        weights = [weight for weight in weights if weight[0] is not None]
        return bool(weights) and max(weights)[1] == 0

    return [rule for rule in rules if decision(rule)]


class Policy:
    """Rules and overrides per file, from options and configuration (read once per config)."""

    def __init__(self, builtin_dir: str, options: Options | None = None):
        self.builtin_dir = builtin_dir
        self.options = options or Options()
        self.finder = ConfigFinder(self.options.config, self.options.isolated)
        self._rules: dict[int, list[Rule]] = {}  # by id() of a Config the finder keeps alive
        self.aliases: dict[str, str] = {}

    def config_for(self, path: str) -> Config:
        return self.finder.for_path(self.aliases.get(path, path))

    def alias(self, path: str, stands_for: str) -> None:
        """Configure ``path`` as the file ``stands_for`` would be (standard input spooled to a
        temporary file, configured as its ``--stdin-filename``)."""
        self.aliases[path] = stands_for

    def rules_for(self, path: str) -> list[Rule]:
        config = self.config_for(path)
        key = id(config)
        if key not in self._rules:
            self._rules[key] = self._select(config)
        return self._rules[key]

    def all_rule_sets(self) -> list[list[Rule]]:
        """Every rule set used so far (for reports that describe the rules that ran)."""
        return list(self._rules.values())

    def _select(self, config: Config) -> list[Rule]:
        """As in ruff, the command line's ``--select`` starts over: the configuration's
        selection and ignores no longer apply. Otherwise the configuration's ``select`` is
        the basis and both layers' extends and ignores adjust it."""
        options = self.options
        loaded = load_rules([self.builtin_dir, *config.rules, *options.rules])
        _check_config_codes(config, loaded)
        if options.select is not None:
            return select_rules(loaded, options.select, options.ignore, options.extend_select,
                                options.extend_ignore)
        return select_rules(
            loaded, config.select, [*config.ignore, *options.ignore],
            [*config.extend_select, *options.extend_select],
            [*config.extend_ignore, *options.extend_ignore],
        )

    def keep(self, finding: Finding, path: str) -> Finding | None:
        """The finding as the file's configuration wants it reported, or None if ignored."""
        config = self.config_for(path)
        if config.ignored(finding, path):
            return None
        finding = _without_ignored_nodes(finding, config, path)
        if finding is None:
            return None
        severity = config.severity_of(finding)
        if severity and severity != finding.severity:
            finding = dataclasses.replace(finding, severity=severity)
        return finding


def _without_ignored_nodes(finding: Finding, config: Config, path: str) -> Finding | None:
    """A finding covers one root cause in several nodes; ``node-ignores`` drop nodes, and the
    finding stays on the first node kept (None when every node is ignored)."""
    nodes = [(finding.node, finding.line),
             *zip(finding.related, finding.related_lines, strict=True)]
    kept = [(node, line) for node, line in nodes if not config.node_ignored(finding, node, path)]
    if not kept:
        return None
    if len(kept) == len(nodes):
        return finding
    (node, line), rest = kept[0], kept[1:]
    return dataclasses.replace(
        finding, node=node, line=line if line is not None else finding.line,
        related=tuple(other for other, _ in rest),
        related_lines=tuple(other_line for _, other_line in rest))


def _check_config_codes(config: Config, rules: list[Rule]) -> None:
    """Every selector a configuration file names must name a rule (an error names the file and
    the key, not a typo that silently selects nothing)."""
    for key, tokens in (
        ("select", config.select or []), ("ignore", config.ignore),
        ("extend-select", config.extend_select), ("extend-ignore", config.extend_ignore),
        ("severity", list(config.severity)),
        ("per-file-ignores", [c for codes in config.per_file_ignores.values() for c in codes]),
        ("node-ignores", [entry["rule"] for entry in config.node_ignores if "rule" in entry]),
    ):
        for token in tokens:
            if not _names_a_rule(token, rules):
                raise ConfigError(config.path, key, f"unknown rule selector '{token}'")


def _names_a_rule(token: str, rules: list[Rule]) -> bool:
    return any(matches([token], rule.code, rule.name) for rule in rules)
