"""Facts about the layers of a Keras model DAG (:mod:`bnlint.graph.keras_build`).

Each layer gets a dict of facts, computed once from its config, its place among nested models,
its calls, and what the file saved with it (weights, the optimizer's step counter):

>>> version_tuple("2.1.2") < (2, 1, 3) <= version_tuple("2.2.4-tf")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..sources.keras_files import KerasInput
from .warmup import warmup

BN_CLASSES = frozenset({"BatchNormalization", "SyncBatchNormalization", "BatchNormalizationV1",
                        "BatchNormalizationV2"})
DROPOUT_CLASSES = frozenset({"Dropout", "SpatialDropout1D", "SpatialDropout2D",
                             "SpatialDropout3D", "AlphaDropout", "GaussianDropout"})
# Layers that keep their input's layout, between a convolution and a BN.
_LAYOUT_PRESERVING = frozenset({
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
    "GaussianDropout", "GaussianNoise", "ActivityRegularization", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Minimum", "BatchNormalization", "LayerNormalization",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
})
# Layers with a data_format, and the rank of the tensors they make.
_RANK = {
    "Conv1D": 3, "Conv2D": 4, "Conv3D": 5, "SeparableConv1D": 3, "SeparableConv2D": 4,
    "DepthwiseConv1D": 3, "DepthwiseConv2D": 4, "Conv1DTranspose": 3, "Conv2DTranspose": 4,
    "Conv3DTranspose": 5, "MaxPooling1D": 3, "MaxPooling2D": 4, "MaxPooling3D": 5,
    "AveragePooling1D": 3, "AveragePooling2D": 4, "AveragePooling3D": 5, "UpSampling2D": 4,
    "UpSampling3D": 5, "LocallyConnected2D": 4, "Convolution2D": 4, "Convolution1D": 3,
}
LEGACY_FROZEN_BN_BEFORE = (2, 1, 3)


def version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not isinstance(version, str):
        return None
    numbers = re.findall(r"\d+", version.split("-")[0])[:3]
    return tuple(int(n) for n in numbers) if numbers else None


@dataclass
class KerasFacts:
    graph: Any
    source: KerasInput
    layers: dict[int, dict[str, Any]]
    graph_facts: dict[str, Any]
    opaque: list[tuple[int, str]]  # (node, why bnlint cannot look into it)


def analyze_keras(graph, source: KerasInput) -> KerasFacts:
    nodes = graph._node
    version = version_tuple(source.keras_version)
    graph_facts = {
        "format": source.kind,
        "keras_version": source.keras_version,
        "legacy_frozen_bn": version is not None and version < LEGACY_FROZEN_BN_BEFORE,
        "optimizer_iterations": source.optimizer_iterations,
        "batch_size": _batch_size(graph),
        "has_lambda": any(data["op"] == "Lambda" for data in nodes.values()),
        "compiled": source.training_config is not None,
        "training_passed_through": version is not None and version >= (3,),
    }
    frozen_containers = {data["container"] for data in nodes.values()
                         if data["attrs"].get("trainable", True) is False}
    layers = {node: _layer_facts(graph, node, source, graph_facts, frozen_containers)
              for node in nodes}
    return KerasFacts(graph, source, layers, graph_facts, _opaque_layers(graph))


def _opaque_layers(graph) -> list[tuple[int, str]]:
    """Lambda layers (their code is marshalled bytecode, never run) and layer classes from the
    user's own modules: bnlint lints around them."""
    found = []
    for node, data in graph._node.items():
        module = data.get("module")
        if data["op"] == "Lambda":
            found.append((node, "Lambda layer: its code is neither run nor analysed"))
        elif isinstance(module, str) and module.split(".")[0] not in ("keras", "tf_keras",
                                                                      "tensorflow"):
            if data["kind"] == "model" and data.get("container") is None:
                found.append((node, f"subclassed model {data['op']} (module {module}): its "
                                    "layers are Python code, not in the file; only its saved "
                                    "weights are checked"))
            else:
                found.append((node, f"custom layer class {data['op']} (module {module}): "
                                    "treated as opaque"))
    return found


def _batch_size(graph) -> int | None:
    """The fixed batch size of the outermost model's inputs, if every input fixes one."""
    sizes = set()
    for data in graph._node.values():
        if data["op"] != "InputLayer" or data["container"] not in (None, 0):
            continue
        config = data["attrs"]
        shape = config.get("batch_input_shape") or config.get("batch_shape")
        if isinstance(config.get("batch_size"), int):
            sizes.add(config["batch_size"])
        elif isinstance(shape, list) and shape:
            sizes.add(shape[0])
    return sizes.pop() if len(sizes) == 1 and isinstance(next(iter(sizes)), int) else None


def _containers(graph, node: int):
    nodes = graph._node
    container, seen = nodes[node]["container"], {node}
    while container is not None and container not in seen:
        seen.add(container)
        yield container
        container = nodes[container]["container"]


