"""Facts about a BN layer that come from around it rather than from the layer itself.

* :func:`api` — which API built it, as far as the graph can tell: ``tf.compat.v1.layers``
  registers its moving-average updates in the ``UPDATE_OPS`` collection, ``tf.keras`` keeps
  them in ``layer.updates`` (so does ``tf.compat.v1.layers`` with ``trainable=False``, which
  therefore reads as ``tf.keras``).
* :func:`twins` — the trained layer a never-trained layer is a numbered copy of
  (``batch_normalization_2`` of ``batch_normalization``), the mark of a second tower built
  without ``reuse``.
* :func:`input_data_format` — the ``data_format`` of the op that produces the BN's input.
* :func:`momentum` — the decay of its moving averages, read from its update arithmetic.

>>> strip_copy_suffixes("tower_1/conv2d_3/batch_normalization_2")
'tower/conv2d/batch_normalization'
"""

from __future__ import annotations

import re

from ..graph.values import constant_value, origins
from .batchnorm import BNLayer

KERAS = "tf.keras"
TF_LAYERS = "tf.compat.v1.layers"
_COPY_SUFFIX = re.compile(r"_\d+(?=/|$)")
# Ops that keep their input's layout, between a convolution and the BN it feeds.
_LAYOUT_PRESERVING = frozenset({
    "Identity", "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus",
    "Cast", "Add", "AddV2", "Sub", "Mul", "Pad", "_Arg", "Switch", "Merge", "StopGradient",
})
_HAS_LAYOUT = frozenset({
    "Conv2D", "DepthwiseConv2dNative", "BiasAdd", "MaxPool", "AvgPool", "Conv3D",
    "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "Conv2DBackpropInput",
})


def api(graph, layer: BNLayer) -> str | None:
    """``tf.compat.v1.layers``, ``tf.keras`` or None when the graph cannot tell.

    Only a MetaGraph carries collections; a Keras layer is recognised by update ops that
    assign ``<scope>/moving_mean`` yet are absent from ``UPDATE_OPS``.
    """
    collections = graph.graph.get("collections") or {}
    if not layer.update_ops:
        return None
    updates = collections.get("update_ops", [])
    prefix = layer.name + "/"
    if any(name.startswith(prefix) for name in updates):
        return TF_LAYERS
    if graph.graph.get("kind") == "GraphDef":
        return None
    nodes = graph._node
    names = [nodes[v]["name"] for v in layer.moving_statistics]
    if names and all(name.endswith(("/moving_mean", "/moving_variance")) for name in names):
        return KERAS
    return None


def strip_copy_suffixes(name: str) -> str:
    return _COPY_SUFFIX.sub("", name)


def twins(layers: list[BNLayer]) -> dict[int, str]:
    """For each layer whose variables nothing trains, the first trained layer with the same
    name up to ``_N`` copy suffixes: ``{id(layer): twin name}``."""
    trained: dict[str, str] = {}
    for layer in layers:
        if layer.parameters_trained or layer.updating_steps:
            trained.setdefault(strip_copy_suffixes(layer.name), layer.name)
    result = {}
    for layer in layers:
        if layer.parameters_trained or layer.updating_steps:
            continue
        twin = trained.get(strip_copy_suffixes(layer.name))
        if twin is not None and twin != layer.name:
            result[id(layer)] = twin
    return result


def input_data_format(graph, layer: BNLayer) -> str | None:
    """The layout of the BN's input: the ``data_format`` of the nearest op upstream that has
    one (a convolution, bias add or pooling), through activations and other layout-keeping ops."""
    nodes = graph._node
    current = layer.input
    for _ in range(32):
        if current is None:
            return None
        data = nodes[current]
        if data["op"] in _HAS_LAYOUT:
            value = data["attrs"].get("data_format")
            return value if isinstance(value, str) and value else "NHWC"
        if data["op"] not in _LAYOUT_PRESERVING or not data["inputs"]:
            return None
        current = data["inputs"][0][0]
    return None


def momentum(graph, layer: BNLayer) -> float | None:
    """The moving averages' momentum, from an update ``AssignSub(stat, (stat - batch) * decay)``:
    ``1 - decay`` for a constant decay, or the momentum constant in ``decay = 1 - momentum``
    (a cond picks it in training mode and 1.0 otherwise)."""
    nodes = graph._node
    for update in layer.update_ops:
        data = nodes[update]
        if data["op"] not in ("AssignSub", "AssignSubVariableOp") or len(data["inputs"]) < 2:
            continue
        for scale, _ in origins(graph, *data["inputs"][1]):
            if nodes[scale]["op"] != "Mul":
                continue
            for factor in nodes[scale]["inputs"]:
                found = _decay_momentum(graph, factor)
                if found is not None:
                    return found
    return None


def _decay_momentum(graph, tensor) -> float | None:
    nodes = graph._node
    value = constant_value(graph, *tensor)
    if isinstance(value, float) and 0.0 < value < 1.0:
        return round(1.0 - value, 6)
    for origin, _ in origins(graph, *tensor):
        data = nodes[origin]
        if data["op"] != "Sub" or len(data["inputs"]) != 2:
            continue
        if constant_value(graph, *data["inputs"][0]) != 1.0:
            continue
        candidates = [constant_value(graph, node, port)
                      for node, port in origins(graph, *data["inputs"][1])]
        values = [v for v in candidates if isinstance(v, float) and 0.0 < v < 1.0]
        if values:
            return round(values[0], 6)  # float32 constants: 0.99 reads 0.9900000095...
    return None
