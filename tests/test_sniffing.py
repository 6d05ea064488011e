"""The format comes from the bytes: extensions that lie are read correctly."""

import json
import os
import shutil

import pytest

from bnlint.sources.sniff import GRAPH_DEF, META_GRAPH_DEF, SAVED_MODEL, sniff
from bnlint.sources.tf_files import load_tf_file
from conftest import lint, run_cli, tf_fixture

CONV = {("BN101", "block1/bn"), ("BN101", "block2/bn")}

CASES = [
    # (fixture, name to give it, message, encoding)
    ("layers_missing_deps.graph.pb", "model.meta", GRAPH_DEF, "binary"),
    ("layers_missing_deps.meta", "model.pb", META_GRAPH_DEF, "binary"),
    ("layers_missing_deps_savedmodel/saved_model.pb", "exported.pb", SAVED_MODEL, "binary"),
    ("layers_missing_deps.metagraph.pbtxt", "graph.pbtxt", META_GRAPH_DEF, "text"),
    ("layers_missing_deps.graph.pbtxt", "model.meta", GRAPH_DEF, "text"),
]


@pytest.mark.parametrize("mode", ["v1", "v2"])
@pytest.mark.parametrize("fixture,name,message,encoding", CASES)
def test_renamed_files_are_recognised_by_content(tmp_path, mode, fixture, name, message, encoding):
    target = tmp_path / name
    shutil.copy(tf_fixture(mode, fixture), target)
    sniffed = sniff(target.read_bytes())
    assert sniffed.messages[0] == message and sniffed.encoding == encoding
    (source,) = load_tf_file(str(target))[:1]
    assert source.kind == message
    assert lint(str(target)) == CONV


def test_collections_come_with_a_metagraph():
    source = load_tf_file(tf_fixture("v1", "layers_update_deps.meta"))[0]
    assert source.collections["train_op"] == ["train_op"]
    assert "block1/bn/gamma" in source.collections["trainable_variables"]
    assert "block1/bn/moving_mean" not in source.collections["trainable_variables"]
    assert "block1/bn/AssignMovingAvg" in source.collections["update_ops"]


def test_estimator_model_dir_picks_the_newest_checkpoint(tmp_path):
    directory = tmp_path / "model_dir"
    shutil.copytree(tf_fixture("v2", "layers_missing_deps_model_dir"), directory)
    from bnlint.sources.discover import discover

    found = discover([str(directory)])
    assert [os.path.basename(path) for path in found.files] == ["model.ckpt-600.meta"]
    reasons = {os.path.basename(item.path): item.reason for item in found.skipped}
    assert reasons["graph.pbtxt"] == reasons["model.ckpt-0.meta"] == \
        "Estimator model_dir: linted model.ckpt-600.meta instead"


def test_a_single_graph_file_in_a_model_dir_can_still_be_linted_directly():
    path = os.path.join(tf_fixture("v1", "layers_missing_deps_model_dir"), "graph.pbtxt")
    assert lint(path) == CONV


def test_a_text_graph_named_saved_model_pbtxt_is_a_graph_not_a_saved_model(tmp_path):
    """Whether a directory is a SavedModel is decided by content: a bare text GraphDef that
    happens to be called saved_model.pbtxt does not hide its sibling graphs."""
    shutil.copy(tf_fixture("v1", "layers_missing_deps.graph.pbtxt"),
                tmp_path / "saved_model.pbtxt")
    shutil.copy(tf_fixture("v1", "nonfused_missing_deps.meta"), tmp_path / "sibling.meta")
    document = json.loads(run_cli(tmp_path, "--format", "json").out)
    assert document["errors"] == [] and document["skipped"] == []
    assert sorted(os.path.basename(f["path"]) for f in document["findings"]) == [
        "saved_model.pbtxt", "sibling.meta"]


def test_a_real_saved_model_still_hides_its_variables(tmp_path):
    target = tmp_path / "export"
    shutil.copytree(tf_fixture("v1", "layers_missing_deps_savedmodel"), target)
    shutil.copy(tf_fixture("v1", "nonfused_missing_deps.meta"), target / "stray.meta")
    document = json.loads(run_cli(target, "--format", "json").out)
    assert {os.path.basename(f["path"]) for f in document["findings"]} == {"saved_model.pb"}
    assert any(s["path"].endswith("stray.meta") and "part of the SavedModel" in s["reason"]
               for s in document["skipped"])
