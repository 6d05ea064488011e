"""The command line: formats, selection, rule docs, exit codes, deterministic order."""

import json
import os
import shutil

from conftest import TF_FIXTURES, run_cli, run_process, tf_fixture

BUGGY = tf_fixture("v2", "layers_missing_deps.meta")
CLEAN = tf_fixture("v2", "layers_update_deps.meta")


def test_exit_codes():
    assert run_cli(CLEAN).code == 0
    assert run_cli(BUGGY).code == 1
    assert run_cli("/no/such/graph.pb").code == 2
    assert run_cli("--format", "xml", CLEAN).code == 2


def test_check_subcommand_and_the_working_directory_by_default(tmp_path, monkeypatch):
    """As ruff: ``bnlint check PATHS`` is ``bnlint PATHS``, and no path means ``.``."""
    assert run_cli("check", BUGGY).out == run_cli(BUGGY).out
    monkeypatch.chdir(tmp_path)
    empty = run_cli()
    assert empty.code == 2 and "bnlint: .: error:" in empty.err  # nothing to lint here
    shutil.copy(BUGGY, tmp_path / "model.meta")
    for args in ((), ("check",)):
        result = run_cli(*args)
        assert result.code == 1 and result.out.startswith("model.meta:1:1: BN101 ")


def test_full_and_concise_text(tmp_path):
    """full (the default): the finding's line, then its fix, the creating Python line relative
    to the working directory, and the other layers; concise: one line with the severity."""
    path = tf_fixture("v1", "debug_info_missing_deps.meta")
    full = run_cli(path).out.splitlines()
    assert full[0].startswith(f"{path}:1:1: BN101 training step 'train_op'")
    assert full[1].startswith("  help: Build the train op inside `with tf.control_dependencies(")
    # relative to the working directory when the file lies below it (the recorded path may
    # be another checkout's)
    assert full[2].startswith("  --> ") and full[2].endswith("fixtures/tfgen/blocks.py:29")
    assert full[3] == "  also: 'block2/bn'"
    assert run_cli(path, "--format", "text").out == run_cli(path).out  # full's old name
    concise = run_cli(path, "--output-format", "concise").out.splitlines()
    assert len(concise) == 2 and concise[0].startswith(f"{path}:1:1: BN101 error: training step")
    assert concise[0].endswith("fixtures/tfgen/blocks.py:29]")


def test_colour_when_asked_or_forced_never_with_no_color(monkeypatch):
    def coloured(*args):
        return "\x1b[" in run_cli(BUGGY, *args).out

    assert not coloured()  # not a terminal
    assert coloured("--color", "always") and not coloured("--color", "never")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert coloured() and not coloured("--color", "never")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not coloured() and coloured("--color", "always")
    assert not coloured("--output-format", "json", "--color", "always")


def test_output_format_quiet_and_no_abbreviations():
    assert run_cli(BUGGY, "--output-format", "json").out == run_cli(BUGGY, "--format", "json").out
    quiet = run_cli(BUGGY, "-q")
    assert quiet.code == 1 and quiet.out.splitlines() == run_cli(BUGGY).out.splitlines()[:-1]
    abbreviated = run_cli(BUGGY, "--output-form", "json")  # argparse would accept it
    assert abbreviated.code == 2 and "unrecognized arguments: --output-form" in abbreviated.err


def test_json_statistics_rule_list_and_rule_docs():
    statistics = json.loads(run_cli(TF_FIXTURES, "--statistics", "--output-format", "json").out)
    assert statistics[0]["code"] == "BN101" and statistics[0]["name"] == \
        "missing-update-dependency"
    assert [entry["count"] for entry in statistics] == sorted(
        (entry["count"] for entry in statistics), reverse=True)
    listed = json.loads(run_cli("--list-rules", "--output-format", "json").out)
    assert {"code": "BN101", "name": "missing-update-dependency", "severity": "error"}.items() \
        <= listed[0].items()
    rule = json.loads(run_cli("rule", "BN101", "--output-format", "json").out)
    assert rule["code"] == "BN101" and "## Why is this bad?" in rule["explanation"]


