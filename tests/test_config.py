"""Configuration: discovery from each linted file upward, precedence, every key, bad files."""

import json
import os
import shutil

import pytest

from conftest import run_cli, tf_fixture

BUGGY = "layers_missing_deps.meta"  # BN101 on block1/bn and block2/bn (error)
WARNING = "layers_default_training_false.meta"  # BN122 on block1/bn and block2/bn (warning)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project: models/ with a buggy graph, models/legacy/ with another; cwd at its root."""
    (tmp_path / "models" / "legacy").mkdir(parents=True)
    shutil.copy(tf_fixture("v2", BUGGY), tmp_path / "models" / "train.meta")
    shutil.copy(tf_fixture("v2", BUGGY), tmp_path / "models" / "legacy" / "old.meta")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(*args):
    """(path, rule, node, severity) for every node the findings cover (their own and the
    related ones: one finding covers every layer of one root cause)."""
    result = run_cli(*args, "--format", "json")
    assert result.code in (0, 1), result.err
    return sorted((os.path.relpath(f["path"]).replace(os.sep, "/"), f["rule"], node,
                   f["severity"]) for f in json.loads(result.out)["findings"]
                  for node in (f["node"], *f["related"]))


def both(path, rule="BN101", severity="error"):
    return [(path, rule, "block1/bn", severity), (path, rule, "block2/bn", severity)]


def test_no_configuration(project):
    assert findings("models") == both("models/legacy/old.meta") + both("models/train.meta")


