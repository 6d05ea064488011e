"""Every rule on every generated TF fixture, both control-flow forms, all rules at once.

Every file under fixtures/tf/<mode>/ must appear in EXPECTED (a new fixture cannot go untested),
and clean twins expect no finding from any rule.
"""

import json
import os

import pytest

from conftest import MODES, TF_FIXTURES, lint, run_cli, tf_fixture


def layers(rule, *names):
    return {(rule, name) for name in names}


CONV = ("block1/bn", "block2/bn")
KERAS = ("block1_bn", "block2_bn")
CLEAN: set = set()

EXPECTED = {
    # -- BN101 missing-update-dependency: every format users commit, buggy and clean twins
    "layers_missing_deps.meta": layers("BN101", *CONV),
    "layers_missing_deps.graph.pb": layers("BN101", *CONV),
    "layers_missing_deps.graph.pbtxt": layers("BN101", *CONV),
    "layers_missing_deps.metagraph.pbtxt": layers("BN101", *CONV),
    "layers_missing_deps_savedmodel": layers("BN101", *CONV),
    "layers_missing_deps_model_dir": layers("BN101", *CONV),
    "layers_update_deps.meta": CLEAN,
    "layers_update_deps.graph.pb": CLEAN,
    "layers_update_deps.graph.pbtxt": CLEAN,
    "layers_update_deps.metagraph.pbtxt": CLEAN,
    "layers_update_deps_savedmodel": CLEAN,
    "layers_update_deps_model_dir": CLEAN,
    "layers_collection_too_early.meta": layers("BN101", *CONV),
    "layers_group_train_op.meta": CLEAN,  # tf.group(minimize, *update_ops)
    "adam_missing_deps.graph.pb": layers("BN101", *CONV),
    "keras_updates_missing.meta": layers("BN101", *KERAS),  # updates in layer.updates
    "keras_model_updates.meta": CLEAN,
    "nonfused_missing_deps.meta": layers("BN101", "fc1/bn"),  # 2-D input, moments arithmetic
    "nonfused_missing_deps.graph.pbtxt": layers("BN101", "fc1/bn"),
    "nonfused_update_deps.meta": CLEAN,
    "nn_moments_average_in_cond.meta": CLEAN,  # tf.nn.moments + EMA + batch_normalization
    "nn_moments_average_never_run.meta": layers("BN101", "nn_bn"),
    "multi_tower_shared_updates.meta": CLEAN,  # updates from tower 0 only: enough
    "multi_tower_no_updates.meta": layers("BN101", "tower_0/block1/bn", "tower_0/block2/bn"),
    "gan_each_optimizer_updates.meta": CLEAN,
    "gan_generator_updates_missing.meta": layers("BN101", "generator/bn"),
    "while_loop_update_deps.meta": CLEAN,
    "function_call_keras_bn.meta": CLEAN,  # assigns inside the tf.function body run with it
    # -- BN102 constant-training-flag
    "layers_training_true_update_deps.meta": layers("BN102", *CONV),
    "layers_training_true_update_deps.graph.pbtxt": layers("BN102", *CONV),
    "layers_training_true_missing_deps.meta": layers("BN101", *CONV) | layers("BN102", *CONV),
    # -- BN103 learning-phase-constant (set_learning_phase(0) is BN122's, see its docs)
    "keras_set_learning_phase_1.meta": layers("BN103", *KERAS),
    "keras_set_learning_phase_0.meta": layers("BN122", *KERAS),
    "keras_learning_phase_placeholder.meta": CLEAN,
    # -- BN104 training-mode-in-inference-graph
    "export_training_true.frozen.pb": layers("BN104", *CONV),
    "export_training_true.graph.pbtxt": layers("BN104", *CONV),
    "export_training_true_savedmodel": layers("BN104", *CONV),
    "export_placeholder_with_default_true.frozen.pb": layers("BN104", *CONV),
    "export_placeholder_with_default_true.graph.pbtxt": layers("BN104", *CONV),
    "export_placeholder_with_default_true_savedmodel": layers("BN104", *CONV),
    "export_keras_set_learning_phase_1.frozen.pb": layers("BN104", *KERAS),
    "export_inference.frozen.pb": CLEAN,
    "export_inference.folded.pb": CLEAN,  # BN folded into the convolutions
    "export_inference.graph.pbtxt": CLEAN,
    "export_inference_savedmodel": CLEAN,
    "export_placeholder_with_default_false.frozen.pb": CLEAN,
    "export_placeholder_with_default_false.graph.pbtxt": CLEAN,
    "export_placeholder_with_default_false_savedmodel": CLEAN,
    "export_keras_learning_phase.graph.pb": CLEAN,
    "export_keras_learning_phase_savedmodel": CLEAN,
    # -- BN121 frozen-bn-batch-statistics
    "finetune_frozen_bn_batch_statistics.meta": layers("BN121", "backbone/bn1", "backbone/bn2"),
    "finetune_frozen_bn_batch_statistics_model_dir":
        layers("BN121", "backbone/bn1", "backbone/bn2"),
    "finetune_var_list_excludes_bn.meta": layers("BN121", "backbone/bn1", "backbone/bn2"),
    "finetune_frozen_bn_inference.meta": CLEAN,
    "finetune_frozen_bn_inference_model_dir": CLEAN,
    # -- BN122 inference-mode-bn-in-training
    "layers_default_training_false.meta": layers("BN122", *CONV),
    "layers_default_training_false_savedmodel": layers("BN122", *CONV),
    # -- BN131 data-format-mismatch
    "nchw_conv_nhwc_bn.meta": layers("BN131", *CONV),
    "nchw_conv_nhwc_bn.graph.pbtxt": layers("BN131", *CONV),
    "nchw_conv_nchw_bn.meta": CLEAN,
    "nchw_conv_nchw_bn.graph.pbtxt": CLEAN,
    # -- look-alikes: layer norm (BERT's and tf.keras'), ops merely named like BN
    "bert_layer_norm.meta": CLEAN,
    "bert_layer_norm.graph.pb": CLEAN,
    "named_like_batch_norm.meta": CLEAN,
    "named_like_batch_norm.graph.pbtxt": CLEAN,
    # -- the five seed threads
    "seed000_keras_bn_updates_not_run.meta": layers(
        "BN101", "sequential/batch_normalization", "sequential/batch_normalization_1",
        "sequential/batch_normalization_2"),
    "seed000_keras_bn_updates_not_run.graph.pbtxt": layers(
        "BN101", "sequential/batch_normalization", "sequential/batch_normalization_1",
        "sequential/batch_normalization_2"),
    "seed001_finetune_frozen_bn.meta": layers("BN121", "bn1", "bn2"),
    "seed001_finetune_frozen_bn_model_dir": layers("BN121", "bn1", "bn2"),
    "seed001_set_learning_phase.meta": layers("BN103", "bn1", "bn2"),
    "seed002_bn_axis_channels_last.meta":
        layers("BN131", "batch_normalization", "batch_normalization_1"),
    "seed002_bn_axis_channels_last.graph.pb":
        layers("BN131", "batch_normalization", "batch_normalization_1"),
    "seed003_resnet_five_steps_model_dir":
        layers("BN141", "bn_conv1", "bn2a_branch2a", "bn2b_branch2a"),
    "seed004_valid_tower_without_reuse.meta":
        layers("BN102", "batch_normalization", "batch_normalization_1")
        | layers("BN111", "batch_normalization_2", "batch_normalization_3"),
    "seed004_valid_tower_without_reuse.graph.pb":
        layers("BN102", "batch_normalization", "batch_normalization_1")
        | layers("BN111", "batch_normalization_2", "batch_normalization_3"),
    "seed004_valid_tower_with_reuse.meta": CLEAN,
    "seed004_valid_tower_with_reuse.graph.pb": CLEAN,
    # -- saved with their GraphDebugInfo (source lines: test_source_lines.py)
    "debug_info_missing_deps.meta": layers("BN101", *CONV),
    "debug_info_missing_deps.metagraph.pbtxt": layers("BN101", *CONV),
    "debug_info_update_deps.meta": CLEAN,
    "debug_info_update_deps.metagraph.pbtxt": CLEAN,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings(mode, name):
    assert lint(tf_fixture(mode, name)) == EXPECTED[name]


@pytest.mark.parametrize("mode", MODES)
def test_every_fixture_has_an_expectation(mode):
    """(GraphDebugInfo files beside graphs are tested in test_source_lines.py.)"""
    graphs = {name for name in os.listdir(os.path.join(TF_FIXTURES, mode))
              if not name.endswith(".debug")}
    assert graphs == set(EXPECTED)


def test_every_rule_has_a_buggy_fixture_and_clean_twins_exist():
    fired = {rule for expected in EXPECTED.values() for rule, _ in expected}
    listed = run_cli("--list-rules").out.split()
    assert fired == {code for code in listed if code.startswith("BN1")}
    assert sum(1 for expected in EXPECTED.values() if not expected) >= 20


def test_tf2_keras_savedmodel_is_not_an_inference_graph_in_training_mode():
    assert lint(os.path.join(TF_FIXTURES, "tf2", "trained_model_keras_savedmodel")) == CLEAN


def _findings(path, *args):
    return json.loads(run_cli(path, "--format", "json", *args).out)["findings"]


def test_multi_tower_finding_names_the_other_tower():
    related = {f["node"]: f["related"]
               for f in _findings(tf_fixture("v2", "multi_tower_no_updates.meta"))}
    assert related == {"tower_0/block1/bn": ["tower_1/block1/bn"],
                       "tower_0/block2/bn": ["tower_1/block2/bn"]}


def test_training_steps_are_the_fetched_ops_not_dangling_reads():
    """Adam's ReadVariableOp sinks run the optimizer too; the message names only train_op."""
    for mode in MODES:
        messages = [f["message"] for f in _findings(tf_fixture(mode, "adam_missing_deps.graph.pb"))]
        assert messages and all("in training step 'train_op', but" in m for m in messages)


@pytest.mark.parametrize("name,rule,words", [
    ("layers_missing_deps.meta", "BN101",
     ["BN layer 'block1/bn'", "training step 'train_op'", "'block1/bn/AssignMovingAvg"]),
    ("layers_training_true_update_deps.meta", "BN102", ["'block1/bn'", "training=True"]),
    ("keras_set_learning_phase_1.meta", "BN103", ["'block1_bn'", "training mode",
                                                  "set_learning_phase"]),
    ("export_placeholder_with_default_true.frozen.pb", "BN104",
     ["'block1/bn'", "placeholder with default 'is_training' = true"]),
    ("seed004_valid_tower_without_reuse.meta", "BN111",
     ["'batch_normalization_2'", "copy of 'batch_normalization'",
      "'batch_normalization_2/gamma'"]),
    ("finetune_var_list_excludes_bn.meta", "BN121", ["'backbone/bn1'", "'backbone/bn1/gamma'"]),
    ("layers_default_training_false.meta", "BN122", ["'block1/bn'", "pretrained checkpoint"]),
    ("nchw_conv_nhwc_bn.meta", "BN131", ["as NHWC", "'block1/conv/Conv2D' produces NCHW"]),
])
def test_messages_name_the_layer_and_what_to_do(name, rule, words):
    for mode in MODES:
        finding = next(f for f in _findings(tf_fixture(mode, name)) if f["rule"] == rule)
        for word in words:
            assert word in finding["message"], (mode, finding["message"])
        assert finding["fix"]


def test_warmup_message_says_how_far_and_how_long():
    finding = _findings(tf_fixture("v1", "seed003_resnet_five_steps_model_dir"))[0]
    assert "after 5 training steps with momentum 0.99" in finding["message"]
    assert "still 95% their initial values" in finding["message"]
    assert "about 459 steps" in finding["message"]


@pytest.mark.parametrize("mode", MODES)
def test_text_graphs_point_at_the_layers_first_node(mode):
    path = tf_fixture(mode, "layers_missing_deps.graph.pbtxt")
    lines = open(path).read().splitlines()
    names = [line.strip()[len('name: "'):-1] for line in lines if line.startswith('  name: "')]
    for finding in _findings(path):
        scope = finding["node"] + "/"
        first_name = next(name for name in names if name.startswith(scope))
        assert lines[finding["line"] - 1] == "node {"
        assert lines[finding["line"]] == f'  name: "{first_name}"'
