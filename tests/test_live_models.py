"""bnlint.lint_model on live tf-keras and Keras 3 models gives the findings of their saved files;
BNLintCallback catches a model trained for five steps (seed 003's case)."""

import os

import pytest

import bnlint

pytestmark = pytest.mark.tensorflow
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _keras(flavour):
    if flavour == "keras3":
        return pytest.importorskip("keras"), ".keras"
    return pytest.importorskip("tf_keras"), ".h5"


def _trained(keras, steps, frozen_stats=False):
    """A conv -> BN (-> conv -> BN) model fit for ``steps`` steps of 8 images."""
    import numpy as np

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv1")(inputs)  # a bias before BN: BN207
    x = keras.layers.BatchNormalization(name="bn1")(x, training=False if frozen_stats else None)
    x = keras.layers.Conv2D(4, 3, use_bias=False, name="conv2")(x)
    x = keras.layers.BatchNormalization(name="bn2")(x, training=False if frozen_stats else None)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs, name="net")
    model.compile(optimizer="sgd", loss="mse")
    data = np.random.default_rng(0).normal(size=(8 * steps, 8, 8, 3)).astype("float32")
    model.fit(data, np.zeros((8 * steps, 2), "float32"), batch_size=8, epochs=1, verbose=0)
    return model


def _key(findings):
    return sorted((f.rule, f.node, f.related) for f in findings)


@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["keras3", "tf_keras"])
@pytest.mark.parametrize("frozen_stats", [False, True])
def test_a_live_model_has_the_findings_of_its_saved_file(tmp_path, flavour, frozen_stats):
    keras, suffix = _keras(flavour)
    model = _trained(keras, steps=5, frozen_stats=frozen_stats)
    live = _key(bnlint.lint_model(model))
    saved = tmp_path / f"model{suffix}"
    model.save(saved)
    assert live == _key(bnlint.lint_path(saved, isolated=True))
    rules = {rule for rule, _, _ in live}
    assert "BN207" in rules  # the conv bias before bn1
    # five steps at momentum 0.99 leave the statistics mostly initial (BN205); called with
    # training=False they never move in tf-keras, while Keras 3 passes fit's training=True
    # through the call (so its statistics do train, five steps' worth)
    assert ("BN205" in rules) is not (frozen_stats and flavour == "tf_keras")


@pytest.mark.slow
def test_the_callback_catches_five_steps_of_training(capsys):
    keras, _ = _keras("keras3")
    from bnlint.keras import BNLintCallback, BNLintFindings

    callback = BNLintCallback()
    model = _trained(keras, steps=1)
    import numpy as np

    data = np.zeros((40, 8, 8, 3), "float32")
    model.fit(data, np.zeros((40, 2), "float32"), batch_size=8, epochs=1, verbose=0,
              callbacks=[callback])
    printed = capsys.readouterr().err
    assert " BN207 " in printed and " BN205 " in printed
    assert {f.rule for f in callback.findings} >= {"BN205", "BN207"}
    with pytest.raises(BNLintFindings) as raised:
        model.fit(data, np.zeros((40, 2), "float32"), batch_size=8, epochs=1, verbose=0,
                  callbacks=[BNLintCallback(on_findings="raise")])
    assert "BN207" in {f.rule for f in raised.value.findings}


def test_lint_failed_is_exported_and_a_non_model_is_refused():
    assert bnlint.LintFailed is bnlint.api.LintFailed

    class Broken:
        name = "broken"
        layers = ()

        def to_json(self):
            raise NotImplementedError("subclassed without get_config")

    with pytest.raises(bnlint.LintFailed) as raised:
        bnlint.lint_model(Broken())
    assert "model.to_json() failed: subclassed without get_config" in str(raised.value)