def test_text_format_is_path_line_col_code_message():
    result = run_cli(tf_fixture("v1", "layers_missing_deps.graph.pbtxt"))
    lines = result.out.splitlines()
    assert lines[0].startswith(tf_fixture("v1", "layers_missing_deps.graph.pbtxt") + ":")
    location = lines[0].split(" BN101 ", 1)[0]
    path, line, col, empty = location.rsplit(":", 3)
    assert path.endswith("layers_missing_deps.graph.pbtxt")
    assert int(line) > 1 and col == "1" and empty == ""
    assert " BN101 training step 'train_op' runs 2 BN layer(s) in training mode " in lines[0]
    assert "('block1/bn', 'block2/bn')" in lines[0]
    assert lines[-1] == "Found 1 finding (1 error) in 1 file."


def test_binary_files_point_at_line_one():
    assert run_cli(BUGGY).out.startswith(f"{BUGGY}:1:1: BN101 ")


def test_json_document():
    document = json.loads(run_cli(BUGGY, "--format", "json").out)
    assert set(document) == {"version", "findings", "errors", "skipped", "notes",
                             "baseline_suppressed"}
    finding = document["findings"][0]
    assert finding["rule"] == "BN101"
    assert finding["name"] == "missing-update-dependency"
    assert finding["severity"] == "error"
    assert finding["path"] == BUGGY
    assert finding["node"] == "block1/bn"
    assert finding["line"] is None
    assert "control_dependencies" in finding["fix"]


def test_savedmodel_findings_name_the_meta_graph():
    result = run_cli(tf_fixture("v1", "layers_missing_deps_savedmodel"), "--format", "json")
    graphs = sorted((f["graph"], f["node"], tuple(f["related"]))
                    for f in json.loads(result.out)["findings"])
    assert graphs == [("meta_graphs[0] train", "block1/bn", ("block2/bn",)),
                      ("meta_graphs[1] serve", "block1/bn", ("block2/bn",))]
    text = run_cli(tf_fixture("v1", "layers_missing_deps_savedmodel")).out
    assert "saved_model.pb:1:1: BN101 [meta_graphs[1] serve] training step 'train_op'" in text


def test_select_and_ignore():
    assert run_cli(BUGGY, "--ignore", "BN101").code == 0
    assert run_cli(BUGGY, "--select", "BN1").code == 1
    assert run_cli(BUGGY, "--select", "missing-update-dependency").code == 1
    assert run_cli(BUGGY, "--select", "ALL", "--ignore", "BN").code == 0
    unknown = run_cli(BUGGY, "--select", "BN999")
    assert unknown.code == 2 and "unknown rule selector 'BN999'" in unknown.err


def test_list_rules_and_rule_docs():
    listed = run_cli("--list-rules")
    assert listed.code == 0
    first = listed.out.splitlines()[0].split()
    assert first[:3] == ["BN101", "missing-update-dependency", "error"]
    docs = run_cli("rule", "BN101")
    assert docs.code == 0
    for heading in ("# missing-update-dependency (BN101)", "## What it does",
                    "## Why is this bad?", "## Example", "## Use instead", "## Fix",
                    "## References"):
        assert heading in docs.out
    assert run_cli("rule", "missing-update-dependency").out == docs.out
    missing = run_cli("rule", "BN999")
    assert missing.code == 2 and "no rule 'BN999'" in missing.err


def test_help_and_version():
    help_text = run_cli("--help")
    assert help_text.code == 0
    for text in ("--format", "--select", "--rules", "--list-rules", "bnlint rule CODE",
                 "exit status"):
        assert text in help_text.out
    version = run_cli("--version")
    assert version.code == 0 and version.out.startswith("bnlint 0.")


def test_directory_walk_skips_other_files_quietly_and_verbose_lists_them():
    target = tf_fixture("v1", "layers_missing_deps_model_dir")
    quiet = run_cli(target)
    assert quiet.err == ""
    assert quiet.out.count("model.ckpt-600.meta:1:1: BN101") == 1
    verbose = run_cli(target, "--verbose")
    assert "skipped" in verbose.err and "graph.pbtxt" in verbose.err
    assert "linted model.ckpt-600.meta instead" in verbose.err


def test_savedmodel_directory_lints_only_saved_model_pb():
    document = json.loads(run_cli(tf_fixture("v2", "layers_missing_deps_savedmodel"),
                                  "--format", "json").out)
    assert {f["path"] for f in document["findings"]} == {
        os.path.join(tf_fixture("v2", "layers_missing_deps_savedmodel"), "saved_model.pb")}
    assert all("variables" in s["path"] for s in document["skipped"])


