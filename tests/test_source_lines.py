"""Findings name the Python line that created the offending op.

From GraphDebugInfo written by TensorFlow beside a ``.meta`` (``export_meta_graph(...,
save_debug_info=True)``) or inside a SavedModel (``SaveOptions(save_debug_info=True)``), and from
``Operation.traceback`` of a ``tf.Graph`` built right here.
"""

import json
import os
import re
import shutil

import pytest

from conftest import (
    BLOCKS,
    BN_CALL,
    FIXTURES,
    MINIMIZE_CALL,
    MODES,
    TF_FIXTURES,
    UPDATES,
    line_of,
    lint,
    run_cli,
    tf_fixture,
)

SOURCE_LINES = os.path.join(FIXTURES, "tfgen", "source_lines.py")
SERVING_CALL = line_of(SOURCE_LINES, "# the serving call")


def findings(path, *args):
    result = run_cli(path, "--format", "json", *args)
    document = json.loads(result.out)
    return document["findings"], document["errors"]


def created_at(finding):
    return finding["source_file"].replace(os.sep, "/"), finding["source_line"]


def assert_made_in(finding, path, line):
    source_file, source_line = created_at(finding)
    relative = os.path.relpath(path, os.path.dirname(FIXTURES)).replace(os.sep, "/")
    assert source_file.endswith(relative), source_file
    assert source_line == line


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["debug_info_missing_deps.meta",
                                  "debug_info_missing_deps.metagraph.pbtxt"])
def test_meta_graph_with_debug_file_names_the_bn_call(mode, name):
    found, errors = findings(tf_fixture(mode, name))
    assert errors == []
    assert [(f["rule"], f["node"], f["related"]) for f in found] == [
        ("BN101", "block1/bn", ["block2/bn"])]
    for finding in found:
        assert_made_in(finding, BLOCKS, BN_CALL)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["debug_info_missing_deps.meta",
                                  "debug_info_missing_deps.metagraph.pbtxt"])
def test_bn101_points_at_the_minimize_call(mode, name):
    """The training step is where the dependency belongs: its node and the user's minimize()
    line are a location of the finding (with its text line in a text graph)."""
    (finding,), _ = findings(tf_fixture(mode, name))
    (step,) = finding["locations"]
    assert (step["role"], step["node"]) == ("training step", "train_op")
    assert_made_in(step, UPDATES, MINIMIZE_CALL)
    if name.endswith(".pbtxt"):
        path = tf_fixture(mode, name)
        assert step["line"] == line_of(path, 'name: "train_op"') - 1  # its "node {" line
    else:
        assert step["line"] is None


@pytest.mark.parametrize("mode", MODES)
def test_clean_twin_with_debug_file(mode):
    for name in ("debug_info_update_deps.meta", "debug_info_update_deps.metagraph.pbtxt"):
        assert lint(tf_fixture(mode, name)) == set()


def test_savedmodel_debug_info_names_the_serving_call():
    found, errors = findings(os.path.join(TF_FIXTURES, "tf2", "serving_training_true_savedmodel"))
    assert errors == []
    assert [(f["rule"], f["node"], f["graph"]) for f in found] == [
        ("BN104", "classifier/bn", "serve")]
    assert_made_in(found[0], SOURCE_LINES, SERVING_CALL)


def test_savedmodel_clean_twin():
    assert lint(os.path.join(TF_FIXTURES, "tf2", "serving_training_false_savedmodel")) == set()


def test_without_debug_info_there_is_no_source_line(fixture_copy):
    """The same graph without its .debug file: findings, but no source lines."""
    found, _ = findings(fixture_copy("v1", "debug_info_missing_deps.meta"))
    assert [f["rule"] for f in found] == ["BN101"]
    assert all(f["source_file"] is None and f["source_line"] is None for f in found)


