"""Training steps: the optimizer apply ops and the train ops that run them.

A graph with optimizer apply ops is a *training graph*. Its *training steps* are the ops a
session runs to train: the sinks at or after the MetaGraph's ``train_op`` collection when it
names ops that run an apply op (``Optimizer.minimize`` fills it), otherwise every sink at or
after an apply op, less the sinks another sink makes redundant; summaries, savers and
initializers that wait for the train op are never steps, the op they wait for is. (The
collection holds ``minimize``'s op even when the user runs
``tf.group(minimize_op, *update_ops)``; that group is the sink.)
Dangling gradient ``tuple/control_dependency`` ops are ancestors of the apply ops, not
descendants, so they are never mistaken for steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..graph.query import ancestors, consumers, descendants, nodes_of
from .variables import is_optimizer_apply

_BOOKKEEPING_OPS = re.compile(r"(\w*Summary(V2)?|Save(V2|Slices)?|Restore(V2|Slice)?|"
                              r"MergeV2Checkpoints|ShardedFilename)\Z")
# A Saver's scope (save, save_1 ...) and the initializer (init, init/...).
_BOOKKEEPING_SCOPE = re.compile(r"\A(?:save(?:_\d+)?/|save\Z|init(?:/|\Z))")


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


def _undominated(graph, candidates: list[int], region: set[int]) -> list[int]:
    """Drop sinks that another sink makes redundant.

    Adam leaves ``ReadVariableOp``s of ``beta1_power`` after its update: sinks that run the
    optimizer but that nobody fetches. Within the region after the optimizer, such a sink
    depends on nothing the real train op does not depend on as well.
    """
    if len(candidates) < 2:
        return candidates
    seen = {node: _ancestors_within(graph, node, region) for node in candidates}
    kept = []
    for node in candidates:
        mine = seen[node]
        if not any(other != node and mine < seen[other] | {other} for other in candidates):
            kept.append(node)
    return kept


def _ancestors_within(graph, node: int, region: set[int]) -> set[int]:
    """The ops of ``region`` (and the hubs between them) that ``node`` depends on."""
    found, stack = set(), [node]
    pred, nodes = graph._pred, graph._node
    while stack:
        for other in pred[stack.pop()]:
            if other not in found and (other in region or nodes[other]["kind"] == "hub"):
                found.add(other)
                stack.append(other)
    return {other for other in found if nodes[other]["kind"] == "op"}


def _is_bookkeeping(graph, node: int) -> bool:
    """Summaries, savers and initializers: ops a session may run after the train op, never the
    step itself."""
    data = graph._node[node]
    return bool(_BOOKKEEPING_OPS.match(data["op"]) or _BOOKKEEPING_SCOPE.match(data["name"]))


def _fetched(graph, region) -> list[int]:
    """The ops of ``region`` a session fetches to train: its sinks once summaries, savers and
    initializers (which may wait for the train op) are left out."""
    nodes = graph._node
    found = []
    for node in region:
        if nodes[node]["kind"] != "op" or _is_bookkeeping(graph, node):
            continue
        if all(_is_bookkeeping(graph, other) for other in consumers(graph, node)):
            found.append(node)
    return sorted(found)


def find_training_steps(graph) -> TrainingSteps:
    apply_ops = nodes_of(graph, is_optimizer_apply)
    if not apply_ops:
        return TrainingSteps([], [])
    index = graph.graph.get("index", {})
    apply_set = set(apply_ops)
    collected = []
    for name in graph.graph.get("collections", {}).get("train_op", []):
        node = index.get(name)
        if node is not None and node not in collected:
            collected.append(node)
    valid = [node for node in collected
             if node in apply_set or ancestors(graph, [node]) & apply_set]
    # The ops a session runs are sinks. A collected train op that something else waits for
    # (``tf.group(minimize, *update_ops)``) is run through that sink, which is the real step.
    sources = valid or apply_ops
    downstream = descendants(graph, sources) | set(sources)
    candidates = _fetched(graph, downstream)
    steps = _undominated(graph, candidates, descendants(graph, apply_ops) | apply_set)
    reach = {step: ancestors(graph, [step]) | {step} for step in steps}
    from_collection = bool(valid)
    return TrainingSteps(apply_ops, steps, reach, from_collection)
