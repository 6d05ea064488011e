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
NET = ("net/block1/bn", "net/block2/bn")
KERAS = ("block1_bn", "block2_bn")
SLIM = ("net/conv1/BatchNorm", "net/conv2/BatchNorm")
BACKBONE = ("backbone/bn1", "backbone/bn2")
SEED000 = ("sequential/batch_normalization", "sequential/batch_normalization_1",
           "sequential/batch_normalization_2")
# the second pair: the same layers' calls by the Sequential model inside the Keras model
SEED002 = ("batch_normalization", "batch_normalization_1", "sequential/batch_normalization",
           "sequential/batch_normalization_1")
SLIM_VARIANTS = ("slim_nonfused_scale_false", "slim_fused_default", "slim_fused_scale",
                 "slim_nonfused_uncentered", "slim_zero_debias", "slim_renorm")
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
    # -- what only the checkpoint shows: BN142 untrained, BN143 corrupt statistics
    "updates_wired_to_unused_train_op_model_dir": layers("BN142", *CONV),
    "diverged_training_model_dir": layers("BN143", *CONV),
    "summary_after_train_op_missing_deps.graph.pb": layers("BN101", *CONV),
    "keras_updates_missing.meta": layers("BN101", *KERAS),  # updates in layer.updates
    "keras_model_updates.meta": CLEAN,
    "nonfused_missing_deps.meta": layers("BN101", "fc1/bn"),  # 2-D input, moments arithmetic
    "nonfused_missing_deps.graph.pbtxt": layers("BN101", "fc1/bn"),
    "nonfused_update_deps.meta": CLEAN,
    "nn_moments_average_in_cond.meta": CLEAN,  # tf.nn.moments + EMA + batch_normalization
    "nn_moments_average_never_run.meta": layers("BN101", "nn_bn"),
    "multi_tower_shared_updates.meta": CLEAN,  # updates from tower 0 only: enough
    "multi_tower_no_updates.meta": layers("BN101", "tower_0/block1/bn", "tower_0/block2/bn",
                                          "tower_1/block1/bn", "tower_1/block2/bn"),
    "gan_each_optimizer_updates.meta": CLEAN,
    "gan_generator_updates_missing.meta": layers("BN101", "generator/bn"),
    "while_loop_update_deps.meta": CLEAN,
    "function_call_keras_bn.meta": CLEAN,  # assigns inside the tf.function body run with it
    # -- every BN implementation of the TF1 era (tfgen/forms.py): buggy and clean twins
    **{f"{variant}_missing_deps.meta": layers("BN101", *SLIM) for variant in SLIM_VARIANTS},
    **{f"{variant}_update_deps.meta": CLEAN for variant in SLIM_VARIANTS},
    "slim_nonfused_scale_false_missing_deps.graph.pbtxt": layers("BN101", *SLIM),
    "slim_nonfused_scale_false_update_deps.graph.pbtxt": CLEAN,
    "slim_nchw.meta": CLEAN,
    "slim_nchw_conv_nhwc_bn.meta": layers("BN131", "conv1/BatchNorm", "conv2/BatchNorm"),
    "slim_updates_in_place_fused.meta": CLEAN,  # updates_collections=None: always run
    "slim_updates_in_place_nonfused.meta": CLEAN,
    "slim_gan_sampler_training_true.meta":
        layers("BN102", "generator_1/g_bn0", "generator_1/g_bn1"),
    "slim_gan_sampler_training_false.meta": CLEAN,
    "slim_train_graph.meta": CLEAN,  # the separate-graph idiom: training graph ...
    "slim_train_graph.graph.pbtxt": CLEAN,
    "slim_eval_graph.graph.pb": CLEAN,  # ... and its evaluation graph
    "layers_object_renorm_missing_deps.meta": layers("BN101", "bn1", "bn2"),
    "layers_object_renorm_update_deps.meta": CLEAN,
    "layers_object_virtual_batch_missing_deps.meta": layers("BN101", "bn1", "bn2"),
    "layers_object_virtual_batch_update_deps.meta": CLEAN,
    "fused_batch_norm_direct_missing_deps.meta": layers("BN101", "fused_bn"),
    "fused_batch_norm_direct_update_deps.meta": CLEAN,
    "fused_batch_norm_v1_op_missing_deps.meta": layers("BN101", "fused_bn"),
    "fused_batch_norm_v1_op_update_deps.meta": CLEAN,
    "global_normalization_ema_never_run.meta": layers("BN101", "g_bn"),
    "global_normalization_ema_in_place.meta": CLEAN,
    # -- BN102 constant-training-flag: only where the same graph evaluates through the layer
    "layers_training_true_predictions.meta": layers("BN102", *NET),
    "layers_training_true_predictions.graph.pbtxt": layers("BN102", *NET),
    "layers_training_true_input_gradient.meta": layers("BN102", *NET),
    "sampler_training_true.meta": layers("BN102", "net_1/block1/bn", "net_1/block2/bn"),
    "sampler_training_false.meta": CLEAN,
    "layers_training_true_update_deps.meta": CLEAN,  # training-only: the separate-graph idiom
    "layers_training_true_update_deps.graph.pbtxt": CLEAN,
    "layers_training_true_missing_deps.meta": layers("BN101", *CONV),
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
    "finetune_bn_inference_nothing_restored.meta": layers("BN122", *BACKBONE),
    "finetune_bn_inference_pretrained_saver.meta": CLEAN,  # statistics restored: intended
    "finetune_bn_inference_init_from_checkpoint.meta": CLEAN,
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
    # Keras layers in a raw session: their updates never run (BN101) and the learning phase
    # nobody feeds leaves them in inference mode while gamma/beta train (BN122)
    "seed000_keras_bn_updates_not_run.meta": layers("BN101", *SEED000) | layers("BN122", *SEED000),
    "seed000_keras_bn_updates_not_run.graph.pbtxt":
        layers("BN101", *SEED000) | layers("BN122", *SEED000),
    "seed001_finetune_frozen_bn.meta": layers("BN121", "bn1", "bn2"),
    "seed001_finetune_frozen_bn_model_dir": layers("BN121", "bn1", "bn2"),
    "seed001_set_learning_phase.meta": layers("BN103", "bn1", "bn2"),
    "seed002_bn_axis_channels_last.meta": layers("BN131", *SEED002),
    "seed002_bn_axis_channels_last.graph.pb": layers("BN131", *SEED002),
    "seed003_resnet_five_steps_model_dir":
        layers("BN141", "bn_conv1", "bn2a_branch2a", "bn2b_branch2a"),
    # the validation tower has its own variables (BN111); the training tower is evaluated
    # through nothing, so its constant training=True is no finding of its own
    "seed004_valid_tower_without_reuse.meta":
        layers("BN111", "batch_normalization_2", "batch_normalization_3"),
    "seed004_valid_tower_without_reuse.graph.pb":
        layers("BN111", "batch_normalization_2", "batch_normalization_3"),
    # the validation tower in a scope of its own: copies found by structure, not by name
    "seed004_valid_tower_other_scope.meta":
        layers("BN111", "valid/batch_normalization", "valid/batch_normalization_1"),
    "seed004_valid_tower_other_scope.graph.pb":
        layers("BN111", "valid/batch_normalization", "valid/batch_normalization_1"),
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