def test_debug_file_named_like_the_export_meta_graph_docstring(tmp_path):
    """``<name>_debug<ext>`` (what export_meta_graph's docstring promises) is read too."""
    shutil.copy(tf_fixture("v2", "debug_info_missing_deps.meta"), tmp_path / "model.meta")
    shutil.copy(tf_fixture("v2", "debug_info_missing_deps.debug"), tmp_path / "model_debug.meta")
    found, errors = findings(tmp_path / "model.meta")
    assert errors == []
    assert [created_at(f)[1] for f in found] == [BN_CALL]


def test_unreadable_debug_file_is_an_error_but_the_graph_is_linted(tmp_path):
    shutil.copy(tf_fixture("v1", "debug_info_missing_deps.meta"), tmp_path / "model.meta")
    (tmp_path / "model.debug").write_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
    result = run_cli(tmp_path / "model.meta")
    assert result.code == 2
    assert f"{tmp_path / 'model.debug'}: error: not a GraphDebugInfo" in result.err
    assert result.out.count(" BN101 ") == 1
    assert "[created at" not in result.out


def test_directory_walk_skips_debug_files(tmp_path):
    for name in ("debug_info_missing_deps.meta", "debug_info_missing_deps.debug"):
        shutil.copy(tf_fixture("v1", name), tmp_path / name)
    document = json.loads(run_cli(tmp_path, "--format", "json").out)
    assert [os.path.basename(f["path"]) for f in document["findings"]] == [
        "debug_info_missing_deps.meta"]
    assert document["errors"] == []


def test_every_output_format_carries_the_source_line():
    path = tf_fixture("v1", "debug_info_missing_deps.meta")
    where = f"fixtures/tfgen/blocks.py:{BN_CALL}"
    text = run_cli(path).out
    assert text.count(f"{where}\n") == 1 and text.count("  --> ") == 1, text
    concise = run_cli(path, "--output-format", "concise").out
    assert concise.count(where + "]") == 1, concise
    github = run_cli(path, "--format", "github").out
    assert github.count(where + "]") == 1
    # the annotation is on the Python line, naming the graph file
    assert github.startswith("::error file=") and f",line={BN_CALL},col=1," in github
    assert "blocks.py,line=" in github and "debug_info_missing_deps.meta" in github
    junit = run_cli(path, "--format", "junit").out
    assert junit.count(where) == 1
    sarif = json.loads(run_cli(path, "--format", "sarif").out)
    (result,) = sarif["runs"][0]["results"]
    primary = result["locations"][0]
    assert primary["physicalLocation"]["region"]["startLine"] == BN_CALL
    assert primary["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "fixtures/tfgen/blocks.py")
    assert primary["logicalLocations"][0]["name"] == "block1/bn"
    graph_file = result["relatedLocations"][0]["physicalLocation"]
    assert graph_file["artifactLocation"]["uri"].endswith("debug_info_missing_deps.meta")


def test_every_output_format_carries_the_training_step_line():
    path = tf_fixture("v1", "debug_info_missing_deps.meta")
    where = f"fixtures/tfgen/updates.py:{MINIMIZE_CALL}"
    anywhere = r"\S*" + re.escape(where)  # as recorded while the generating checkout exists
    text = run_cli(path).out
    assert re.search(rf"\n  training step: 'train_op' --> {anywhere}\n", text), text
    assert where not in run_cli(path, "--output-format", "concise").out
    github = run_cli(path, "--format", "github").out
    assert re.search(rf"\[training step 'train_op' at {anywhere}\]", github), github
    assert re.search(rf"created at \S*fixtures/tfgen/blocks.py:{BN_CALL}\]", github), github
    junit = run_cli(path, "--format", "junit").out
    assert re.search(rf"Training step: train_op, created at {anywhere}(?!\d)", junit), junit
    sarif = json.loads(run_cli(path, "--format", "sarif").out)
    (result,) = sarif["runs"][0]["results"]
    step = result["relatedLocations"][-1]
    assert step["message"]["text"] == "training step: train_op"
    assert step["logicalLocations"][0]["name"] == "train_op"
    assert step["physicalLocation"]["artifactLocation"]["uri"].endswith("fixtures/tfgen/updates.py")
    assert step["physicalLocation"]["region"]["startLine"] == MINIMIZE_CALL


def test_without_debug_info_the_training_step_is_in_the_graph_file(fixture_copy):
    path = fixture_copy("v1", "debug_info_missing_deps.metagraph.pbtxt")
    (finding,), _ = findings(path)
    node_line = line_of(path, 'name: "train_op"') - 1  # its "node {" line
    assert finding["locations"] == [{"role": "training step", "node": "train_op",
                                     "line": node_line, "source_file": None, "source_line": None}]
    sarif = json.loads(run_cli(path, "--format", "sarif").out)
    step = sarif["runs"][0]["results"][0]["relatedLocations"][-1]["physicalLocation"]
    assert step["artifactLocation"]["uri"].endswith("debug_info_missing_deps.metagraph.pbtxt")
    assert step["region"]["startLine"] == finding["locations"][0]["line"]


def test_paths_recorded_on_another_machine_map_into_this_checkout(tmp_path, monkeypatch):
    from bnlint.sources.debug_info import resolve_source_file

    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "resnet.py").write_text("# a model\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_source_file("/home/ada/project/nets/resnet.py") == os.path.join(
        "nets", "resnet.py")
    assert resolve_source_file("/home/ada/project/nets/vgg.py") == "/home/ada/project/nets/vgg.py"
    here = str(tmp_path / "nets" / "resnet.py")
    assert resolve_source_file(here) == here


