"""What rules see of one analysed graph, and the caches they share while matching it."""

from __future__ import annotations

from typing import Any

from ..analyses.batchnorm import BNLayer, describe
from ..analyses.predicates import KERAS_LEARNING_PHASE
from ..graph import query


class Context:
    """A TensorFlow graph: ops, BN layers and training steps."""

    frontend = "tf"

    def __init__(self, graph, facts):
        self.graph = graph
        self.facts = facts
        self.cache: dict[Any, Any] = {}
        self._nodes: list[int] | None = None
        self._descriptions: dict[int, dict] = {}
        self._steps: set[int] | None = None
        self._layer_of: dict[int, BNLayer] | None = None

    @property
    def nodes(self) -> list[int]:
        """The DAG's subjects (ops here), for reachability."""
        if self._nodes is None:
            self._nodes = query.op_nodes(self.graph)
        return self._nodes

    def node(self, node: int) -> dict:
        return self.graph._node[node]

    @property
    def steps(self) -> set[int]:
        if self._steps is None:
            self._steps = set(self.facts.training.steps)
        return self._steps

    @property
    def applies(self) -> set[int]:
        return set(self.facts.training.apply_ops)

    @property
    def layer_of(self) -> dict[int, BNLayer]:
        if self._layer_of is None:
            self._layer_of = {node: layer for layer in self.facts.layers
                              for node in layer.compute_ops}
        return self._layer_of

    def describe(self, layer: BNLayer) -> dict:
        key = id(layer)
        if key not in self._descriptions:
            self._descriptions[key] = describe(self.graph, layer)
        return self._descriptions[key]

    def graph_facts(self) -> dict:
        if "graph_facts" not in self.cache:
            meta = self.graph.graph
            self.cache["graph_facts"] = {
                "training": self.facts.is_training_graph,
                "format": meta.get("kind"),
                "encoding": meta.get("encoding"),
                "tags": list(meta.get("tags") or ()),
                "training_steps": [self.node(s)["name"] for s in self.facts.training.steps],
                "has_train_op_collection": bool(meta.get("collections", {}).get("train_op")),
                "keras_learning_phase": any(
                    data["name"].rsplit("/", 1)[-1] == KERAS_LEARNING_PHASE
                    and data["op"] in ("Placeholder", "PlaceholderWithDefault")
                    for data in self.graph._node.values()),
                "checkpoint_step": meta.get("checkpoint_step"),
            }
        return self.cache["graph_facts"]


class KerasContext(Context):
    """A Keras model: layers, nested models, and what the file saved with them."""

    frontend = "keras"

    @property
    def nodes(self) -> list[int]:
        return list(self.graph._node)

    def layer(self, node: int) -> dict:
        return self.facts.layers[node]

    @property
    def bn_layers(self) -> set[int]:
        if "bn_layers" not in self.cache:
            self.cache["bn_layers"] = {n for n, facts in self.facts.layers.items()
                                       if facts["is_bn"]}
        return self.cache["bn_layers"]

    def graph_facts(self) -> dict:
        return self.facts.graph_facts


def context_for(graph, facts) -> Context:
    return KerasContext(graph, facts) if graph.graph.get("frontend") == "keras" else Context(
        graph, facts)
