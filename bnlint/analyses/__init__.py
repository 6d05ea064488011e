"""Facts about a graph that rules read: training steps, variable writes, BN layers.

Each analysis is a pure function of the DAG; :func:`analyze` runs them in dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    return GraphFacts(graph, training, written, find_bn_layers(graph, training, written))
