"""Broken and hostile inputs, one reproducer per class: the exact message, exit status 2 (or a
normal result), and the good file beside them still linted.

Timeouts here only keep a regression from hanging the suite; speed is measured by bench/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from bnlint.sources import protos
from conftest import FIXTURES, ROOT, run_cli, tf_fixture

GOOD = tf_fixture("v1", "layers_missing_deps.meta")
KERAS2 = os.path.join(FIXTURES, "keras", "keras2")


def lint_beside_good(path, *args):
    """Lint ``path`` and a good graph; returns (exit status, JSON document)."""
    result = run_cli(path, GOOD, "--format", "json", "--isolated", *args)
    assert "Traceback" not in result.err
    document = json.loads(result.out)
    assert any(f["rule"] == "BN101" and f["path"] == GOOD for f in document["findings"])
    return result.code, document


def error_of(document, path) -> str:
    (message,) = [e["message"] for e in document["errors"] if e["path"] == str(path)]
    assert "\n" not in message
    return message


def process(*args, timeout=120):
    """``python -m bnlint`` with a time limit (a hang fails the test instead of the suite)."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "bnlint", *map(str, args)], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - started


# -- graphs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("port", ["abc", "1:2", "-1"])
def test_non_numeric_output_index(tmp_path, port):
    graph = protos.GraphDef()
    graph.node.add(name="conv1/BiasAdd", op="Placeholder")
    graph.node.add(name="bn/FusedBatchNorm", op="FusedBatchNormV3").input.append(
        f"conv1/BiasAdd:{port}")
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    code, document = lint_beside_good(path)
    assert code == 2
    assert error_of(document, path) == (f"input 'conv1/BiasAdd:{port}' of node "
                                        "'bn/FusedBatchNorm' has a non-numeric output index")


@pytest.mark.parametrize("cycle", [["f"], ["f", "g"]])
def test_recursive_function_library(tmp_path, cycle):
    graph = protos.GraphDef()
    for name, callee in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        function = graph.library.function.add()
        function.signature.name = name
        function.node_def.add(name="call", op=callee)
    graph.node.add(name="call", op=cycle[0])
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    code, document = lint_beside_good(path)
    assert code == 2
    chain = " -> ".join(cycle + cycle[:1])
    assert error_of(document, path) == (f"function '{cycle[0]}' calls itself ({chain}): a "
                                        "TensorFlow function library cannot be recursive")


def test_identity_cycle_into_a_batch_norm(tmp_path):
    graph = protos.GraphDef()
    graph.node.add(name="a", op="Identity").input.append("b")
    graph.node.add(name="b", op="Identity").input.append("a")
    graph.node.add(name="bn/FusedBatchNormV3", op="FusedBatchNormV3").input.extend(
        ["a", "b", "a", "b", "a"])
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    code, document = lint_beside_good(path)
    assert code == 1 and document["errors"] == []


def test_text_graph_nested_too_deeply(tmp_path):
    deep = 'attr { key: "a" value { func { name: "f" ' * 1500 + "} } }" * 1500
    path = tmp_path / "graph.pbtxt"
    path.write_text(f'node {{ name: "c" op: "Const" {deep} }}\n')
    code, document = lint_beside_good(path)
    assert code == 2
    assert error_of(document, path) == ("text GraphDef nested too deeply to parse "
                                        "(TensorFlow's nest about ten levels)")


def test_text_graph_with_100k_characters_of_whitespace(tmp_path):
    path = tmp_path / "graph.pbtxt"
    path.write_text(" " * 100_000 + 'node { name: "c" op: "Const" }\n' + " " * 100_000)
    result, _ = process(path, timeout=60)
    assert result.returncode == 0, result.stderr


def test_twenty_thousand_training_sinks(tmp_path):
    graph = protos.GraphDef()
    for name, op in (("v", "VariableV2"), ("lr", "Const"), ("grad", "Const")):
        graph.node.add(name=name, op=op)
    graph.node.add(name="apply", op="ApplyGradientDescent").input.extend(["v", "lr", "grad"])
    for index in range(20_000):
        graph.node.add(name=f"read{index}", op="Identity").input.extend(["v", "^apply"])
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    result, _ = process(path, timeout=60)
    assert result.returncode == 0, result.stderr


# -- files that are not files -------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_device_links_are_skipped_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.pb")
    os.symlink("/dev/zero", tmp_path / "zeros.pb")
    shutil.copy(GOOD, tmp_path / "good.meta")
    result = run_cli(tmp_path, "--format", "json", "--isolated")
    document = json.loads(result.out)
    assert result.code == 1 and document["errors"] == []
    assert {os.path.basename(s["path"]): s["reason"] for s in document["skipped"]} == {
        "pipe.pb": "not a regular file (a FIFO): not read",
        "zeros.pb": "not a regular file (a character device): not read"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_as_a_rule_file(tmp_path):
    os.mkfifo(tmp_path / "XBN1-pipe.yaml")
    result = run_cli(GOOD, "--rules", tmp_path)
    assert result.code == 2
    assert result.err == f"bnlint: error: {tmp_path / 'XBN1-pipe.yaml'}: not a regular file\n"


# -- YAML and configuration ---------------------------------------------------------------------
LAUGHS = ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
          "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
          "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n")