def test_output_order_is_deterministic(tmp_path):
    for name in ("b.meta", "a.meta", "c.meta"):
        shutil.copy(BUGGY, tmp_path / name)
    first = run_cli(tmp_path).out
    assert first == run_cli(tmp_path).out
    paths = [line.split(":")[0] for line in first.splitlines()[:-1] if not line.startswith(" ")]
    assert len(paths) == 3 and paths == sorted(paths)


def test_whole_fixture_tree_lints_without_errors():
    result = run_cli(TF_FIXTURES, "--format", "json")
    document = json.loads(result.out)
    assert document["errors"] == []
    assert result.code == 1


def test_python_dash_m_entry_point():
    result = run_process(BUGGY)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{BUGGY}:1:1: BN101")


def test_a_model_dirs_files_given_one_by_one_are_its_newest_graph_once():
    model_dir = tf_fixture("v2", "layers_missing_deps_model_dir")
    names = ["graph.pbtxt", "model.ckpt-0.meta", "model.ckpt-600.meta", "model.ckpt-600.meta"]
    document = json.loads(run_cli(*(os.path.join(model_dir, name) for name in names),
                                  "--format", "json").out)
    assert {os.path.basename(f["path"]) for f in document["findings"]} == {"model.ckpt-600.meta"}
    assert [f["rule"] for f in document["findings"]].count("BN101") == 1
    assert sorted((os.path.basename(s["path"]), s["reason"]) for s in document["skipped"]) == [
        ("graph.pbtxt", "Estimator model_dir: linted model.ckpt-600.meta instead"),
        ("model.ckpt-0.meta", "Estimator model_dir: linted model.ckpt-600.meta instead")]


def test_show_files_and_show_settings(tmp_path, monkeypatch):
    model_dir = tf_fixture("v2", "layers_missing_deps_model_dir")
    shown = run_cli(model_dir, BUGGY, "--show-files")
    assert shown.code == 0 and shown.out.splitlines() == [
        os.path.join(model_dir, "model.ckpt-600.meta"), BUGGY]
    monkeypatch.chdir(tmp_path)
    shutil.copy(BUGGY, tmp_path / "model.meta")
    (tmp_path / ".bnlint.yaml").write_text("severity: {BN101: warning}\nignore: [BN2]\n")
    settings = json.loads(run_cli("--show-settings", "--extend-ignore", "BN141",
                                  "--output-format", "json").out)
    assert settings["file"] == "model.meta"
    assert settings["configuration"] == str(tmp_path / ".bnlint.yaml")
    assert settings["settings"]["severity"] == {"BN101": "warning"}
    assert settings["command_line"]["extend_ignore"] == ["BN141"]
    codes = [rule.split()[0] for rule in settings["rules"]]
    assert "BN101" in codes and "BN141" not in codes and not any(c.startswith("BN2") for c in codes)
    text = run_cli("--show-settings").out
    assert text.startswith("file: model.meta\nconfiguration: ") and "  BN101 " in text


def test_standard_input_with_its_filename_and_configuration(tmp_path):
    import subprocess
    import sys

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / ".bnlint.yaml").write_text("severity: {BN101: warning}\n")
    data = open(BUGGY, "rb").read()

    spool = tmp_path / "tmp"  # where standard input is spooled, and removed from
    spool.mkdir()
    environment = dict(os.environ, TMPDIR=str(spool))

    def lint_stdin(*args):
        return subprocess.run([sys.executable, "-m", "bnlint", "-", *args, "--format", "json"],
                              input=data, capture_output=True, cwd=tmp_path, env=environment)

    named = lint_stdin("--stdin-filename", "models/train.meta")
    findings = json.loads(named.stdout)["findings"]
    assert named.returncode == 1
    assert [(f["path"], f["rule"], f["severity"]) for f in findings] == [
        ("models/train.meta", "BN101", "warning")]  # models/.bnlint.yaml applies
    anonymous = json.loads(lint_stdin().stdout)["findings"]
    assert [(f["path"], f["severity"]) for f in anonymous] == [("-", "error")]
    assert list(spool.iterdir()) == []
