"""The Python API: bnlint.lint_path, bnlint.lint_graph (live tf.Graph, protos, bytes) and
bnlint.assert_clean, with graphs built here by TensorFlow."""

import os

import pytest

from conftest import tf_fixture

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.compat.v1.layers
tf = pytest.importorskip("tensorflow")

import bnlint  # noqa: E402
from bnlint.api import LintFailed  # noqa: E402
from bnlint.findings import Location  # noqa: E402

pytestmark = [pytest.mark.tensorflow,
              pytest.mark.filterwarnings("ignore:`tf.layers.conv2d` is deprecated")]
tf1 = tf.compat.v1
HERE = os.path.abspath(__file__)


def line_of(marker: str) -> int:
    lines = [n for n, line in enumerate(open(HERE), 1) if line.rstrip().endswith(marker)]
    assert len(lines) == 1, marker
    return lines[0]


def training_graph(update_dependency: bool):
    """A TF1 training graph; the BN layer's variables are made on one line, its ops on
    another (inside tf.cond's function bodies: the training flag is a placeholder)."""
    graph = tf.Graph()
    with graph.as_default():
        images = tf1.placeholder(tf.float32, [None, 8, 8, 3], name="images")
        is_training = tf1.placeholder(tf.bool, [], name="is_training")
        h = tf1.layers.conv2d(images, 4, 3, use_bias=False, name="conv")
        layer = tf1.layers.BatchNormalization(name="bn")
        layer.build(h.shape)  # bnlint-test: variables made
        h = layer(h, training=is_training)  # bnlint-test: layer called
        loss = tf.reduce_mean(h)
        updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS) if update_dependency else []
        optimizer = tf1.train.GradientDescentOptimizer(0.1)
        with tf.control_dependencies(updates):
            optimizer.minimize(loss, name="train_op")  # bnlint-test: step
    return graph


@pytest.fixture(scope="module")
def buggy():
    return training_graph(update_dependency=False)


@pytest.fixture(scope="module")
def clean():
    return training_graph(update_dependency=True)


def test_live_graph_findings_point_at_the_users_line(buggy):
    findings = bnlint.lint_graph(buggy)
    assert [(f.rule, f.name, f.severity, f.node) for f in findings] == [
        ("BN101", "missing-update-dependency", "error", "bn")]
    finding = findings[0]
    # The normalizing ops (in the cond's function bodies) were made where the layer is called,
    # not where its variables were.
    assert (finding.source_file, finding.source_line) == (HERE, line_of("layer called"))
    assert finding.created_at == f"{HERE}:{line_of('layer called')}"
    assert finding.path == "<tf.Graph>" and finding.line is None
    assert "control_dependencies" in finding.fix
    # and the training step, at the minimize() call where the dependency belongs
    assert finding.locations == (Location("training step", "train_op", None, HERE,
                                          line_of("bnlint-test: step")),)


def test_live_graph_clean(clean):
    assert bnlint.lint_graph(clean) == []
    bnlint.assert_clean(clean)


def test_protos_and_bytes_give_the_same_findings_without_source_lines(buggy):
    expected = [("BN101", "bn")]
    with buggy.as_default():
        meta = tf1.train.export_meta_graph(graph=buggy)
    for graph in (buggy.as_graph_def(), meta, meta.SerializeToString()):
        findings = bnlint.lint_graph(graph)
        assert [(f.rule, f.node) for f in findings] == expected
        assert findings[0].source_file is None


def test_assert_clean_lists_findings_with_their_lines(buggy):
    with pytest.raises(AssertionError) as raised:
        bnlint.assert_clean(buggy)
    message = str(raised.value)
    assert "BN101 missing-update-dependency 'bn'" in message
    assert f"created at {HERE}:{line_of('layer called')}" in message


def test_options_select_and_ignore(buggy):
    assert bnlint.lint_graph(buggy, ignore=["BN101"]) == []
    assert bnlint.lint_graph(buggy, select=["BN2"]) == []
    with pytest.raises(ValueError, match="unknown rule selector 'BN999'"):
        bnlint.lint_graph(buggy, select=["BN999"])


def test_lint_path_returns_finding_objects():
    findings = bnlint.lint_path(tf_fixture("v1", "layers_missing_deps.graph.pbtxt"))
    assert [(f.rule, f.node, f.related) for f in findings] == [
        ("BN101", "block1/bn", ("block2/bn",))]  # one missing dependency: one finding
    assert all(f.line and f.path.endswith("layers_missing_deps.graph.pbtxt") for f in findings)
    assert all(line and line > f.line for f in findings for line in f.related_lines)
    bnlint.assert_clean(tf_fixture("v1", "layers_update_deps.graph.pbtxt"))


def test_lint_path_raises_on_unreadable_input(tmp_path):
    (tmp_path / "broken.pb").write_bytes(b"\x0a\xff\xff\xff\xff\x0f")
    with pytest.raises(LintFailed) as raised:
        bnlint.lint_path(tmp_path / "broken.pb")
    assert raised.value.errors[0].path == str(tmp_path / "broken.pb")


def test_lint_graph_rejects_what_it_cannot_read():
    with pytest.raises(TypeError, match="not list"):
        bnlint.lint_graph([1, 2])
    with pytest.raises(TypeError, match="not a TensorFlow"):
        bnlint.lint_graph(tf1.ConfigProto(inter_op_parallelism_threads=2))
