"""TensorFlow checkpoints read without TensorFlow: the same values as TensorFlow reads, only
the BN tensors' bytes, and every damaged checkpoint one clear line with the graph still linted.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import pytest

from bnlint.sources.checkpoint import read_checkpoint
from conftest import MODES, TF_FIXTURES, run_cli, tf_fixture

BUGGY = "layers_missing_deps_model_dir"  # BN101, and the checkpoint confirms it
PREFIX = "model.ckpt-600"


def test_values_are_what_tensorflow_reads():
    tf = pytest.importorskip("tensorflow")
    import numpy

    compared = 0
    for index in sorted(glob.glob(os.path.join(TF_FIXTURES, "*", "*_model_dir", "*.index"))):
        prefix = index[:-len(".index")]
        mine, theirs = read_checkpoint(prefix), tf.train.load_checkpoint(prefix)
        assert set(mine.entries) == set(theirs.get_variable_to_shape_map())
        for name in mine.entries:
            values = mine.read(name)
            if values is not None:
                expected = numpy.ravel(theirs.get_tensor(name)).astype("float64")
                assert numpy.allclose(expected, values, equal_nan=True), name
                compared += 1
    assert compared > 500


@pytest.mark.parametrize("mode", MODES)
def test_graph_and_checkpoint_agree(mode):
    document = json.loads(run_cli(tf_fixture(mode, BUGGY), "--format", "json").out)
    (finding,) = document["findings"]
    assert finding["rule"] == "BN101"
    assert finding["message"].endswith(
        "; the checkpoint confirms it (model.ckpt-600, 600 steps): moving_mean is exactly 0.0 "
        "and moving_variance exactly 1.0 in all 4 channels while gamma/beta moved")


@pytest.fixture
def model_dir(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(tf_fixture("v1", BUGGY), target)
    return target


def _lint(model_dir):
    result = run_cli(model_dir / f"{PREFIX}.meta", "--format", "json")
    return result.code, json.loads(result.out)


def test_a_one_gigabyte_shard_costs_only_the_bn_tensors(model_dir, monkeypatch):
    """The data shard, made 1 GiB (sparse) behind the tensors the index describes: only the
    BN variables' bytes (and the step counter) are read."""
    shard = model_dir / f"{PREFIX}.data-00000-of-00001"
    os.truncate(shard, 1 << 30)
    from bnlint.sources import checkpoint

    read = []
    original = checkpoint.Checkpoint._bytes

    def counting(self, entry, name):
        read.append((name, entry.size))
        return original(self, entry, name)

    monkeypatch.setattr(checkpoint.Checkpoint, "_bytes", counting)
    code, document = _lint(model_dir)
    assert code == 1 and document["errors"] == []
    names = {name for name, _ in read}
    assert names <= {f"block{i}/bn/{v}" for i in (1, 2)
                     for v in ("gamma", "beta", "moving_mean", "moving_variance")} | {
        "global_step"}
    assert sum(size for _, size in read) < 1024


def _corrupt_index_block(model_dir):
    index = model_dir / f"{PREFIX}.index"
    data = bytearray(index.read_bytes())
    data[10] ^= 0xFF
    index.write_bytes(bytes(data))


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / f"{PREFIX}.index").write_bytes((d / f"{PREFIX}.index").read_bytes()[:-20]),
     "not a checkpoint index (no table footer: truncated?)"),
    (_corrupt_index_block, "corrupt index: bad block checksum at byte 0"),
    (lambda d: os.truncate(d / f"{PREFIX}.data-00000-of-00001", 16),
     "lies past the end of the data shard (truncated checkpoint)"),
    (lambda d: os.remove(d / f"{PREFIX}.data-00000-of-00001"),
     "data shard missing (copy every model.ckpt-600.data-* file beside the .index)"),
])
def test_damaged_checkpoints_are_one_line_and_the_graph_is_still_linted(model_dir, damage,
                                                                        message):
    damage(model_dir)
    code, document = _lint(model_dir)
    assert code == 2
    (error,) = document["errors"]
    assert message in error["message"] and "\n" not in error["message"]
    assert [f["rule"] for f in document["findings"]] == ["BN101"]  # from the graph alone


