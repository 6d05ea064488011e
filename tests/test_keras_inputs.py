"""Reading Keras files: every config shape, and inputs that must be refused or skipped.

The Keras 1 shapes below are written inline because no Keras 1 runs with TensorFlow 2; they are
parser inputs, not fixtures. Everything else comes from files Keras wrote.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from bnlint.sources.keras_config import ConfigError, flatten
from conftest import FIXTURES, ROOT, run_cli

KERAS2 = os.path.join(FIXTURES, "keras", "keras2")
KERAS3 = os.path.join(FIXTURES, "keras", "keras3")


def _calls(spec):
    return {layer.path: layer.calls for layer in flatten(spec)}


def test_keras1_sequential_config_is_a_list():
    spec = {"class_name": "Sequential", "config": [
        {"class_name": "Dense", "config": {"name": "dense_1", "output_dim": 8}},
        {"class_name": "BatchNormalization", "config": {"name": "bn_1", "mode": 0, "axis": -1}},
    ]}
    assert _calls(spec) == {"sequential": [], "dense_1": [], "bn_1": [[("dense_1", 0, 0)]]}


def test_keras1_model_inbound_nodes_have_no_kwargs():
    spec = {"class_name": "Model", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x"}, "inbound_nodes": []},
        {"class_name": "Convolution2D", "name": "c", "config": {"name": "c"},
         "inbound_nodes": [[["x", 0, 0]]]},
        {"class_name": "BatchNormalization", "name": "bn", "config": {"name": "bn"},
         "inbound_nodes": [[["c", 0, 0]]]},
    ], "input_layers": [["x", 0, 0]], "output_layers": [["bn", 0, 0]]}}
    assert _calls(spec)["bn"] == [[("c", 0, 0)]]


def test_keras3_call_arguments_are_searched_for_tensors():
    tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 1]}}
    spec = {"module": "keras", "class_name": "Functional", "config": {"name": "f", "layers": [
        {"class_name": "InputLayer", "name": "a", "config": {"name": "a"}, "inbound_nodes": []},
        {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat"},
         "inbound_nodes": [{"args": [[tensor, tensor]], "kwargs": {"training": False}}]},
    ], "input_layers": [["a", 0, 0]], "output_layers": [["cat", 0, 0]]}}
    layer = next(layer for layer in flatten(spec) if layer.path == "cat")
    assert layer.calls == [[("a", 0, 1), ("a", 0, 1)]]
    assert layer.call_kwargs == [{"training": False}]


def test_unknown_inbound_shape_is_a_config_error():
    spec = {"class_name": "Functional", "config": {"name": "f", "layers": [
        {"class_name": "Dense", "name": "d", "config": {"name": "d"}, "inbound_nodes": "x"}]}}
    with pytest.raises(ConfigError, match="inbound_nodes"):
        flatten(spec)


def test_a_shared_layer_is_one_node_with_two_calls():
    from bnlint.graph.keras_build import build_keras_graph
    from bnlint.sources.files import load_file

    source = load_file(os.path.join(KERAS2, "shared_bn_layer.json"))[0]
    graph = build_keras_graph(source)
    bn = graph.graph["index"]["shared_bn"]
    assert len(graph.nodes[bn]["calls"]) == 2
    conv = graph.graph["index"]["shared_conv"]
    assert graph.edges[conv, bn]["calls"] == [0, 1]


def test_tfjs_model_json(tmp_path):
    """What the TensorFlow.js converter writes around a Keras config (``modelTopology``)."""
    config = json.load(open(os.path.join(KERAS2, "conv_bias_before_bn.json")))
    for topology in (config, {"model_config": config, "keras_version": "tfjs-layers 4.22.0"}):
        path = tmp_path / "model.json"
        path.write_text(json.dumps({"format": "layers-model", "modelTopology": topology,
                                    "weightsManifest": []}))
        result = run_cli(path, "--format", "json")
        assert {(f["rule"], f["node"]) for f in json.loads(result.out)["findings"]} == {
            ("BN207", "bn1"), ("BN207", "bn2")}


def test_lambda_and_custom_layers_are_reported_as_notes():
    result = run_cli(os.path.join(KERAS2, "custom_and_lambda_layers.json"), "--format", "json")
    notes = {note["node"]: note["message"] for note in json.loads(result.out)["notes"]}
    assert set(notes) == {"scale", "shift"}
    assert "Lambda" in notes["shift"] and "custom layer class Scale" in notes["scale"]
    verbose = run_cli(os.path.join(KERAS2, "custom_and_lambda_layers.json"), "--verbose")
    assert "note:" in verbose.err and "'shift'" in verbose.err


def test_subclassed_keras3_model_is_a_note_and_its_weights_are_still_checked():
    """A .keras file of a model written as a class holds the class name, not the layers: a
    note (exit 0 for the clean one), and the weights' BN layers are still found."""
    keras3 = os.path.join(FIXTURES, "keras", "keras3")
    clean = run_cli(os.path.join(keras3, "subclassed_model.keras"), "--format", "json")
    document = json.loads(clean.out)
    assert clean.code == 0 and document["errors"] == [] and document["findings"] == []
    (note,) = document["notes"]
    assert "subclassed model ConvClassifier" in note["message"]
    assert "only its saved weights are checked" in note["message"]
    buggy = run_cli(os.path.join(keras3, "subclassed_model_bn_training_false.keras"),
                    "--format", "json")
    assert buggy.code == 1
    assert [(f["rule"], f["node"]) for f in json.loads(buggy.out)["findings"]] == [
        ("BN206", "bn")]


