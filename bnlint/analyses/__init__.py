"""Facts about a graph that rules read: training steps, variable writes, BN layers.

Each analysis is a pure function of the DAG; :func:`analyze` runs them in dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import context
from .batchnorm import BNLayer, find_bn_layers
from .training import TrainingSteps, find_training_steps
from .variables import writes


@dataclass
class GraphFacts:
    graph: object
    training: TrainingSteps
    writes: dict[int, list[int]]
    layers: list[BNLayer]

    @property
    def is_training_graph(self) -> bool:
        return self.training.is_training_graph


def analyze(graph) -> GraphFacts:
    training = find_training_steps(graph)
    written = writes(graph)
    layers = find_bn_layers(graph, training, written)
    twins = context.twins(layers)
    for layer in layers:
        layer.api = context.api(graph, layer)
        layer.twin = twins.get(id(layer))
        layer.input_data_format = context.input_data_format(graph, layer)
        layer.momentum = context.momentum(graph, layer)
    return GraphFacts(graph, training, written, layers)
