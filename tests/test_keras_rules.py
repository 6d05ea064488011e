"""Every Keras rule on every generated Keras file: tf-keras (Keras 2) and Keras 3.

Files of the same scenario and format must give the same findings whichever Keras wrote them;
every file under fixtures/keras/<mode>/ must appear in EXPECTED, and clean twins expect no
finding from any rule.
"""

import json
import os

import pytest

from conftest import FIXTURES, TF_FIXTURES, lint, run_cli

KERAS_FIXTURES = os.path.join(FIXTURES, "keras")
KERAS_MODES = ("keras2", "keras3")


def layers(rule, *names):
    return {(rule, name) for name in names}


TWO = ("bn1", "bn2")
CLASS_NAMED = ("batch_normalization", "batch_normalization_1")  # Keras 3 weights files
CLEAN: set = set()
EXPECTED = {
    # the clean baseline, in every format
    "trained_cnn.json": CLEAN,
    "trained_cnn.get_config.json": CLEAN,  # json.dump(model.get_config()): no class_name
    "trained_cnn.h5": CLEAN,
    "trained_cnn.keras": CLEAN,
    "trained_cnn.weights.h5": CLEAN,
    "trained_cnn.saved-weights.h5": CLEAN,
    # save_weights() in TensorFlow's format: a checkpoint without a graph, linted by its keys
    "trained_cnn.tf-weights.index": CLEAN,
    "warmup_five_steps.tf-weights.index": layers("BN205", *TWO),
    "moving_stats_never_updated.tf-weights.index": layers("BN206", *TWO),
    # BN201 frozen-bn-legacy-semantics
    "frozen_bn_keras_2_1_2.json": layers("BN201", "bn2"),
    "frozen_bn_keras_2_1_2.h5": layers("BN201", "bn2"),
    "frozen_bn_current_keras.json": CLEAN,
    "frozen_bn_current_keras.h5": CLEAN,
    # BN202 finetune-bn-in-training-mode
    "finetune_backbone_bn_trainable.json": layers("BN202", "backbone/block2_bn"),
    "finetune_backbone_bn_trainable.h5": layers("BN202", "backbone/block2_bn"),
    "finetune_backbone_bn_trainable.keras": layers("BN202", "backbone/block2_bn"),
    "finetune_backbone_training_false.json": CLEAN,
    "finetune_backbone_training_false.h5": CLEAN,
    "finetune_backbone_training_false.keras": CLEAN,
    # BN203 bn-axis-mismatch
    "bn_axis_1_after_channels_last.json": layers("BN203", *TWO),
    "bn_axis_1_after_channels_last.keras": layers("BN203", *TWO),
    "bn_axis_last_after_channels_first.json": layers("BN203", "bn1"),
    "bn_axis_mismatch_in_nested_model.json": layers("BN203", "backbone/bn1", "backbone/bn2"),
    # BN204 dropout-before-bn
    "dropout_before_bn.json": layers("BN204", "bn2"),
    "dropout_before_bn.h5": layers("BN204", "bn2"),
    "dropout_after_bn.json": CLEAN,
    "dropout_before_bn.get_config.json": layers("BN204", "bn2"),
    "dropout_after_bn.get_config.json": CLEAN,
    # a subclassed model (Keras 3): its config holds only the class; its weights are checked
    "subclassed_model.keras": CLEAN,
    "subclassed_model_bn_training_false.keras": layers("BN206", "bn"),
    # BN205 moving-stats-warmup
    "warmup_five_steps.h5": layers("BN205", *TWO),
    "warmup_five_steps.keras": layers("BN205", *TWO),
    # BN206 untrained-moving-statistics, with and without a config
    "moving_stats_never_updated.h5": layers("BN206", *TWO),
    "moving_stats_never_updated.keras": layers("BN206", *TWO),
    "moving_stats_never_updated.saved-weights.h5": layers("BN206", *TWO),
    "moving_stats_never_updated.weights.h5": layers("BN206", *CLASS_NAMED),
    # BN207 bias-before-bn
    "conv_bias_before_bn.json": layers("BN207", *TWO),
    "conv_bias_before_bn.keras": layers("BN207", *TWO),
    # BN208 batch-size-one
    "batch_size_one.json": layers("BN208", *TWO),
    "batch_size_one.h5": layers("BN208", *TWO),
    # one BN layer called on two inputs
    "shared_bn_layer.json": CLEAN,
    "shared_bn_layer.h5": CLEAN,
    # a custom layer class and a Lambda: read, never run
    "custom_and_lambda_layers.json": CLEAN,
    "custom_and_lambda_layers.h5": CLEAN,
    # the seed threads
    "keras_seed000_bn_updates_not_run.json":
        layers("BN207", "batch_normalization_1", "batch_normalization_2"),
    "keras_seed000_bn_updates_not_run.h5":
        layers("BN206", "batch_normalization", "batch_normalization_1", "batch_normalization_2")
        | layers("BN207", "batch_normalization_1", "batch_normalization_2"),
    "keras_seed001_frozen_bn_old_keras.h5": layers("BN201", *TWO) | layers("BN207", *TWO),
    "keras_seed003_resnet_five_steps.h5":
        layers("BN205", "bn_conv1", "bn2a_branch2a", "bn2b_branch2a")
        | layers("BN207", "bn_conv1", "bn2a_branch2a", "bn2b_branch2a"),
    "keras_seed003_resnet_five_steps.keras":
        layers("BN205", "bn_conv1", "bn2a_branch2a", "bn2b_branch2a")
        | layers("BN207", "bn_conv1", "bn2a_branch2a", "bn2b_branch2a"),
}


