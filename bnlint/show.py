"""``--show-files`` and ``--show-settings``: what bnlint would lint, and with what, as ruff's
options of the same names show it."""

from __future__ import annotations

import json


def show_files(paths: list[str]) -> tuple[str, str, bool]:
    """As ``ruff check --show-files``: the files bnlint would lint, in order, one a line."""
    from .sources.discover import discover

    found = discover(paths)
    return ("".join(path + "\n" for path in found.files),
            "".join(f"bnlint: {error}\n" for error in found.errors), bool(found.errors))


def show_settings(paths: list[str], policy, as_json: bool) -> str:
    """As ``ruff check --show-settings``: what decides the first file's findings (its
    configuration file, the command line's options and the rules that run)."""
    from .sources.discover import discover

    found = discover(paths)
    target = found.files[0] if found.files else paths[0]
    config = policy.config_for(target)
    rules = policy.rules_for(target)
    settings = {
        "file": target,
        "configuration": config.path,
        "settings": {key: value for key, value in vars(config).items()
                     if key not in ("path", "root")},
        "command_line": vars(policy.options),
        "rules": [f"{rule.code} {rule.name} ({rule.severity})" for rule in rules],
    }
    if as_json:
        return json.dumps(settings, indent=2) + "\n"
    lines = [f"file: {target}", f"configuration: {config.path or '(none)'}"]
    lines += [f"  {key}: {value}" for key, value in settings["settings"].items()]
    lines.append("command line:")
    lines += [f"  {key}: {value}" for key, value in settings["command_line"].items()]
    lines.append(f"rules ({len(rules)}):")
    lines += [f"  {rule}" for rule in settings["rules"]]
    return "".join(line + "\n" for line in lines)
