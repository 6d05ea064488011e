"""Facts about a BN layer that come from around it rather than from the layer itself.

* :func:`api` — which API built it, as far as the graph can tell: ``tf.compat.v1.layers``
  registers its moving-average updates in the ``UPDATE_OPS`` collection, ``tf.keras`` keeps
  them in ``layer.updates`` (so does ``tf.compat.v1.layers`` with ``trainable=False``, which
  therefore reads as ``tf.keras``).
* :func:`twins` — the trained layer a never-trained layer is a copy of: a numbered copy
  (``batch_normalization_2`` of ``batch_normalization``) or a mirror by structure, the mark
  of a second tower built without ``reuse``.
* :func:`input_data_format` — the ``data_format`` of the op that produces the BN's input.
* :func:`momentum` — the decay of its moving averages, read from its update arithmetic.

>>> strip_copy_suffixes("tower_1/conv2d_3/batch_normalization_2")
'tower/conv2d/batch_normalization'
"""

from __future__ import annotations

import re

from ..graph.values import constant_value, origins, variable_of
from .batchnorm import BNLayer

KERAS = "tf.keras"
TF_LAYERS = "tf.compat.v1.layers"
IN_PLACE = "in-place updates"
# How far (in ops; control hubs are not crossed) an in-place update may sit from the
# computation it guards: the identity of a statistic (non-fused) or of the output (fused),
# through cond plumbing.
_IN_PLACE_DEPTH = 6
# How far back a copy's ops are compared with the trained layer's (deeper towers than this
# are compared by their kernels).
_MIRROR_DEPTH = 256
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


def api(graph, layer: BNLayer, guarded: frozenset[int] = frozenset()) -> str | None:
    """``tf.compat.v1.layers``, ``tf.keras``, ``in-place updates`` or None when the graph
    cannot tell.

    Updates that the layer's own computation waits for (``guarded``, see
    :func:`in_place_updates`) run whenever the layer runs: ``tf.contrib.layers.batch_norm``
    with ``updates_collections=None`` and hand-written BN that applies an
    ``ExponentialMovingAverage`` under ``control_dependencies``. Otherwise only a MetaGraph
    carries collections; a Keras layer is recognised by update ops that assign
    ``<scope>/moving_mean`` yet are absent from ``UPDATE_OPS``.
    """
    collections = graph.graph.get("collections") or {}
    if not layer.update_ops:
        return None
    if any(update in guarded for update in layer.update_ops):
        return IN_PLACE
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


def in_place_updates(graph, layers: list[BNLayer]) -> frozenset[int]:
    """The update ops that a BN computation waits for, so they run whenever it runs.

    From a layer's normalizing op, and the ops reading its normalized output, a short walk
    back over data and control edges looks for update ops (the ``identity`` that
    ``control_dependencies([update])`` puts before a statistic or after the output). Control
    hubs are not crossed: such a dependency lists one or two updates, never a hub's dozens.
    Updates that only guard ``minimize()`` run with the train op, not with the layer, and are
    never behind the layer's own ops.
    """
    nodes = graph._node
    updates = {update for layer in layers for update in layer.update_ops}
    if not updates:
        return frozenset()
    targets = {node for layer in layers for node in layer.compute_ops}
    # A fused op's output 0 is the normalized tensor; a non-fused layer's compute op is the
    # Rsqrt of its variance, which in-place updates precede.
    targets.update(user for layer in layers if layer.form == "fused"
                   for node in layer.compute_ops for user in graph._succ[node]
                   if (node, 0) in nodes[user]["inputs"])
    guarded = set()
    pred = graph._pred
    for target in targets:
        frontier, seen = [target], {target}
        for _ in range(_IN_PLACE_DEPTH):
            following = []
            for node in frontier:
                for other in pred[node]:
                    if other in seen or nodes[other]["kind"] == "hub":
                        continue
                    seen.add(other)
                    if other in updates:
                        guarded.add(other)
                    else:
                        following.append(other)
            frontier = following
    return frozenset(guarded)


def strip_copy_suffixes(name: str) -> str:
    return _COPY_SUFFIX.sub("", name)


def twins(graph, layers: list[BNLayer]) -> dict[int, str]:
    """For each layer whose variables nothing trains, the trained layer it is a copy of:
    ``{id(layer): twin name}``.

    A copy is the first trained layer with the same name up to ``_N`` copy suffixes, or else
    the one trained layer that mirrors it by structure (a tower built in another scope, whose
    names are not numbered copies): the same chain of op types back to the same input
    tensor, or the same kernel variable in the op that feeds it (convolutions reused, BN not).
    """
    trained = [layer for layer in layers if layer.parameters_trained or layer.updating_steps]
    if len(trained) == len(layers):
        return {}
    by_name: dict[str, str] = {}
    by_structure: dict[tuple, list[str]] = {}
    for layer in trained:
        by_name.setdefault(strip_copy_suffixes(layer.name), layer.name)
        for key in _structure_keys(graph, layer):
            by_structure.setdefault(key, []).append(layer.name)
    result = {}
    for layer in layers:
        if layer.parameters_trained or layer.updating_steps:
            continue
        twin = by_name.get(strip_copy_suffixes(layer.name))
        if twin is None or twin == layer.name:
            mirrors = {name for key in _structure_keys(graph, layer)
                       for name in by_structure.get(key, ())}
            twin = mirrors.pop() if len(mirrors) == 1 else None
        if twin is not None and twin != layer.name:
            result[id(layer)] = twin
    return result


def _structure_keys(graph, layer: BNLayer) -> list[tuple]:
    """What a copy of ``layer`` shares with it: ``("path", source, op types)`` from its input
    back to the graph's input, and ``("kernel", variable)`` of the op producing its input."""
    nodes = graph._node
    keys = []
    kinds, current = [], layer.input
    for _ in range(_MIRROR_DEPTH):
        if current is None:
            break
        data = nodes[current]
        kinds.append(data["op"])
        if not data["inputs"]:
            keys.append(("path", current, tuple(kinds)))
            break
        current = origins(graph, *data["inputs"][0])[0][0]
    if layer.input is not None and len(nodes[layer.input]["inputs"]) > 1:
        kernel = variable_of(graph, *nodes[layer.input]["inputs"][1])
        if kernel is not None and nodes[kernel]["op"] != "Const":
            keys.append(("kernel", kernel))
    return keys


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
