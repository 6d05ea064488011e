"""Facts about a graph that rules read: training steps, variable writes, BN layers.

Each analysis is a pure function of the DAG; :func:`analyze` runs them in dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import context, evaluation, saved_state
from .batchnorm import BNLayer, find_bn_layers
from .training import TrainingSteps, find_training_steps
from .variables import pretrained_restores, writes


@dataclass
class GraphFacts:
    graph: object
    training: TrainingSteps
    writes: dict[int, list[int]]
    layers: list[BNLayer]
    errors: list = field(default_factory=list)  # the checkpoint's, when it cannot be read

    @property
    def is_training_graph(self) -> bool:
        return self.training.is_training_graph


def analyze(graph, checkpoint=None) -> GraphFacts:
    """Every analysis of ``graph``; with ``checkpoint`` (a :class:`bnlint.sources.checkpoint.
    Checkpoint` saved with it), also what it saved for each BN layer."""
    training = find_training_steps(graph)
    written = writes(graph)
    layers = find_bn_layers(graph, training, written)
    twins = context.twins(graph, layers)
    guarded = context.in_place_updates(graph, layers)
    outputs = evaluation.evaluation_outputs(graph, training.apply_ops, training.steps)
    pretrained = pretrained_restores(graph, training.apply_ops)
    for layer in layers:
        layer.restored_by = sorted({pretrained[v] for v in layer.moving_statistics
                                    if v in pretrained})
        layer.evaluated_by = evaluation.evaluated_by(outputs, layer.compute_ops)
        if training.is_training_graph and not layer.training_steps:
            layer.evaluated_by.append(evaluation.UNTRAINED_CALL)
        layer.api = context.api(graph, layer, guarded)
        layer.twin = twins.get(id(layer))
        layer.input_data_format = context.input_data_format(graph, layer)
        layer.momentum = context.momentum(graph, layer)
    saved, errors = saved_state.saved_facts(graph, layers, checkpoint)
    for layer in layers:
        layer.saved = saved.get(id(layer), saved_state.EMPTY)
    return GraphFacts(graph, training, written, layers, errors)