def _files(mode):
    """The fixture files of a mode; a checkpoint's data shards belong to its .index."""
    return sorted(name for name in os.listdir(os.path.join(KERAS_FIXTURES, mode))
                  if ".data-" not in name)


CASES = [(mode, name) for mode in KERAS_MODES for name in _files(mode)]


# Where what Keras 3 saved behaves differently: it passes fit's training=True through every
# call of a Functional model, a call's training=False included (its BN statistics still move),
# so a backbone called with training=False still fine-tunes its BN statistics. A Keras 3 JSON
# config carries no version: read as tf.keras' would be.
EXPECTED_KERAS3 = {
    "finetune_backbone_training_false.h5": layers("BN202", "backbone/block2_bn"),
    "finetune_backbone_training_false.keras": layers("BN202", "backbone/block2_bn"),
}


@pytest.mark.parametrize("mode,name", CASES)
def test_findings(mode, name):
    expected = EXPECTED_KERAS3.get(name, EXPECTED[name]) if mode == "keras3" else EXPECTED[name]
    assert lint(os.path.join(KERAS_FIXTURES, mode, name)) == expected


def test_keras3_advice_freezes_bn_and_keras2_advice_calls_with_training_false():
    keras3 = _findings(os.path.join(KERAS_FIXTURES, "keras3",
                                    "finetune_backbone_training_false.keras"))
    assert "does not count: Keras 3 passes fit's training=True" in keras3[0]["message"]
    assert "`layer.trainable = False`" in keras3[0]["fix"]
    keras2 = _findings(os.path.join(KERAS_FIXTURES, "keras2",
                                    "finetune_backbone_bn_trainable.h5"))
    assert "base_model(inputs, training=False)" in keras2[0]["fix"]
    assert "does not count" not in keras2[0]["message"]


@pytest.mark.parametrize("mode", KERAS_MODES)
def test_every_fixture_has_an_expectation(mode):
    assert set(_files(mode)) <= set(EXPECTED)


def test_both_keras_generations_are_covered():
    assert {name.rsplit(".", 1)[-1] for name in _files("keras3")} >= {"json", "keras", "h5"}
    assert {name.rsplit(".", 1)[-1] for name in _files("keras2")} >= {"json", "keras", "h5"}
    assert set(EXPECTED) <= set(_files("keras2")) | set(_files("keras3"))


def test_every_keras_rule_has_a_buggy_fixture():
    fired = {rule for expected in EXPECTED.values() for rule, _ in expected}
    listed = run_cli("--list-rules").out.split()
    assert fired == {code for code in listed if code.startswith("BN2")}


def test_keras_savedmodel_metadata_is_linted_as_keras():
    path = os.path.join(TF_FIXTURES, "tf2", "biased_conv_model_keras_savedmodel")
    result = run_cli(path, "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert {(f["rule"], f["node"]) for f in findings} == {("BN207", "bn")}
    assert findings[0]["path"].endswith("keras_metadata.pb")


def _findings(path):
    return json.loads(run_cli(path, "--format", "json").out)["findings"]


@pytest.mark.parametrize("mode", KERAS_MODES)
def test_json_findings_point_at_the_layers_name(mode):
    path = os.path.join(KERAS_FIXTURES, mode, "bn_axis_1_after_channels_last.json")
    lines = open(path).read().splitlines()
    for finding in _findings(path):
        assert f'"name": "{finding["node"]}"' in lines[finding["line"] - 1]


@pytest.mark.parametrize("name,rule,words", [
    ("frozen_bn_keras_2_1_2.h5", "BN201", ["'bn2'", "Keras 2.1.2", "batch statistics"]),
    ("finetune_backbone_bn_trainable.json", "BN202",
     ["'backbone/block2_bn'", "'backbone'", "training=False"]),
    ("bn_axis_1_after_channels_last.json", "BN203", ["axis 1", "channels last"]),
    ("dropout_before_bn.json", "BN204", ["'dropout'", "'bn2'"]),
    ("warmup_five_steps.h5", "BN205", ["5 training steps", "momentum 0.99", "95%", "459"]),
    ("moving_stats_never_updated.h5", "BN206", ["'bn1'", "all 0", "all 1"]),
    ("conv_bias_before_bn.json", "BN207", ["'conv1'", "'bn1'", "use_bias=False"]),
    ("batch_size_one.json", "BN208", ["batch size of 1", "'bn1'"]),
])
def test_messages(name, rule, words):
    finding = next(f for f in _findings(os.path.join(KERAS_FIXTURES, "keras2", name))
                   if f["rule"] == rule)
    text = finding["message"] + " " + finding["fix"]
    for word in words:
        assert word in text, text