def test_checkpoint_files_on_their_own_are_part_of_their_checkpoint(model_dir):
    result = run_cli(model_dir / f"{PREFIX}.index", model_dir / f"{PREFIX}.data-00000-of-00001",
                     model_dir / "checkpoint", "--format", "json")
    document = json.loads(result.out)
    assert result.code == 0 and document["errors"] == []
    reasons = {os.path.basename(s["path"]): s["reason"] for s in document["skipped"]}
    assert reasons[f"{PREFIX}.index"] == (f"part of the checkpoint {PREFIX}: read with "
                                          f"{model_dir / (PREFIX + '.meta')}")
    assert reasons[f"{PREFIX}.data-00000-of-00001"].startswith(f"part of the checkpoint {PREFIX}")


def test_object_based_checkpoints_map_variables_through_the_object_graph():
    """A TF2 SavedModel's variables/ keys tensors by object path; the object graph (a string
    tensor, checksummed its own way) names the variable each key holds."""
    from bnlint.analyses import analyze
    from bnlint.graph.build import build_graph
    from bnlint.sources.files import load_file

    path = os.path.join(TF_FIXTURES, "tf2", "biased_conv_model_keras_savedmodel")
    checkpoint = read_checkpoint(os.path.join(path, "variables", "variables"))
    assert checkpoint.key_of("bn/moving_mean") == (
        "layer_with_weights-1/moving_mean/.ATTRIBUTES/VARIABLE_VALUE")
    (source,) = load_file(os.path.join(path, "saved_model.pb"))
    facts = analyze(build_graph(source), checkpoint)
    (layer,) = facts.layers
    assert facts.errors == [] and layer.saved["saved_statistics"] == "trained"


def test_a_checkpoint_without_its_graph_is_linted_by_its_keys(tmp_path):
    """A model_dir's checkpoint copied without its .meta: the keys say where the BN layers
    are, the values that their statistics never moved (BN206, as for Keras weights)."""
    source = tf_fixture("v1", BUGGY)
    for name in os.listdir(source):
        if name.startswith(PREFIX) and not name.endswith(".meta"):
            shutil.copy(os.path.join(source, name), tmp_path / name)
    result = run_cli(tmp_path, "--format", "json")
    document = json.loads(result.out)
    assert result.code == 1 and document["errors"] == []
    assert [(f["rule"], f["node"], f["related"], os.path.basename(f["path"]))
            for f in document["findings"]] == [
        ("BN206", "block1/bn", ["block2/bn"], f"{PREFIX}.index")]


def test_saved_model_variables_are_the_checkpoint():
    """A TF2 Keras SavedModel whose training diverged: its variables/ (object-based keys)
    hold NaN moving statistics; the trained twin's are finite and moved."""
    tf2 = os.path.join(TF_FIXTURES, "tf2")
    diverged = json.loads(run_cli(os.path.join(tf2, "diverged_model_keras_savedmodel"),
                                  "--format", "json").out)
    assert [(f["rule"], f["node"], f["graph"]) for f in diverged["findings"]] == [
        ("BN143", "sequential_1/bn", "serve")]
    assert "moving_mean is NaN or Inf in 4 of 4 channels" in diverged["findings"][0]["message"]
    trained = json.loads(run_cli(os.path.join(tf2, "trained_model_keras_savedmodel"),
                                 "--format", "json").out)
    assert trained["findings"] == [] and trained["errors"] == []


def test_a_damaged_checkpoint_shared_by_a_saved_models_graphs_is_one_error(tmp_path):
    """A SavedModel's MetaGraphs (train and serve here) share variables/: it is read once, and
    a damaged one is one error line; both graphs are still linted."""
    target = tmp_path / "export"
    shutil.copytree(tf_fixture("v1", "layers_missing_deps_savedmodel"), target)
    index = target / "variables" / "variables.index"
    index.write_bytes(index.read_bytes()[:-20])
    document = json.loads(run_cli(target, "--format", "json").out)
    assert [e["message"] for e in document["errors"]] == [
        "not a checkpoint index (no table footer: truncated?)"]
    assert sorted(f["graph"] for f in document["findings"]) == [
        "meta_graphs[0] train", "meta_graphs[1] serve"]