def test_library_frames_are_not_the_users():
    from bnlint.sources.debug_info import user_frame

    stack = [("/home/ada/train.py", 10), ("/home/ada/model.py", 42),
             ("/opt/venv/lib/python3.11/site-packages/tf_keras/src/engine/base_layer.py", 1155),
             ("/usr/lib/python3.11/contextlib.py", 144),
             ("/usr/lib/python3/dist-packages/tensorflow/python/ops/nn_impl.py", 1)]
    assert user_frame(stack) == ("/home/ada/model.py", 42)
    assert user_frame(stack[2:]) is None


def test_both_graph_debug_info_layouts():
    """TF before 2.13 wrote ``traces`` (name or name@function -> frames); since then frames and
    stacks are stored once by id. Messages built here with the protos bnlint reads."""
    from bnlint.sources.debug_info import traces_from_message
    from bnlint.sources.protos import GraphDebugInfo

    library = "/venv/lib/python3.11/site-packages/tensorflow/python/ops/nn_impl.py"
    old = GraphDebugInfo(files=["/home/ada/model.py", library])
    old.traces["bn/FusedBatchNormV3"].file_line_cols.add(file_index=0, line=12)
    old.traces["bn/FusedBatchNormV3"].file_line_cols.add(file_index=1, line=900)
    old.traces["bn/mul@cond_true_7"].file_line_cols.add(file_index=0, line=14)
    new = GraphDebugInfo(files=["/home/ada/model.py", library])
    new.frames_by_id[1].file_index, new.frames_by_id[1].line = 0, 12
    new.frames_by_id[2].file_index, new.frames_by_id[2].line = 1, 900
    new.frames_by_id[3].file_index, new.frames_by_id[3].line = 0, 14
    new.traces_by_id[10].frame_id.extend([1, 2])
    new.traces_by_id[11].frame_id.extend([3])
    new.name_to_trace_id["bn/FusedBatchNormV3@"] = 10
    new.name_to_trace_id["bn/mul@cond_true_7"] = 11
    for message in (old, new):
        traces = traces_from_message(message)
        assert traces.creation_site("", "bn/FusedBatchNormV3") == ("/home/ada/model.py", 12)
        assert traces.creation_site("cond_true_7", "bn/mul") == ("/home/ada/model.py", 14)
        assert traces.creation_site("", "bn/mul") is None