def test_multi_tower_is_one_finding_listing_every_tower():
    findings = _findings(tf_fixture("v2", "multi_tower_no_updates.meta"))
    assert [(f["rule"], f["node"], f["related"]) for f in findings] == [
        ("BN101", "tower_0/block1/bn",
         ["tower_0/block2/bn", "tower_1/block1/bn", "tower_1/block2/bn"])]


@pytest.mark.parametrize("name", ["adam_missing_deps.graph.pb",
                                  "summary_after_train_op_missing_deps.graph.pb"])
def test_training_steps_are_the_fetched_ops_not_dangling_reads_or_summaries(name):
    """Adam's ReadVariableOp sinks run the optimizer too, and summaries may wait for the train
    op; the message names only train_op."""
    for mode in MODES:
        messages = [f["message"] for f in _findings(tf_fixture(mode, name))]
        assert len(messages) == 1
        assert messages[0].startswith("training step 'train_op' runs 2 BN layer(s)")


ONE_ROOT_CAUSE = sorted(name for name, expected in EXPECTED.items() if expected
                        and not name.startswith("seed000"))


@pytest.mark.parametrize("name", ONE_ROOT_CAUSE)
def test_one_root_cause_is_one_finding(name):
    """Every buggy fixture has one mistake, so one finding per graph (a SavedModel's MetaGraphs
    are graphs of their own), its layers as related nodes."""
    for mode in MODES:
        findings = _findings(tf_fixture(mode, name))
        graphs = [f["graph"] for f in findings]
        assert findings and len(graphs) == len(set(graphs)), [
            (f["graph"], f["rule"], f["node"]) for f in findings]


def test_grouped_finding_names_every_layer_in_sarif():
    import json as json_module

    path = tf_fixture("v1", "slim_fused_default_missing_deps.meta")
    document = json_module.loads(run_cli(path, "--format", "sarif").out)
    (result,) = document["runs"][0]["results"]
    related = [(location["message"]["text"], location["logicalLocations"][0]["fullyQualifiedName"])
               for location in result["relatedLocations"]]
    assert related == [("also net/conv2/BatchNorm: the same cause", "net/conv2/BatchNorm"),
                       ("training step: train_op", "train_op")]


def test_checkpoint_warmup_is_not_repeated_when_the_updates_never_run():
    """A model_dir of a graph whose updates never run: BN101, not also BN141."""
    for mode in MODES:
        rules = {f["rule"] for f in _findings(tf_fixture(mode, "layers_missing_deps_model_dir"))}
        assert rules == {"BN101"}


@pytest.mark.parametrize("name,rule,words", [
    ("layers_missing_deps.meta", "BN101",
     ["2 BN layer(s) in training mode ('block1/bn', 'block2/bn')",
      "training step 'train_op'", "'block1/bn/AssignMovingAvg"]),
    ("layers_training_true_predictions.meta", "BN102",
     ["'net/block1/bn'", "training=True", "'predictions'"]),
    ("layers_training_true_input_gradient.meta", "BN102", ["tf.gradients 'input_gradient'"]),
    ("sampler_training_true.meta", "BN102", ["no training step runs it"]),
    ("keras_set_learning_phase_1.meta", "BN103", ["'block1_bn'", "training mode",
                                                  "set_learning_phase"]),
    ("export_placeholder_with_default_true.frozen.pb", "BN104",
     ["'block1/bn'", "placeholder with default 'is_training' = true"]),
    ("seed004_valid_tower_without_reuse.meta", "BN111",
     ["'batch_normalization_2'", "copy of 'batch_normalization'",
      "'batch_normalization_2/gamma'"]),
    ("finetune_var_list_excludes_bn.meta", "BN121", ["'backbone/bn1'", "'backbone/bn1/gamma'"]),
    ("layers_default_training_false.meta", "BN122", ["'block1/bn'", "pretrained checkpoint"]),
    ("seed000_keras_bn_updates_not_run.meta", "BN122", ["keras learning phase"]),
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