def test_pyproject_table_applies_to_files_below(project):
    (project / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["BN101"]\n')
    assert findings("models") == []


def test_pyproject_without_table_is_not_a_configuration(project):
    (project / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["BN101"]\n')
    (project / "models" / "pyproject.toml").write_text('[project]\nname = "models"\n')
    assert findings("models") == []  # the root's table still applies


def test_closest_configuration_wins_and_yaml_beats_pyproject(project):
    (project / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["BN101"]\n')
    (project / "models" / "legacy" / ".bnlint.yaml").write_text("select: [BN1]\n")
    assert findings("models") == both("models/legacy/old.meta")
    (project / "models" / "legacy" / "pyproject.toml").write_text(
        '[tool.bnlint]\nignore = ["ALL"]\n')
    assert findings("models") == both("models/legacy/old.meta")  # .bnlint.yaml first


def test_per_file_ignores_are_globs_relative_to_the_configuration(project):
    (project / ".bnlint.yaml").write_text(
        "per-file-ignores:\n  'models/legacy/**': [missing-update-dependency]\n")
    assert findings("models") == both("models/train.meta")
    (project / ".bnlint.yaml").write_text("per-file-ignores:\n  'old.meta': [BN1]\n")
    assert findings("models") == both("models/train.meta")  # a bare name matches at any depth


def test_node_ignores_match_node_globs(project):
    (project / ".bnlint.yaml").write_text(
        "node-ignores:\n"
        "  - {rule: BN101, node: 'block1/*'}\n"
        "  - {node: 'block2/*', path: 'models/legacy/*'}\n")
    assert findings("models") == [
        ("models/train.meta", "BN101", "block2/bn", "error")]


def test_severity_overrides_and_fail_on(project):
    (project / "pyproject.toml").write_text(
        '[tool.bnlint]\nseverity = {BN1 = "info", BN101 = "warning"}\nfail-on = "error"\n')
    assert findings("models/train.meta") == both("models/train.meta", severity="warning")
    assert run_cli("models/train.meta").code == 0  # warnings do not fail at fail-on = error
    assert run_cli("models/train.meta", "--fail-on", "warning").code == 1  # the CLI wins


def test_command_line_select_starts_over(project):
    """As in ruff: --select replaces the configured selection and its ignores;
    --ignore and --extend-select add to the configuration."""
    (project / ".bnlint.yaml").write_text("ignore: [BN101]\n")
    assert findings("models/train.meta") == []
    assert findings("models/train.meta", "--select", "BN101") == both("models/train.meta")
    assert findings("models/train.meta", "--extend-select", "BN101") == []
    (project / ".bnlint.yaml").write_text("select: [BN2]\n")
    assert findings("models/train.meta") == []
    assert findings("models/train.meta", "--extend-select", "BN101") == both("models/train.meta")


def test_most_specific_selector_decides():
    path = tf_fixture("v2", BUGGY)
    assert findings(path, "--isolated", "--select", "BN1", "--ignore", "BN101") == []
    assert len(findings(path, "--isolated", "--select", "BN101", "--ignore", "BN1")) == 2
    assert len(findings(path, "--isolated", "--select", "ALL", "--ignore", "BN2")) == 2


def test_yml_is_found_like_yaml(project):
    (project / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["ALL"]\n')
    (project / "models" / ".bnlint.yml").write_text("severity: {BN101: warning}\n")
    assert findings("models") == both("models/legacy/old.meta", severity="warning") + \
        both("models/train.meta", severity="warning")


@pytest.mark.parametrize("text", ['severity = { BN101 = "info" }\n',
                                  '[tool.bnlint]\nseverity = { BN101 = "info" }\n'])
def test_config_option_reads_any_toml_file_as_toml(project, tmp_path_factory, text):
    config = tmp_path_factory.mktemp("config") / "bnlint.toml"
    config.write_text(text)
    assert findings("models/train.meta", "--config", config) == both(
        "models/train.meta", severity="info")
    config.write_text('tool = "not a table"\n')
    result = run_cli("models/train.meta", "--config", config)
    assert result.code == 2 and "tool" in result.err


def test_isolated_and_explicit_config(project, tmp_path_factory):
    (project / ".bnlint.yaml").write_text("ignore: [BN101]\n")
    assert findings("models/train.meta", "--isolated") == both("models/train.meta")
    elsewhere = tmp_path_factory.mktemp("config") / "strict.yaml"
    elsewhere.write_text("severity: {BN101: info}\n")
    assert findings("models/train.meta", "--config", elsewhere) == both(
        "models/train.meta", severity="info")


def test_extra_rule_directories_are_relative_to_the_configuration(project):
    (project / "lint-rules").mkdir()
    rule = open(os.path.join(os.path.dirname(__file__), "..", "rules",
                             "BN101-missing-update-dependency.yaml")).read()
    (project / "lint-rules" / "XBN101.yaml").write_text(
        rule.replace("code: BN101", "code: XBN101").replace(
            "name: missing-update-dependency", "name: local-missing-update-dependency"))
    (project / "pyproject.toml").write_text(
        '[tool.bnlint]\nrules = ["lint-rules"]\nselect = ["XBN"]\n')
    assert [rule for _, rule, _, _ in findings("models/train.meta")] == ["XBN101", "XBN101"]


@pytest.mark.parametrize("name,text,message", [
    (".bnlint.yaml", "select: BN1\n", ".bnlint.yaml: select: must be a list of strings"),
    (".bnlint.yaml", "selct: [BN1]\n", ".bnlint.yaml: selct: unknown key"),
    (".bnlint.yaml", "select: [BN9]\n", ".bnlint.yaml: select: unknown rule selector 'BN9'"),
    (".bnlint.yaml", "severity: {BN101: fatal}\n", ".bnlint.yaml: severity: must map"),
    (".bnlint.yaml", "severity: {BN999: error}\n", "severity: unknown rule selector 'BN999'"),
    (".bnlint.yaml", "node-ignores: [{rule: BN101}]\n", ".bnlint.yaml: node-ignores: must be"),
    (".bnlint.yaml", "fail-on: [error\n", ".bnlint.yaml: invalid YAML at line 2"),
    (".bnlint.yaml", "select: !!python/object/apply:os.system ['echo pwned']\n",
     ".bnlint.yaml: invalid YAML at line 1: could not determine a constructor"),
    ("pyproject.toml", "[tool.bnlint\n", "pyproject.toml: invalid TOML"),
    ("pyproject.toml", '[tool.bnlint]\nfail-on = "fatal"\n',
     "pyproject.toml: tool.bnlint.fail-on: must be one of: error, warning, info"),
])
def test_invalid_configuration_is_one_line_and_exit_2(project, name, text, message):
    (project / name).write_text(text)
    result = run_cli("models/train.meta")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bnlint: error: ")
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.err
