"""Training steps: the optimizer apply ops and the train ops that run them.

A graph with optimizer apply ops is a *training graph*. Its *training steps* are the ops a
session runs to train: the MetaGraph's ``train_op`` collection when it names ops that run an
apply op (``Optimizer.minimize`` fills it), otherwise every sink of the graph that runs one.
Dangling gradient ``tuple/control_dependency`` ops are ancestors of the apply ops, not
descendants, so they are never mistaken for steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..graph.query import ancestors, descendants, sinks
from .variables import is_optimizer_apply


@dataclass
class TrainingSteps:
    apply_ops: list[int]
    steps: list[int]
    ancestors: dict[int, set[int]] = field(default_factory=dict)
    from_collection: bool = False

    @property
    def is_training_graph(self) -> bool:
        return bool(self.apply_ops)

    def steps_reaching(self, nodes) -> list[int]:
        """The steps that run (have as ancestors) any of ``nodes``."""
        return [step for step in self.steps if any(node in self.ancestors[step] for node in nodes)]


def find_training_steps(graph) -> TrainingSteps:
    nodes = graph._node
    apply_ops = [node for node, data in nodes.items() if is_optimizer_apply(data["op"])]
    if not apply_ops:
        return TrainingSteps([], [])
    index = graph.graph.get("index", {})
    apply_set = set(apply_ops)
    collected = []
    for name in graph.graph.get("collections", {}).get("train_op", []):
        node = index.get(name)
        if node is not None and node not in collected:
            collected.append(node)
    steps, reach = [], {}
    for node in collected:
        found = ancestors(graph, [node])
        if node in apply_set or found & apply_set:
            steps.append(node)
            reach[node] = found | {node}
    from_collection = bool(steps)
    if not steps:
        downstream = descendants(graph, apply_ops) | apply_set
        for node in sinks(graph):
            if node in downstream:
                steps.append(node)
                reach[node] = ancestors(graph, [node]) | {node}
    return TrainingSteps(apply_ops, steps, reach, from_collection)
