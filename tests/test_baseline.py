"""--write-baseline / --baseline: adopt bnlint on legacy graphs, fail only on new findings."""

import json
import shutil

import pytest

from conftest import run_cli, tf_fixture

LEGACY = tf_fixture("v1", "layers_missing_deps.graph.pbtxt")  # BN101: block1/bn, block2/bn


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    shutil.copy(LEGACY, tmp_path / "models" / "legacy.pbtxt")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_round_trip(repo):
    written = run_cli("models", "--write-baseline", "bnlint-baseline.json")
    assert written.code == 0 and "wrote 1 finding to" in written.err
    document = json.loads((repo / "bnlint-baseline.json").read_text())
    # keyed by rule, file, graph and the finding's node (the first layer of its group): no lines
    assert document == {"version": 1, "findings": [
        {"rule": "BN101", "path": "models/legacy.pbtxt", "graph": None, "node": "block1/bn"},
    ]}
    held = run_cli("models", "--baseline", "bnlint-baseline.json")
    assert held.code == 0
    assert held.out == "All checks passed (1 file). (1 finding in the baseline not shown)\n"


def test_new_findings_still_fail(repo):
    run_cli("models", "--write-baseline", "bnlint-baseline.json")
    shutil.copy(tf_fixture("v1", "layers_missing_deps.meta"), repo / "models" / "new.meta")
    result = run_cli("models", "--baseline", "bnlint-baseline.json", "--format", "json")
    assert result.code == 1
    document = json.loads(result.out)
    assert [(f["path"], f["node"], f["related"]) for f in document["findings"]] == [
        ("models/new.meta", "block1/bn", ["block2/bn"])]
    assert document["baseline_suppressed"] == 1


def test_moved_lines_stay_baselined(repo):
    run_cli("models", "--write-baseline", "bnlint-baseline.json")
    graph = repo / "models" / "legacy.pbtxt"
    graph.write_text("# regenerated\n\n" + graph.read_text())
    assert run_cli("models", "--baseline", "bnlint-baseline.json").code == 0


def test_baseline_paths_are_relative_to_the_baseline_file(repo, monkeypatch):
    run_cli("models", "--write-baseline", "bnlint-baseline.json")
    monkeypatch.chdir(repo / "models")
    assert run_cli("legacy.pbtxt", "--baseline", "../bnlint-baseline.json").code == 0


def test_configured_baseline(repo):
    run_cli("models", "--write-baseline", "bnlint-baseline.json")
    (repo / "pyproject.toml").write_text('[tool.bnlint]\nbaseline = "bnlint-baseline.json"\n')
    assert run_cli("models").code == 0


@pytest.mark.parametrize("text,message", [
    ("not json", "baseline is not JSON"),
    ('{"version": 7, "findings": []}', "not a bnlint baseline"),
    ('{"version": 1, "findings": [{"rule": "BN101"}]}', "each finding needs rule, path and node"),
])
def test_bad_baseline_is_one_line_and_exit_2(repo, text, message):
    (repo / "bad.json").write_text(text)
    result = run_cli("models", "--baseline", "bad.json")
    assert result.code == 2
    assert result.err.startswith(f"bnlint: error: bad.json: {message}")
    assert len(result.err.splitlines()) == 1
    assert run_cli("models", "--baseline", "missing.json").code == 2
