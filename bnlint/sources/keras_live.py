"""A live Keras model object as a KerasInput: what its saved file would hold, read from memory.

The configuration is ``model.to_json()`` (exactly what ``model.save`` writes: the HDF5
``model_config`` of tf.keras and tf-keras, the ``config.json`` of a Keras 3 archive), the BN
layers' vectors are read from the layer objects, the step count from the optimizer. Nothing is
written and nothing of Keras is imported here: the caller already has the model.
"""

from __future__ import annotations

import json
import sys

from ..errors import InputError, one_line
from .keras_config import is_model_config
from .keras_files import BN_CLASSES, BN_ROLES, KerasInput
from .keras_files import model_input as keras_input


def model_input(model) -> KerasInput:
    """The KerasInput of ``model`` (a Keras Model), named ``<Model 'name'>``."""
    display = f"<{type(model).__name__} '{getattr(model, 'name', '?')}'>"
    try:
        spec = json.loads(model.to_json())
    except Exception as exc:  # noqa: BLE001 - a model Keras itself cannot serialize
        raise InputError(display, f"model.to_json() failed: {one_line(exc)} (a subclassed "
                                  "model without get_config cannot be linted)") from None
    if not is_model_config(spec):
        raise InputError(display, "model.to_json() is not a Keras model config")
    source = keras_input(display, _kind(model), spec, keras_version=_keras_version(model),
                         training_config=_compile_config(model))
    by_path = dict(_layers_by_path(model))
    for layer in source.layers:
        if layer.class_name in BN_CLASSES and layer.path in by_path:
            roles = _roles(by_path[layer.path])
            if roles:
                source.bn_weights[layer.path] = roles
    source.optimizer_iterations = _iterations(model)
    return source


def _kind(model) -> str:
    return "Keras archive" if type(model).__module__.startswith("keras.") else "Keras HDF5"


def _keras_version(model) -> str | None:
    """The version of the Keras package the model's class comes from (keras, tf_keras,
    tensorflow's bundled keras)."""
    module = type(model).__module__
    for root in (module.split(".")[0], "keras"):
        version = getattr(sys.modules.get(root), "__version__", None)
        if isinstance(version, str):
            return version
    return None


def _compile_config(model) -> dict | None:
    """Something (not None) when the model is compiled, as a saved file's training config."""
    if getattr(model, "optimizer", None) is None:
        return None
    getter = getattr(model, "get_compile_config", None)  # Keras 3
    try:
        config = getter() if getter is not None else None
    except Exception:  # noqa: BLE001 - older Keras: compiled is all that is asked
        config = None
    return config if isinstance(config, dict) else {"compiled": True}


def _layers_by_path(model, prefix: str = ""):
    """``(path, layer)`` for every layer, nested models' layers as ``outer/inner``."""
    for layer in getattr(model, "layers", ()):
        path = prefix + layer.name
        yield path, layer
        if getattr(layer, "layers", None):
            yield from _layers_by_path(layer, path + "/")


def _roles(layer) -> dict[str, list[float]]:
    roles = {}
    for role in BN_ROLES:
        variable = getattr(layer, role, None)
        if variable is None:
            continue
        try:
            values = variable.numpy()
        except Exception:  # noqa: BLE001 - not built yet: nothing to read
            continue
        roles[role] = [float(value) for value in values.reshape(-1)]
    return roles


def _iterations(model) -> int | None:
    optimizer = getattr(model, "optimizer", None)
    iterations = getattr(optimizer, "iterations", None)
    if iterations is None:
        return None
    try:
        return int(iterations.numpy() if hasattr(iterations, "numpy") else iterations)
    except Exception:  # noqa: BLE001 - an optimizer not built yet
        return None