def _training_argument(graph, node: int):
    """The ``training=`` this layer is called with, or that an enclosing model is called with
    (innermost first); None when no call passes one."""
    nodes = graph._node
    for layer in (node, *_containers(graph, node)):
        values = {kwargs.get("training") for kwargs in nodes[layer]["calls"]
                  if isinstance(kwargs, dict) and "training" in kwargs}
        values.discard(None)
        if len(values) == 1:
            return values.pop()
    return None


_PASSED_THROUGH_NOTE = (" (its call's training=False does not count: Keras 3 passes fit's "
                        "training=True through it)")
_FREEZE_BN_FIX = (
    "freeze the BN layers themselves (`layer.trainable = False` for each BatchNormalization; "
    "in Keras 3 that also runs them in inference mode): a call's `training=False` does not hold "
    "in Keras 3, where fit's training=True reaches every layer of a Functional model")
_TRAINING_FALSE_FIX = (
    "call the backbone in inference mode, `base_model(inputs, training=False)`, so its BN "
    "layers keep their pretrained statistics even where their weights are unfrozen")


def _layer_facts(graph, node: int, source: KerasInput, graph_facts,
                 frozen_containers: set[int]) -> dict[str, Any]:
    nodes = graph._node
    data = nodes[node]
    config = data["attrs"]
    containers = list(_containers(graph, node))
    own_trainable = config.get("trainable", True) is not False
    # Keras 3 passes fit's training=True through every call of a Functional model, a call's own
    # training=False included (checked in Keras 3.15: the moving statistics of a BN called with
    # training=False still move during fit); tf.keras and tf-keras keep it.
    passed_through = graph_facts["training_passed_through"]
    called_with = _training_argument(graph, node)
    facts: dict[str, Any] = {
        "name": data["name"],
        "class_name": data["op"],
        "kind": data["kind"],
        "container": nodes[containers[0]]["name"] if containers else None,
        "in_nested_model": len(containers) > 1,
        "trainable": own_trainable,
        "effectively_trainable": own_trainable and all(
            nodes[c]["attrs"].get("trainable", True) is not False for c in containers),
        "training_argument": None if passed_through else called_with,
        "training_note": _PASSED_THROUGH_NOTE if passed_through and called_with is False else "",
        "inference_fix": _FREEZE_BN_FIX if passed_through else _TRAINING_FALSE_FIX,
        "container_has_frozen_layers": bool(containers) and containers[0] in frozen_containers,
        "is_bn": data["op"] in BN_CLASSES,
        "keras_version": graph_facts["keras_version"],
    }
    if facts["is_bn"]:
        facts.update(_bn_facts(graph, node, source, graph_facts))
    return facts


def _bn_facts(graph, node: int, source: KerasInput, graph_facts) -> dict[str, Any]:
    config = graph._node[node]["attrs"]
    momentum = config.get("momentum", 0.99)
    momentum = momentum if isinstance(momentum, (int, float)) else None
    axis = config.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    channel, rank = _channel_position(graph, node)
    weights = source.bn_weights.get(graph._node[node]["name"], {})
    nodes = graph._node
    return {
        "input_layers": [nodes[p]["name"] for p in sorted(graph._pred[node])],
        "axis": axis,
        "momentum": momentum,
        "axis_position": _axis_position(axis, _rank(config) or rank),
        "channel_position": channel,
        **warmup(momentum, graph_facts["optimizer_iterations"]),
        "weights_saved": bool(weights),
        "moving_statistics_initial": _all(weights.get("moving_mean"), 0.0)
        and _all(weights.get("moving_variance"), 1.0),
        "parameters_moved": not (_all(weights.get("gamma"), 1.0, missing=True)
                                 and _all(weights.get("beta"), 0.0, missing=True)),
        "frozen_semantics": ("batch statistics and moving-average updates (Keras < 2.1.3)"
                             if graph_facts["legacy_frozen_bn"] else "inference mode"),
    }


def _all(values, expected: float, missing: bool = False) -> bool:
    if not values:
        return missing
    return all(value == expected for value in values)


def _rank(config) -> int | None:
    build = config.get("build_config")
    shape = (build or {}).get("input_shape") if isinstance(build, dict) else None
    shape = shape or config.get("batch_input_shape")
    return len(shape) if isinstance(shape, list) else None


def _axis_position(axis, rank: int | None) -> str | None:
    """``first`` (axis 1) or ``last`` (axis -1 or rank-1) for an image tensor, else None."""
    if not isinstance(axis, int):
        return None
    if axis == -1 or (rank is not None and axis == rank - 1):
        return "last"
    if axis == 1 and (rank is None or rank > 2):
        return "first"
    return None


def _channel_position(graph, node: int) -> tuple[str | None, int | None]:
    """Where the channels are in the BN's input: from the ``data_format`` of the nearest
    convolution or pooling upstream, through layout-keeping layers."""
    nodes = graph._node
    current = node
    for _ in range(64):
        producers = list(graph.predecessors(current))
        if not producers:
            return None, None
        current = producers[0]
        data = nodes[current]
        if data["op"] in _RANK:
            data_format = data["attrs"].get("data_format") or "channels_last"
            return ("first" if data_format == "channels_first" else "last"), _RANK[data["op"]]
        if data["op"] not in _LAYOUT_PRESERVING:
            return None, None
    return None, None
