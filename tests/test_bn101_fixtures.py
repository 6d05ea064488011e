"""BN101 missing-update-dependency on every generated TF fixture, both control-flow forms.

Every file under fixtures/tf/<mode>/ must appear in EXPECTED (a new fixture cannot go
untested); clean twins expect no finding at all.
"""

import os

import pytest

from conftest import MODES, TF_FIXTURES, lint, tf_fixture

CONV = {("BN101", "block1/bn"), ("BN101", "block2/bn")}
KERAS = {("BN101", "block1_bn"), ("BN101", "block2_bn")}
CLEAN: set = set()

EXPECTED = {
    # compat.v1 layers, training=placeholder, minimize() without control_dependencies
    "layers_missing_deps.meta": CONV,
    "layers_missing_deps.graph.pb": CONV,
    "layers_missing_deps.graph.pbtxt": CONV,
    "layers_missing_deps.metagraph.pbtxt": CONV,
    "layers_missing_deps_savedmodel": CONV,
    "layers_missing_deps_model_dir": CONV,
    # the same graph with the UPDATE_OPS dependency
    "layers_update_deps.meta": CLEAN,
    "layers_update_deps.graph.pb": CLEAN,
    "layers_update_deps.graph.pbtxt": CLEAN,
    "layers_update_deps.metagraph.pbtxt": CLEAN,
    "layers_update_deps_savedmodel": CLEAN,
    "layers_update_deps_model_dir": CLEAN,
    # Adam: its dangling beta-power reads are not training steps
    "adam_missing_deps.graph.pb": CONV,
    # UPDATE_OPS read before the layers were built
    "layers_collection_too_early.meta": CONV,
    # train_op = tf.group(minimize, *update_ops)
    "layers_group_train_op.meta": CLEAN,
    # training=True as a Python constant, no dependency
    "layers_training_true_missing_deps.meta": CONV,
    # tf.keras BN in a TF1 graph: updates in layer.updates, not UPDATE_OPS
    "keras_updates_missing.meta": KERAS,
    "keras_model_updates.meta": CLEAN,
    # 2-D input: non-fused moments arithmetic
    "nonfused_missing_deps.meta": {("BN101", "fc1/bn")},
    "nonfused_missing_deps.graph.pbtxt": {("BN101", "fc1/bn")},
    "nonfused_update_deps.meta": CLEAN,
    # tf.nn.moments + ExponentialMovingAverage + tf.nn.batch_normalization
    "nn_moments_average_in_cond.meta": CLEAN,
    "nn_moments_average_never_run.meta": {("BN101", "nn_bn")},
    # two towers sharing variables; one finding per layer, not per tower
    "multi_tower_shared_updates.meta": CLEAN,
    "multi_tower_no_updates.meta": {("BN101", "tower_0/block1/bn"),
                                    ("BN101", "tower_0/block2/bn")},
    # GAN: each optimizer runs its own net's updates / the generator's step does not
    "gan_each_optimizer_updates.meta": CLEAN,
    "gan_generator_updates_missing.meta": {("BN101", "generator/bn")},
    # a while loop in the loss (TF1 NextIteration back edges / TF2 While function bodies)
    "while_loop_update_deps.meta": CLEAN,
    # tf.keras BN inside a tf.function: its assigns run whenever the call runs
    "function_call_keras_bn.meta": CLEAN,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bn101_findings(mode, name):
    assert lint(tf_fixture(mode, name), "--select", "BN101") == EXPECTED[name]


@pytest.mark.parametrize("mode", MODES)
def test_every_fixture_has_an_expectation(mode):
    present = set(os.listdir(os.path.join(TF_FIXTURES, mode)))
    assert present == set(EXPECTED)


def test_multi_tower_finding_names_the_other_tower():
    import json

    from conftest import run_cli

    result = run_cli(tf_fixture("v2", "multi_tower_no_updates.meta"), "--format", "json")
    related = {f["node"]: f["related"] for f in json.loads(result.out)["findings"]}
    assert related == {"tower_0/block1/bn": ["tower_1/block1/bn"],
                       "tower_0/block2/bn": ["tower_1/block2/bn"]}


def test_message_names_layer_step_and_updates():
    from conftest import run_cli

    result = run_cli(tf_fixture("v1", "layers_missing_deps.meta"), "--select", "BN101")
    first = result.out.splitlines()[0]
    assert "BN layer 'block1/bn'" in first
    assert "training step 'train_op'" in first
    assert "'block1/bn/AssignMovingAvg'" in first


def test_training_steps_are_the_fetched_ops_not_dangling_reads():
    """Adam's ReadVariableOp sinks run the optimizer too; the message names only train_op."""
    import json

    from conftest import run_cli

    for mode in MODES:
        result = run_cli(tf_fixture(mode, "adam_missing_deps.graph.pb"), "--format", "json")
        messages = [f["message"] for f in json.loads(result.out)["findings"]]
        assert messages and all("in training step 'train_op', but" in m for m in messages)