def test_yaml_alias_expansion_in_a_rule_file(tmp_path):
    (tmp_path / "XBN1-laughs.yaml").write_text(LAUGHS)
    result = run_cli(GOOD, "--rules", tmp_path)
    assert result.code == 2
    assert result.err == (f"bnlint: error: {tmp_path / 'XBN1-laughs.yaml'}: YAML alias at line "
                          "2: aliases (*name) are not allowed in bnlint's files\n")


def test_yaml_alias_expansion_and_non_string_keys_in_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(GOOD, tmp_path / "good.meta")
    (tmp_path / ".bnlint.yaml").write_text(LAUGHS)
    result = run_cli("good.meta")
    assert result.code == 2 and "YAML alias at line 2" in result.err
    (tmp_path / ".bnlint.yaml").write_text("1: [BN101]\n")
    result = run_cli("good.meta")
    assert result.code == 2 and result.err.endswith(".bnlint.yaml: key 1 is not a string\n")


def test_rule_utils_referring_to_themselves(tmp_path):
    rule = open(os.path.join(ROOT, "rules", "BN101-missing-update-dependency.yaml")).read()
    rule = rule.replace("BN101", "XBN101").replace("matches: updates-never-run", "matches: x")
    (tmp_path / "XBN101.yaml").write_text(
        rule + "utils:\n  x: {matches: y}\n  y: {any: [{matches: x}]}\n")
    result = run_cli(GOOD, "--rules", tmp_path)
    assert result.code == 2 and result.err.endswith("util 'x' refers to itself\n")


# -- Keras -----------------------------------------------------------------------------------
def _functional(name, inner=None):
    layers = [{"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
               "config": {"name": "x", "batch_input_shape": [None, 4]}},
              inner or {"class_name": "BatchNormalization", "name": "bn",
                        "config": {"name": "bn"}, "inbound_nodes": [[["x", 0, 0, {}]]]}]
    last = layers[-1]["name"]
    return {"class_name": "Functional", "name": name, "inbound_nodes": [[["x", 0, 0, {}]]],
            "config": {"name": name, "layers": layers, "input_layers": [["x", 0, 0]],
                       "output_layers": [[last, 0, 0]]}}


