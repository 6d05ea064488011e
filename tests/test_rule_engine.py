"""The YAML rule language: new rules need no Python, and bad rule files are refused with the
file and key named."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from bnlint import yaml_files
from bnlint.engine.rules import PARSED_RULES, load_rules, rule_files
from bnlint.errors import RuleError
from bnlint.lint import builtin_rules_dir
from conftest import ROOT, lint, run_cli, tf_fixture

DOCS = """
docs:
  what: Finds things.
  why: Because.
"""


def write_rule(directory, name, body, docs=DOCS):
    path = directory / name
    path.write_text(textwrap.dedent(body) + textwrap.dedent(docs))
    return path


def test_a_new_rule_file_fires_without_python_changes(tmp_path):
    """An op-level rule: a training-mode FusedBatchNorm that a training step runs."""
    write_rule(tmp_path, "X001.yaml", """
        code: XBN001
        name: training-mode-fused-bn
        severity: info
        summary: A fused BN op in training mode that a training step runs
        subject: op
        match:
          op: [FusedBatchNorm, FusedBatchNormV2, FusedBatchNormV3]
          attr: {is_training: true}
          reaches: {matches: training-step}
        message: "{name} normalizes with batch statistics (layer {layer})"
        fix: nothing to fix
    """)
    found = lint(tf_fixture("v1", "layers_update_deps.meta"), "--rules", tmp_path,
                 "--select", "XBN001")
    assert found == {("XBN001", "block1/bn/cond/FusedBatchNormV3"),
                     ("XBN001", "block2/bn/cond/FusedBatchNormV3")}


def test_a_layer_rule_with_relations_and_utils(tmp_path):
    """BN layers whose predicate is a bool placeholder and whose gamma an optimizer trains."""
    write_rule(tmp_path, "X002.yaml", """
        code: XBN002
        name: placeholder-switched
        severity: warning
        summary: Layers switched by a placeholder
        subject: bn_layer
        utils:
          trained-variable:
            has:
              relation: writers
              matches: optimizer-update
        match:
          all:
            - fact: {mode: switched, predicate_source: placeholder}
            - has: {relation: gamma, matches: trained-variable}
            - not: {fact: {name: {glob: "block2/*"}}}
        message: "{name} is switched by {predicate}"
        fix: none
    """)
    found = lint(tf_fixture("v2", "layers_update_deps.meta"), "--rules", tmp_path,
                 "--select", "XBN002")
    assert found == {("XBN002", "block1/bn")}


def test_reaches_over_data_edges_only_and_stop_by(tmp_path):
    write_rule(tmp_path, "X003.yaml", """
        code: XBN003
        name: feeds-train-by-data
        severity: info
        summary: Update assigns that reach the train op through data edges only
        subject: op
        match:
          op: [AssignSub, AssignSubVariableOp]
          reaches:
            matches: training-step
            edges: data
        message: "{name}"
        fix: none
    """)
    # The update assigns reach the train op only through control edges.
    assert lint(tf_fixture("v1", "layers_update_deps.meta"), "--rules", tmp_path,
                "--select", "XBN003") == set()
    fused = {("XBN004", f"block{i}/bn/cond/FusedBatchNormV3{suffix}")
             for i in (1, 2) for suffix in ("", "_1")}
    for stop, expected in (
        (None, fused),
        # the forward pass reaches the train op only through gradients/, but both branches
        # also feed the moving-average assigns the train op waits for
        ('{name: "gradients/*"}', fused),
        ('{any: [{name: "gradients/*"}, {op: AssignSub}]}', set()),
    ):
        write_rule(tmp_path, "X004.yaml", f"""
            code: XBN004
            name: reaches-train
            severity: info
            summary: BN ops reaching the train op
            subject: op
            match:
              fact: {{bn_compute: true}}
              reaches:
                matches: training-step
                {'stop_by: ' + stop if stop else ''}
            message: "{{name}}"
            fix: none
        """)
        found = lint(tf_fixture("v1", "layers_update_deps.meta"), "--rules", tmp_path,
                     "--select", "XBN004")
        assert found == expected, stop


def test_reached_from_and_any(tmp_path):
    write_rule(tmp_path, "X005.yaml", """
        code: XBN005
        name: reads-the-flag
        severity: info
        summary: BN ops downstream of the is_training placeholder
        subject: op
        match:
          any:
            - op: FusedBatchNormV3
            - op: FusedBatchNorm
          reached_from: {name: is_training, op: Placeholder}
        message: "{name}"
        fix: none
    """)
    found = lint(tf_fixture("v2", "layers_update_deps.meta"), "--rules", tmp_path,
                 "--select", "XBN005")
    assert len(found) == 4  # both branches of both layers, inlined from the If functions


@pytest.mark.parametrize("body,key,words", [
    ("severity: fatal", "severity", "not one of"),
    ("colour: red", "colour", "unknown key"),
    ("code: bn1", "code", "not a code"),
    ("name: Not_Kebab", "name", "kebab"),
    ("subject: tensor", "subject", "not one of"),
    ("message: '{nmae} is bad'", "message", "unknown placeholder {nmae}"),
    ("match: {fact: {moed: training}}", "match.fact.moed", "unknown fact"),
    ("match: {has: {relation: parents}}", "match.has.relation", "unknown relation"),
    ("match: {all: [{op: Conv2D}]}", "match.all[0].op", "only applies to graph nodes"),
    ("match: {matches: no-such-util}", "match.matches", "unknown util"),
    ("match: {fact: {mode: {approx: 1}}}", "match.fact.mode.approx", "unknown operator"),
    ("match: {fact: {name: {regex: '('}}}", "match.fact.name.regex", "invalid regular"),
    ("group_by: nothing", "group_by", "unknown fact"),
    ("locations: {nothing: some role}", "locations.nothing", "unknown relation"),
    ("locations: [training_steps]", "locations", "must map relation names to roles"),
    ("locations: {training_steps: ''}", "locations.training_steps", "must be a role"),
    ("match: {reachs: {op: Conv2D}}", "match.reachs", "unknown key"),
])
def test_invalid_rule_files_name_file_and_key(tmp_path, body, key, words):
    base = {
        "code": "code: XBN100", "name": "name: some-rule", "severity": "severity: info",
        "summary": "summary: s", "subject": "subject: bn_layer",
        "match": "match: {fact: {mode: training}}", "message": "message: m", "fix": "fix: f",
    }
    first = body.split(":")[0]
    if first in base:
        base[first] = body
    else:
        base["extra"] = body
    path = write_rule(tmp_path, "bad.yaml", "\n".join(base.values()))
    with pytest.raises(RuleError) as info:
        load_rules([str(tmp_path)])
    assert info.value.path == str(path)
    assert info.value.key == key
    assert words in str(info.value)


def test_missing_docs_and_missing_keys(tmp_path):
    path = write_rule(tmp_path, "bad.yaml", """
        code: XBN101
        name: no-docs
        severity: info
        summary: s
        subject: bn_layer
        match: {fact: {mode: training}}
        message: m
        fix: f
    """, docs="docs: {what: only what}\n")
    with pytest.raises(RuleError, match="docs.why: missing") as info:
        load_rules([str(tmp_path)])
    assert info.value.path == str(path)


def test_duplicate_codes_are_refused(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        write_rule(tmp_path, name, f"""
            code: XBN102
            name: rule-{name[0]}
            severity: info
            summary: s
            subject: bn_layer
            match: {{fact: {{mode: training}}}}
            message: m
            fix: f
        """)
    with pytest.raises(RuleError, match="already used"):
        load_rules([str(tmp_path)])


def test_yaml_is_loaded_safely(tmp_path):
    (tmp_path / "evil.yaml").write_text("code: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(RuleError, match="invalid YAML"):
        load_rules([str(tmp_path)])


def test_yaml_syntax_error_names_the_line(tmp_path):
    (tmp_path / "broken.yaml").write_text("code: XBN103\nname: [unclosed\n")
    with pytest.raises(RuleError, match=r"line \d"):
        load_rules([str(tmp_path)])


def test_self_referencing_util_is_refused(tmp_path):
    write_rule(tmp_path, "loop.yaml", """
        code: XBN104
        name: loops
        severity: info
        summary: s
        subject: op
        utils:
          forever: {matches: forever}
        match: {matches: forever}
        message: m
        fix: f
    """)
    with pytest.raises(RuleError, match="refers to itself"):
        load_rules([str(tmp_path)])


def test_bad_rule_dir_on_the_command_line_exits_2(tmp_path):
    write_rule(tmp_path, "bad.yaml", "code: nope\n")
    result = run_cli(tf_fixture("v1", "layers_update_deps.meta"), "--rules", tmp_path)
    assert result.code == 2
    assert str(tmp_path / "bad.yaml") in result.err
    assert "Traceback" not in result.err


def test_builtin_rules_validate():
    from bnlint.lint import builtin_rules_dir

    rules = load_rules([builtin_rules_dir()])
    assert [rule.code for rule in rules] == sorted(rule.code for rule in rules)
    assert "BN101" in {rule.code for rule in rules}


def test_findings_are_data(tmp_path):
    result = run_cli(tf_fixture("v1", "layers_missing_deps.meta"), "--format", "json")
    finding = json.loads(result.out)["findings"][0]
    assert set(finding) >= {"rule", "name", "severity", "path", "node", "line", "message", "fix"}
    assert finding["name"] == "missing-update-dependency"


# -- the built-in rules come parsed --------------------------------------------------------------
def test_parsed_builtin_rules_are_what_the_script_builds():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_rules.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_builtin_rules_load_without_importing_yaml():
    result = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from bnlint.lint import builtin_rules_dir
        from bnlint.engine.rules import load_rules
        print(len(load_rules([builtin_rules_dir()])), "yaml" in sys.modules)
    """)], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.split() == [str(len(load_rules([builtin_rules_dir()]))), "False"], \
        result.stderr


