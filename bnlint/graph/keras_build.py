"""Build the networkx DAG of a Keras model: layers as nodes, tensors as edges.

Nodes are integers in config order (node 0 is the outermost model), each with ``name`` (the
layer's path below the outermost model, ``backbone/block_3_bn``), ``op`` (its class), ``kind``
(``"layer"``, or ``"model"`` for a model used as a layer), ``attrs`` (its config),
``container`` (the node of the model it belongs to), ``calls`` (the keyword arguments of each
of its calls), ``module`` (where Keras 2/3 say its class lives) and ``line`` (of its ``"name"``
in a JSON config, else None).

Edges run from the layer producing a tensor to the layer consuming it, with ``kind`` ``"data"``
and ``calls``, the indices of the consumer's calls that read it. A nested model is looked
through: what feeds the model feeds its input layers, and what reads the model's output reads
its output layers. A layer called several times (shared) is one node with several calls.
"""

from __future__ import annotations

import bisect
import json
import re

import networkx as nx

from ..sources.keras_config import LayerSpec
from ..sources.keras_files import KerasInput


def build_keras_graph(source: KerasInput) -> nx.DiGraph:
    layers = source.layers
    index = {layer.path: position for position, layer in enumerate(layers)}
    by_path = {layer.path: layer for layer in layers}
    lines = name_lines(source.text, layers) if source.text else {}
    graph = nx.DiGraph()
    for position, layer in enumerate(layers):
        graph.add_node(position, name=layer.path, op=layer.class_name,
                       kind="model" if layer.is_model else "layer", attrs=layer.config,
                       container=index.get(layer.container), calls=layer.call_kwargs,
                       line=lines.get(layer.path), module=layer.module, inputs=())
    for layer in layers:
        targets = ([index[path] for path in layer.inputs if path in index] if layer.is_model
                   else [index[layer.path]])
        for call, sources in enumerate(layer.calls):
            for position, (source_path, _, tensor) in enumerate(sources):
                producer = _producer(by_path, source_path, tensor)
                if producer is None or producer not in index:
                    continue
                consumers = targets if not layer.is_model else targets[position:position + 1]
                for consumer in consumers:
                    _connect(graph, index[producer], consumer, call)
    graph.graph.update(
        path=source.path, label=source.label, kind=source.kind, frontend="keras",
        index=index, keras_version=source.keras_version, backend=source.backend,
    )
    return graph


def _producer(by_path: dict[str, LayerSpec], path: str, tensor: int) -> str | None:
    """The layer that produces output ``tensor`` of ``path``, looking into nested models."""
    for _ in range(64):
        layer = by_path.get(path)
        if layer is None or not layer.is_model:
            return path
        if not layer.outputs:
            return None
        path = layer.outputs[min(tensor, len(layer.outputs) - 1)]
        tensor = 0
    return None


def _connect(graph, producer: int, consumer: int, call: int) -> None:
    if graph.has_edge(producer, consumer):
        graph.edges[producer, consumer]["calls"].append(call)
    else:
        graph.add_edge(producer, consumer, kind="data", calls=[call])


_NAME_FIELD = re.compile(r'"name"\s*:\s*("(?:[^"\\]|\\.)*")')


def name_lines(text: str, layers: list[LayerSpec]) -> dict[str, int]:
    """Line of each layer's ``"name": "..."`` in a JSON config, found in document order.

    One pass over the text collects every ``"name"`` (decoded, so escaped names match), then
    each layer takes the first occurrence of its name after the previous layer's.
    """
    occurrences: dict[str, list[int]] = {}
    starts = []
    for match in _NAME_FIELD.finditer(text):
        try:
            name = json.loads(match.group(1))
        except ValueError:
            continue
        occurrences.setdefault(name, []).append(len(starts))
        starts.append(match.start())
    result: dict[str, int] = {}
    position, offset, line = -1, 0, 1
    for layer in layers:
        candidates = occurrences.get(layer.name, ())
        found = bisect.bisect_right(candidates, position)
        if found == len(candidates):
            continue
        position = candidates[found]
        line += text.count("\n", offset, starts[position])
        offset = starts[position]
        result[layer.path] = line
    return result