def test_keras_model_nested_in_a_model_of_the_same_name(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_functional("m", _functional("m"))))
    result, _ = process(path, "--format", "json", timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["errors"] == []


def test_keras_sequential_of_twenty_thousand_layers(tmp_path):
    layers = [{"class_name": "BatchNormalization", "config": {"name": f"bn{i}"}}
              for i in range(20_000)]
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"class_name": "Sequential",
                                "config": {"name": "big", "layers": layers}}))
    result, _ = process(path, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("config,message", [
    ({"class_name": "Sequential", "config": {"name": "s", "layers": [["not", "a", "dict"]]}},
     "unreadable Keras model config: model.layers[0]: not a layer config"),
    ({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": ["unhashable"]}}]}},
     "unreadable Keras model config: model.layers[0]: a layer without a name"),
])
def test_keras_configs_of_the_wrong_shape(tmp_path, config, message):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    code, document = lint_beside_good(path)
    assert code == 2 and error_of(document, path) == message


def test_keras_negative_tensor_indexes_and_surrogate_names(tmp_path):
    model = _functional("m")
    model["config"]["layers"][1]["inbound_nodes"] = [[["x", -5, -7, {}]]]
    model["config"]["layers"][1]["name"] = model["config"]["layers"][1]["config"]["name"] = \
        "bn\udcff"
    path = tmp_path / "model.json"
    path.write_bytes(json.dumps(model).encode())  # \udcff stays an escape in the JSON
    code, document = lint_beside_good(path)
    assert code in (1, 2)
    assert all("\n" not in error["message"] for error in document["errors"])


def test_hdf5_with_a_huge_dataset_and_string_weights(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [b"bn"]
        group = handle.create_group("bn")
        group.create_dataset("bn/moving_mean:0", shape=(2**33,), dtype="f4", chunks=(4096,))
        group.create_dataset("bn/moving_variance:0", data=[b"a", b"b"])
    code, document = lint_beside_good(path)
    assert code == 1 and document["errors"] == []


def test_huge_optimizer_iteration_count_and_integer_momentum(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "model.h5"
    shutil.copy(os.path.join(KERAS2, "warmup_five_steps.h5"), path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "BatchNormalization":
                layer["config"]["momentum"] = 2
        handle.attrs["model_config"] = json.dumps(config)
        optimizer = handle["optimizer_weights"]
        for name in list(optimizer):
            del optimizer[name]
        optimizer.create_dataset("iterations:0", data=2**62)
    result, _ = process(path, "--format", "json", timeout=60)
    assert result.returncode in (0, 1) and json.loads(result.stdout)["errors"] == []


def test_encrypted_keras_archive_member(tmp_path):
    data = bytearray(open(os.path.join(FIXTURES, "keras", "keras3",
                                       "moving_stats_never_updated.keras"), "rb").read())
    at = data.find(b"PK\x01\x02")
    while at != -1:  # set the 'encrypted' flag of every central directory entry
        data[at + 8] |= 1
        at = data.find(b"PK\x01\x02", at + 4)
    path = tmp_path / "model.keras"
    path.write_bytes(bytes(data))
    code, document = lint_beside_good(path)
    assert code == 2
    assert error_of(document, path) == ("archive member config.json is encrypted: bnlint reads "
                                        "no password-protected .keras files")


# -- the boundary and the child process ---------------------------------------------------------
def test_an_internal_error_is_one_line_and_debug_shows_it(tmp_path, monkeypatch):
    import bnlint.lint

    def broken(graph, checkpoint=None):
        raise KeyError("oops")

    monkeypatch.setattr(bnlint.lint, "analyze", broken)
    shutil.copy(GOOD, tmp_path / "graph.meta")
    result = run_cli(tmp_path / "graph.meta", os.path.join(KERAS2, "dropout_before_bn.json"))
    assert result.code == 2
    assert result.err == (f"bnlint: {tmp_path / 'graph.meta'}: error: bnlint could not lint "
                          "this file (KeyError: 'oops'); rerun with --debug for the traceback "
                          "and please report it\n")
    assert "BN204" in result.out  # the other input is still linted
    with pytest.raises(KeyError):
        run_cli(tmp_path / "graph.meta", "--debug")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: readers run in-process")
def test_a_reader_that_never_returns_is_stopped():
    from bnlint.errors import InputError
    from bnlint.sources.isolation import run_isolated

    def stuck():
        while True:
            time.sleep(1)

    with pytest.raises(InputError, match="did not finish in 0.5 s"):
        run_isolated(stuck, repr, repr, "model.h5", LookupError, seconds=0.5)
    assert run_isolated(lambda: {"a": [1.5]}, dict, dict, "model.h5", LookupError) == {
        "a": [1.5]}


def test_the_hdf5_time_limit_is_configurable(monkeypatch):
    from bnlint.sources.isolation import HDF5_SECONDS, time_limit

    monkeypatch.setenv("BNLINT_HDF5_SECONDS", "120")
    assert time_limit() == 120
    for bad in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv("BNLINT_HDF5_SECONDS", bad)
        assert time_limit() == HDF5_SECONDS


def test_empty_input_to_the_python_api():
    import bnlint
    from bnlint.api import LintFailed

    with pytest.raises(LintFailed, match="empty input: no graph"):
        bnlint.lint_graph(b"")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: readers run in-process")
def test_an_interrupted_wait_leaves_no_child_running():
    """Interrupted while it waits (Ctrl-C, a caller's own time limit), the parent kills and
    reaps the child: a reader stuck in libhdf5 must not outlive it."""
    import signal

    from bnlint.sources.isolation import run_isolated

    class Interrupted(BaseException):
        pass

    def interrupt(signum, frame):
        raise Interrupted

    def stuck():
        while True:
            time.sleep(1)

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(1)
    try:
        with pytest.raises(Interrupted):
            run_isolated(stuck, repr, repr, "model.h5", LookupError, seconds=30)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child of this process is left


def test_a_function_library_whose_calls_double_at_each_level(tmp_path, monkeypatch):
    """Each function calls the next twice: 2^24 calls if every one were copied. The inlining
    budget shares callees past it (here made small, to keep the test quick)."""
    from bnlint.graph.build import build_graph
    from bnlint.sources.tf_files import load_tf_file

    graph = protos.GraphDef()
    for level in range(24):
        function = graph.library.function.add()
        function.signature.name = f"f{level}"
        function.node_def.add(name="c", op="Const")
        if level < 23:
            function.node_def.add(name="a", op=f"f{level + 1}")
            function.node_def.add(name="b", op=f"f{level + 1}")
    graph.node.add(name="call", op="f0")
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    monkeypatch.setenv("BNLINT_MAX_INLINED_NODES", "5000")
    built = build_graph(load_tf_file(str(path))[0])
    assert len(built) < 20_000


@pytest.mark.parametrize("content,half_val", [(b"\x01\x02\x03", ()), (b"", (1 << 20, -1))])
def test_half_precision_constants_of_odd_length_or_out_of_range(tmp_path, content, half_val):
    graph = protos.GraphDef()
    graph.node.add(name="x", op="Placeholder")
    graph.node.add(name="v", op="VariableV2")
    eps = graph.node.add(name="eps", op="Const")
    eps.attr["value"].tensor.dtype = 19  # float16
    eps.attr["value"].tensor.tensor_shape.dim.add(size=2)
    eps.attr["value"].tensor.tensor_content = content
    eps.attr["value"].tensor.half_val.extend(half_val)
    graph.node.add(name="bn/add", op="AddV2").input.extend(["v", "eps"])
    graph.node.add(name="bn/Rsqrt", op="Rsqrt").input.append("bn/add")
    graph.node.add(name="bn/mul", op="Mul").input.extend(["x", "bn/Rsqrt"])
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    code, document = lint_beside_good(path)
    assert code == 1 and document["errors"] == []