def test_bare_get_config_dump_is_a_model_and_other_layer_lists_are_not(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"name": "inventory", "layers": ["bread", "milk"]}))
    result = run_cli(path, "--format", "json", "--verbose")
    assert result.code == 0 and json.loads(result.out)["skipped"][0]["reason"] == (
        "JSON, but not a Keras model config")


def test_shared_layers_and_nested_models_from_real_files():
    document = json.load(open(os.path.join(KERAS2, "bn_axis_mismatch_in_nested_model.json")))
    paths = [layer.path for layer in flatten(document)]
    assert paths[:3] == ["outer", "images", "backbone"]
    assert "backbone/bn1" in paths


def _bad(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _one_error(result, path, *words):
    lines = [line for line in result.err.splitlines() if line.startswith("bnlint:")]
    assert len(lines) == 1 and str(path) in lines[0], result.err
    for word in words:
        assert word in lines[0]
    assert result.code == 2 and "Traceback" not in result.err


def test_corrupt_hdf5(tmp_path):
    data = open(os.path.join(KERAS2, "trained_cnn.h5"), "rb").read()
    bad = _bad(tmp_path, "model.h5", data[:8] + b"\x00\xff" * 200)
    _one_error(run_cli(bad), bad, "corrupt HDF5")


def test_truncated_keras_archive(tmp_path):
    data = open(os.path.join(KERAS3, "trained_cnn.keras"), "rb").read()
    bad = _bad(tmp_path, "model.keras", data[: len(data) // 2])
    _one_error(run_cli(bad), bad, "corrupt zip archive")


def test_zip_bomb_is_refused_unread(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("config.json", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(100):  # 100 MiB of spaces: a few hundred KiB compressed
                member.write(chunk)
    bad = _bad(tmp_path, "bomb.keras", buffer.getvalue())
    assert bad.stat().st_size < 1 << 20
    _one_error(run_cli(bad), bad, "zip bomb")


def test_archive_path_tricks_are_not_followed(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../config.json", json.dumps({"class_name": "Sequential",
                                                       "config": {"name": "s", "layers": []}}))
        archive.writestr("/etc/evil", "x")
    path = _bad(tmp_path, "tricky.keras", buffer.getvalue())
    result = run_cli(path, "--format", "json")
    assert result.code == 0
    assert json.loads(result.out)["skipped"][0]["path"] == str(path)
    assert not (tmp_path.parent / "config.json").exists()


def test_hdf5_named_keras_is_read_as_hdf5(tmp_path):
    path = tmp_path / "lies.keras"
    shutil.copy(os.path.join(KERAS2, "moving_stats_never_updated.h5"), path)
    result = run_cli(path, "--format", "json")
    assert [(f["rule"], f["node"], f["related"]) for f in json.loads(result.out)["findings"]] == [
        ("BN206", "bn1", ["bn2"])]


@pytest.mark.parametrize("name,content", [
    ("package.json", {"name": "web", "version": "1.0.0", "dependencies": {}}),
    ("data.json", [[1, 2], [3, 4]]),
    ("tsconfig.json", {"compilerOptions": {"strict": True}}),
])
def test_json_that_is_not_a_model_is_skipped_quietly(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(json.dumps(content))
    result = run_cli(path)
    assert result.code == 0 and result.err == ""
    assert json.loads(run_cli(path, "--format", "json").out)["skipped"][0]["path"] == str(path)


def test_invalid_json_reports_its_line(tmp_path):
    path = tmp_path / "model.json"
    path.write_text('{\n  "class_name": "Sequential",\n  "config": {,\n}\n')
    _one_error(run_cli(path), f"{path}:3:", "invalid JSON")


def test_model_config_attribute_that_is_not_json(tmp_path):
    import h5py

    path = tmp_path / "model.h5"
    shutil.copy(os.path.join(KERAS2, "trained_cnn.h5"), path)
    with h5py.File(path, "r+") as handle:
        handle.attrs["model_config"] = "{not json"
    _one_error(run_cli(path), path, "model_config attribute is not JSON")


def test_reading_keras_files_imports_and_runs_nothing():
    """No Keras or user module is imported, and with unpickling, unmarshalling, exec, eval and
    compile made to fail, the files (custom class, Lambda bytecode) still lint the same."""
    files = [os.path.join(KERAS2, name) for name in
             ("custom_and_lambda_layers.json", "custom_and_lambda_layers.h5",
              "trained_cnn.keras", "trained_cnn.h5")]
    code = """
import builtins, io, marshal, pickle, sys, contextlib
from bnlint.cli import main

def run():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # -j 1: the first run must import, in this process, all that the second needs
        code = main(sys.argv[1:] + ["--format", "json", "-j", "1"])
    return code, out.getvalue()

first = run()  # imports everything bnlint needs

def forbidden(*args, **kwargs):
    raise AssertionError("bnlint executed or deserialized something")

for module, name in ((pickle, "loads"), (pickle, "load"), (marshal, "loads"),
                     (builtins, "exec"), (builtins, "eval"), (builtins, "compile")):
    setattr(module, name, forbidden)
second = run()
assert first == second, (first, second)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras",
                                                           "tfgen"))
print("IMPORTED", bad, "EXIT", second[0])
"""
    result = subprocess.run([sys.executable, "-c", code, *files], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "IMPORTED [] EXIT 0", result.stderr
