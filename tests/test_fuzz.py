"""Fuzzing: broken and hostile inputs never crash, hang or print a traceback.

Real fixtures of every format bnlint reads are mutated by bytes (flips, insertions, deletions,
truncations, repeated runs) and by structure (protobuf fields, JSON values, HDF5 attributes and
datasets, YAML and baseline documents), then linted in-process beside a good graph. Every run
must end with exit status 0, 1 or 2, every error must be one line naming the file, nothing may
reach stderr as a traceback, the good graph's finding must still be there, and each input must
take bounded time.

The default profile keeps this short; the long one is the real fuzzing campaign::

    pytest -m fuzz --hypothesis-profile=long      # 20,000 inputs per format
"""

from __future__ import annotations

import collections
import io
import json
import os
import shutil
import signal
import string
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, ROOT, tf_fixture

pytestmark = pytest.mark.fuzz

KERAS2 = os.path.join(FIXTURES, "keras", "keras2")
KERAS3 = os.path.join(FIXTURES, "keras", "keras3")
SEEDS = {
    "graphdef": tf_fixture("v1", "export_training_true.frozen.pb"),
    "metagraph": tf_fixture("v2", "layers_missing_deps.meta"),
    "savedmodel": tf_fixture("v1", "export_inference_savedmodel/saved_model.pb"),
    "pbtxt": tf_fixture("v1", "export_inference.graph.pbtxt"),
    "keras_json": os.path.join(KERAS2, "conv_bias_before_bn.json"),
    "hdf5": os.path.join(KERAS2, "moving_stats_never_updated.h5"),
    "keras_zip": os.path.join(KERAS3, "moving_stats_never_updated.keras"),
}
SUFFIX = {"graphdef": ".pb", "metagraph": ".meta", "savedmodel": ".pb", "pbtxt": ".pbtxt",
          "keras_json": ".json", "hdf5": ".h5", "keras_zip": ".keras"}
GOOD = tf_fixture("v1", "layers_missing_deps.meta")  # one BN101 finding, always
GOOD_NAME = os.path.basename(GOOD)
RULE = os.path.join(ROOT, "rules", "BN101-missing-update-dependency.yaml")
# Generous: a mutated input is at most a few hundred KB; linting one takes milliseconds.
SECONDS_PER_INPUT = 20
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                          HealthCheck.too_slow,
                                                          HealthCheck.data_too_large])


# Inputs tried per test, written to $BNLINT_FUZZ_REPORT (JSON) after each test.
COUNTS: collections.Counter = collections.Counter()


@pytest.fixture(autouse=True)
def hdf5_time_limit(monkeypatch):
    """The HDF5 reader's own limit (a damaged file can hang libhdf5), well inside this
    harness's limit per input."""
    monkeypatch.setenv("BNLINT_HDF5_SECONDS", "5")


def count() -> None:
    """One more input tried by the running test (reported every 500, and after each test)."""
    COUNTS.update([os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]])
    if sum(COUNTS.values()) % 500 == 0:
        _write_counts()