@pytest.fixture
def yaml_parses(monkeypatch):
    """The files parsed as YAML, not taken from a parsed.json."""
    parsed = []
    original = yaml_files.safe_load

    def safe_load(text):
        parsed.append(text.split("\n", 1)[0])
        return original(text)

    monkeypatch.setattr(yaml_files, "safe_load", safe_load)
    return parsed


def test_an_edited_rule_file_is_parsed_again(tmp_path, yaml_parses):
    rules = tmp_path / "rules"
    shutil.copytree(builtin_rules_dir(), rules)
    path = rules / "BN101-missing-update-dependency.yaml"
    path.write_text(path.read_text().replace("summary: A training step", "summary: A step"))
    loaded = {rule.code: rule for rule in load_rules([str(rules)])}
    assert loaded["BN101"].summary.startswith("A step uses a BN layer")
    assert yaml_parses == ["code: BN101"]
    assert sorted(loaded) == sorted(rule.code for rule in load_rules([builtin_rules_dir()]))


def test_parsed_rules_are_what_parsing_the_yaml_gives():
    known = yaml_files.parsed_texts(os.path.join(builtin_rules_dir(), PARSED_RULES))
    paths = rule_files(builtin_rules_dir())
    assert len(known) == len(paths)
    for path in paths:
        assert yaml_files.read_mapping(path, RuleError, known=known) == \
            yaml_files.read_mapping(path, RuleError), path


@pytest.mark.parametrize("damage", ["{not json", '{"files": []}', '["x"]', '{"files": {"a": 1}}'])
def test_a_damaged_parsed_json_only_costs_parsing(tmp_path, yaml_parses, damage):
    rules = tmp_path / "rules"
    shutil.copytree(builtin_rules_dir(), rules)
    (rules / PARSED_RULES).write_text(damage)
    assert [rule.code for rule in load_rules([str(rules)])] == \
        [rule.code for rule in load_rules([builtin_rules_dir()])]
    assert len(yaml_parses) == len(rule_files(str(rules)))
