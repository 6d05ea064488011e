"""A checkpoint without its graph, linted with what its keys and values alone show.

A ``tf.train.Checkpoint``, a Keras ``save_weights()`` in TensorFlow format, or a model_dir
copied without its ``.meta``: no graph says how the layers are wired, but the variable names
say where the batch-normalization layers are (``<scope>/moving_mean`` beside
``<scope>/moving_variance``) and the values say whether their statistics ever moved. Such a
checkpoint is handed to the Keras rules as a weights-only model: each BN layer with its saved
gamma, beta, moving mean and variance, and the checkpoint's step counter as the optimizer's
(BN206 untrained moving statistics, BN205 warm-up).
"""

from __future__ import annotations

from .checkpoint import read_checkpoint
from .keras_config import LayerSpec
from .keras_files import BN_ROLES, KerasInput, weights_only_root


def load_checkpoint_model(prefix: str, display: str) -> KerasInput:
    checkpoint = read_checkpoint(prefix)
    keys = dict(checkpoint.keys_by_variable) or {name: name for name in checkpoint.entries}
    layers = [weights_only_root()]
    weights: dict[str, dict[str, list[float]]] = {}
    for name in sorted(keys):
        if not name.endswith("/moving_mean"):
            continue
        scope = name[:-len("/moving_mean")]
        if f"{scope}/moving_variance" not in keys:
            continue
        values = {}
        for role in BN_ROLES:
            key = keys.get(f"{scope}/{role}")
            found = checkpoint.read(key) if key else None
            if found is not None:
                values[role] = found
        if "moving_mean" in values and "moving_variance" in values:
            layers.append(LayerSpec(path=scope, name=scope, class_name="BatchNormalization",
                                    config={"name": scope}, container="model"))
            weights[scope] = values
    return KerasInput(path=display, kind="TensorFlow checkpoint", config=None, layers=layers,
                      bn_weights=weights, optimizer_iterations=checkpoint.step())