def _write_counts() -> None:
    report = os.environ.get("BNLINT_FUZZ_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(dict(sorted(COUNTS.items())), handle, indent=1)


@pytest.fixture(autouse=True)
def report_counts():
    yield
    _write_counts()


class Hang(BaseException):
    """Not an Exception: bnlint's per-input boundary must not turn it into an error line."""


@contextmanager
def time_limit(seconds: int):
    def alarm(signum, frame):
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(*args) -> tuple[int, str, str]:
    from bnlint.cli import main

    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with time_limit(SECONDS_PER_INPUT), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exc:
            code = exc.code
    assert time.monotonic() - started < SECONDS_PER_INPUT
    return code, out.getvalue(), err.getvalue()


def check_run(code: int, out: str, err: str, good_linted: bool = True) -> dict | None:
    """The properties every run must have; returns the JSON document when there is one."""
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    for line in err.splitlines():
        assert line.startswith("bnlint: "), line
    if not out.startswith("{"):
        return None
    document = json.loads(out)
    for error in document["errors"]:
        assert "\n" not in error["message"] and error["message"], error
    if good_linted:
        assert any(f["rule"] == "BN101" and f["path"].endswith(("good.meta", GOOD_NAME))
                   for f in document["findings"]), document
    return document


def lint_bytes(tmp_path, name: str, data: bytes) -> None:
    count()
    directory = tmp_path / "fuzz"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    (directory / name).write_bytes(data)
    shutil.copy(GOOD, directory / "good.meta")
    check_run(*run(directory / name, directory / "good.meta", "--format", "json",
                   "--isolated"))


# -- byte mutations -------------------------------------------------------------------------
_EDIT = st.tuples(st.sampled_from(("flip", "insert", "delete", "truncate", "repeat", "zero")),
                  st.floats(0, 1), st.binary(min_size=1, max_size=16))


def mutate_bytes(data: bytes, edits) -> bytes:
    buffer = bytearray(data)
    for kind, where, payload in edits:
        if not buffer:
            buffer.extend(payload)
            continue
        at = min(int(where * len(buffer)), len(buffer) - 1)
        if kind == "flip":
            buffer[at] ^= payload[0] or 0xFF
        elif kind == "insert":
            buffer[at:at] = payload
        elif kind == "delete":
            del buffer[at:at + len(payload)]
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "repeat":
            buffer[at:at] = bytes(buffer[at:at + len(payload) * 8]) * 4
        else:
            buffer[at:at + len(payload)] = bytes(len(payload))
    return bytes(buffer)


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_bytes(tmp_path, kind):
    original = open(SEEDS[kind], "rb").read()

    @SETTINGS
    @given(st.lists(_EDIT, min_size=1, max_size=6))
    def fuzz(edits):
        lint_bytes(tmp_path, "input" + SUFFIX[kind], mutate_bytes(original, edits))

    fuzz()


# -- structural mutations: protobuf ---------------------------------------------------------
# (Protobuf strings hold valid UTF-8 only; invalid bytes come from the byte mutations.)
_NAMES = st.one_of(
    st.text(string.ascii_letters + string.digits + "_/:^.-", max_size=24),
    st.sampled_from(["", ":", "^", "x:abc", "x:1:2", "x:-1", "x:99999999999999999999", "^^x",
                     "a" * 5000, "/" * 2000, "Identity", "cond/then", "\u00e9\u4e2d"]),
)
_OPS = st.sampled_from(["FusedBatchNormV3", "FusedBatchNorm", "Rsqrt", "Identity", "If",
                        "StatelessIf", "While", "PartitionedCall", "StatefulPartitionedCall",
                        "Switch", "Merge", "ApplyAdam", "AssignSub", "VarHandleOp", "Const",
                        "Placeholder", "Mean", "Sum", "Mul", "Sub", "", "NoSuchOp"])


@st.composite
def protobuf_edit(draw):
    return draw(st.sampled_from(("input", "op", "name", "attr", "drop", "duplicate", "cycle",
                                 "function"))), draw(st.floats(0, 1)), draw(_NAMES), draw(_OPS)


def mutate_graph(graph_def, edits) -> None:
    from bnlint.sources import protos

    nodes = graph_def.node
    for kind, where, text, op in edits:
        if not nodes:
            nodes.add(name=text, op=op)
            continue
        node = nodes[min(int(where * len(nodes)), len(nodes) - 1)]
        if kind == "input":
            node.input.append(text)
        elif kind == "op":
            node.op = op
        elif kind == "name":
            node.name = text
        elif kind == "attr":
            key = text or "value"
            attr = node.attr[key]
            choice = int(where * 7) % 7
            if choice == 0:
                attr.s = text.encode("utf-8", "surrogatepass")
            elif choice == 1:
                attr.i = -2**63
            elif choice == 2:
                attr.f = float("nan")
            elif choice == 3:
                attr.tensor.dtype = 19  # half
                attr.tensor.tensor_content = b"\x01\x02\x03"
            elif choice == 4:
                attr.func.name = text
            elif choice == 5:
                attr.list.i.extend([1, 2, 3])
            else:
                node.attr["is_training"].b = True
                node.attr["data_format"].s = b"NC"
        elif kind == "drop":
            del nodes[min(int(where * len(nodes)), len(nodes) - 1)]
        elif kind == "duplicate":
            nodes.add().CopyFrom(node)
        elif kind == "cycle":
            other = nodes[(int(where * 997) + 1) % len(nodes)]
            node.input.append(other.name)
            other.input.append(node.name)
        else:  # a function calling itself (and maybe the node calling it)
            function = graph_def.library.function.add()
            function.signature.name = text or "f"
            call = function.node_def.add(name="call", op="PartitionedCall")
            call.attr["f"].func.name = function.signature.name
            node.op = "PartitionedCall"
            node.attr["f"].func.name = function.signature.name
    del protos


@pytest.mark.parametrize("kind", ["graphdef", "metagraph", "savedmodel"])
def test_mutated_protobuf_fields(tmp_path, kind):
    from bnlint.sources import protos

    message = {"graphdef": protos.GraphDef, "metagraph": protos.MetaGraphDef,
               "savedmodel": protos.SavedModel}[kind]
    original = open(SEEDS[kind], "rb").read()

    @SETTINGS
    @given(st.lists(protobuf_edit(), min_size=1, max_size=8))
    def fuzz(edits):
        parsed = message.FromString(original)
        graph_defs = ([parsed] if kind == "graphdef" else [parsed.graph_def] if kind == "metagraph"
                      else [meta.graph_def for meta in parsed.meta_graphs])
        for graph_def in graph_defs:
            mutate_graph(graph_def, edits)
        lint_bytes(tmp_path, "input" + SUFFIX[kind], parsed.SerializeToString())

    fuzz()


@pytest.mark.parametrize("kind", ["pbtxt"])
def test_mutated_text_graphs(tmp_path, kind):
    from google.protobuf import text_format

    from bnlint.sources import protos

    original = open(SEEDS[kind], "rb").read()

    @SETTINGS
    @given(st.lists(protobuf_edit(), min_size=1, max_size=8),
           st.sampled_from(["", "{" * 3000, " " * 100_000, "node {" * 500, "#\n" * 1000]))
    def fuzz(edits, extra):
        graph_def = text_format.Parse(original, protos.GraphDef())
        mutate_graph(graph_def, edits)
        text = text_format.MessageToString(graph_def, as_utf8=True) + extra
        lint_bytes(tmp_path, "input.pbtxt", text.encode("utf-8", "surrogatepass"))

    fuzz()


# -- structural mutations: JSON, HDF5, .keras --------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["\udcff", "BatchNormalization", "channels_first", -1, 10**400]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)


def mutate_json(document, edits):
    """Replace values at random paths (chosen by the floats) with random JSON values."""
    for where, value, delete in edits:
        parent, key = None, None
        current = document
        depth = 0
        while isinstance(current, (dict, list)) and current and depth < 12:
            keys = list(current) if isinstance(current, dict) else list(range(len(current)))
            parent, key = current, keys[int(where * 7919 * (depth + 1)) % len(keys)]
            current = current[key]
            depth += 1
            if where * (depth + 3) % 1 < 0.3:
                break
        if parent is None:
            document = value
        elif delete and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = value
    return document


_JSON_EDITS = st.lists(st.tuples(st.floats(0, 1), _JSON, st.booleans()), min_size=1, max_size=5)


def _dump(document) -> bytes:
    return json.dumps(document, allow_nan=True).encode("utf-8", "surrogatepass")


def test_mutated_keras_json(tmp_path):
    original = json.load(open(SEEDS["keras_json"]))

    @SETTINGS
    @given(_JSON_EDITS)
    def fuzz(edits):
        document = mutate_json(json.loads(json.dumps(original)), edits)
        lint_bytes(tmp_path, "model.json", _dump(document))

    fuzz()


def test_mutated_hdf5_attributes_and_datasets(tmp_path):
    h5py = pytest.importorskip("h5py")
    config = json.loads(h5py.File(SEEDS["hdf5"], "r").attrs["model_config"])

    @SETTINGS
    @given(_JSON_EDITS, st.sampled_from(("config", "version", "string-weight", "huge", "link",
                                         "group-as-dataset", "iterations")))
    def fuzz(edits, change):
        path = tmp_path / "model.h5"
        shutil.copy(SEEDS["hdf5"], path)
        with h5py.File(path, "r+") as handle:
            handle.attrs["model_config"] = _dump(mutate_json(json.loads(json.dumps(config)),
                                                             edits))
            weights = handle["model_weights"]
            if change == "version":
                handle.attrs["keras_version"] = "\udcff".encode("utf-8", "surrogatepass")
            elif change == "string-weight":
                group = next(iter(weights.values()))
                for name in list(group):
                    del group[name]
                group.create_dataset("moving_mean:0", data=b"not a number")
            elif change == "huge":
                group = next(iter(weights.values()))
                group.create_dataset("moving_variance:0", shape=(2**40,), dtype="f4",
                                     chunks=(1024,))
            elif change == "link":
                if "bn1" in weights:
                    del weights["bn1"]
                weights["bn1"] = h5py.SoftLink("/nowhere")
                weights["loop"] = h5py.SoftLink("/model_weights/loop")
            elif change == "group-as-dataset":
                del handle["model_weights"]
                handle.create_dataset("model_weights", data=[1, 2, 3])
            else:
                optimizer = handle.require_group("optimizer_weights")
                for name in list(optimizer):
                    del optimizer[name]
                optimizer.create_dataset("iterations:0", data=2**62)
        count()
        check_run(*run(path, GOOD, "--format", "json", "--isolated"))

    fuzz()


def test_mutated_keras_archives(tmp_path):
    import zipfile

    with zipfile.ZipFile(SEEDS["keras_zip"]) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])

    @SETTINGS
    @given(_JSON_EDITS, st.sampled_from(("config", "drop-weights", "corrupt-weights",
                                         "stored-garbage", "deflate-garbage", "huge-member")))
    def fuzz(edits, change):
        path = tmp_path / "model.keras"
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                if name == "config.json":
                    data = _dump(mutate_json(json.loads(json.dumps(config)), edits))
                elif name == "model.weights.h5" and change == "drop-weights":
                    continue
                elif name == "model.weights.h5" and change == "corrupt-weights":
                    data = data[:len(data) // 2]
                compression = (zipfile.ZIP_DEFLATED if change == "deflate-garbage"
                               else zipfile.ZIP_STORED)
                archive.writestr(name, data, compress_type=compression)
            if change == "huge-member":
                archive.writestr("assets/zeros.bin", bytes(50_000_000),
                                 compress_type=zipfile.ZIP_DEFLATED)
        data = path.read_bytes()
        if change == "stored-garbage":
            data = mutate_bytes(data, [("zero", 0.5, b"\x00" * 64)])
        path.write_bytes(data)
        count()
        check_run(*run(path, GOOD, "--format", "json", "--isolated"))

    fuzz()


# -- rule, configuration and baseline files ----------------------------------------------------
_YAML_SNIPPETS = st.sampled_from([
    "", "a: &a [1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n",
    "!!python/object/apply:os.system ['echo pwned']\n", "{", "- [", "\t",
    "utils: {x: {matches: x}}",
    "match: {matches: nothing}", "match: {all: []}", "match: {reaches: {reaches: {reaches: {}}}}",
    "select: [1, 2]", "1: 2", "? [a]\n: b", "severity: {BN101: loud}", "node-ignores: [{}]",
    "per-file-ignores: {'[': [BN101]}", "baseline: /dev/null",
])


def test_mutated_rule_files(tmp_path):
    original = open(RULE, encoding="utf-8").read()

    @SETTINGS
    @given(st.lists(_EDIT, max_size=4), _YAML_SNIPPETS)
    def fuzz(edits, snippet):
        rules = tmp_path / "rules"
        shutil.rmtree(rules, ignore_errors=True)
        rules.mkdir()
        text = mutate_bytes(original.replace("BN101", "XBN101").encode(), edits) \
            + snippet.encode("utf-8", "surrogatepass")
        (rules / "XBN101-fuzz.yaml").write_bytes(text)
        count()
        check_run(*run(GOOD, "--rules", rules, "--format", "json", "--isolated"),
                  good_linted=False)

    fuzz()


def test_mutated_configuration_and_baseline_files(tmp_path):
    @SETTINGS
    @given(_YAML_SNIPPETS, _JSON, st.lists(_EDIT, max_size=3))
    def fuzz(snippet, baseline, edits):
        project = tmp_path / "project"
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir()
        shutil.copy(GOOD, project / "good.meta")
        (project / ".bnlint.yaml").write_bytes(
            mutate_bytes(snippet.encode("utf-8", "surrogatepass") or b"select: [ALL]\n", edits))
        (project / "baseline.json").write_bytes(_dump(baseline))
        count()
        check_run(*run(project / "good.meta", "--format", "json"), good_linted=False)
        check_run(*run(project / "good.meta", "--format", "json", "--isolated",
                       "--baseline", project / "baseline.json"), good_linted=False)

    fuzz()
