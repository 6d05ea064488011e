"""What rules can match: the kinds of subject, their facts and their relations.

A rule names a ``subject`` kind and every subject of that kind in a graph is tested against its
``match``. ``fact`` tests read the facts listed here; ``has`` follows the relations listed here
to subjects of another (or the same) kind. Reachability (``reaches``/``reached_from``) is
defined on ops, the nodes of the DAG.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..analyses import GraphFacts
from ..analyses.batchnorm import BNLayer, describe
from ..analyses.predicates import KERAS_LEARNING_PHASE
from ..analyses.variables import is_optimizer_apply
from ..graph import query
from ..graph.values import VARIABLE_OPS, input_variable


class Context:
    """One graph with its facts, and the caches rules share while matching it."""

    def __init__(self, graph, facts: GraphFacts):
        self.graph = graph
        self.facts = facts
        self.cache: dict[Any, Any] = {}
        self.steps = set(facts.training.steps)
        self.applies = set(facts.training.apply_ops)
        self.layer_of = {node: layer for layer in facts.layers for node in layer.compute_ops}
        self._ops: list[int] | None = None
        self._descriptions: dict[int, dict] = {}

    @property
    def ops(self) -> list[int]:
        if self._ops is None:
            self._ops = query.op_nodes(self.graph)
        return self._ops

    def describe(self, layer: BNLayer) -> dict:
        key = id(layer)
        if key not in self._descriptions:
            self._descriptions[key] = describe(self.graph, layer)
        return self._descriptions[key]

    def node(self, node: int) -> dict:
        return self.graph._node[node]

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


@dataclass(frozen=True)
class Relation:
    target: str  # the subject kind it leads to
    follow: Callable[[Context, Any], Iterable]
    doc: str


@dataclass(frozen=True)
class SubjectKind:
    name: str
    doc: str
    facts: dict[str, tuple[Callable[[Context, Any], Any], str]]
    relations: dict[str, Relation]
    all_subjects: Callable[[Context], Iterable]
    display: Callable[[Context, Any], str]
    anchor: Callable[[Context, Any], int]
    # Boolean facts with a precomputed set of the subjects for which they hold.
    indexes: dict[str, Callable[[Context], set]] = field(default_factory=dict)

    def fact(self, context: Context, subject, key: str):
        return self.facts[key][0](context, subject)


def _node_fact(key):
    return lambda context, node: context.node(node).get(key)


def _layer_fact(key):
    return lambda context, layer: context.describe(layer)[key]


def _variable_writers(context: Context, node: int):
    return context.facts.writes.get(node, ())


def _variable(context: Context, node: int):
    variable = input_variable(context.graph, node, 0)
    return () if variable is None else (variable,)


def _optional(*values):
    return tuple(value for value in values if value is not None)


OP = SubjectKind(
    name="op",
    doc="An op (a node of the graph, including the ops of inlined function bodies).",
    facts={
        "op": (_node_fact("op"), "the op type, e.g. FusedBatchNormV3"),
        "name": (_node_fact("name"), "the node name"),
        "device": (_node_fact("device"), "the requested device"),
        "function": (_node_fact("function"), "the library function the op was instantiated from"),
        "in_function": (lambda c, n: c.node(n).get("function") is not None,
                        "true for an op inside a function body (cond branch, loop, call)"),
        "training_step": (lambda c, n: n in c.steps,
                          "true for an op that runs a training step (train op)"),
        "optimizer_apply": (lambda c, n: is_optimizer_apply(c.node(n)["op"]),
                            "true for an optimizer update (ApplyAdam, ResourceApplyMomentum ...)"),
        "variable": (lambda c, n: c.node(n)["op"] in VARIABLE_OPS,
                     "true for a variable (VariableV2, VarHandleOp)"),
        "bn_compute": (lambda c, n: n in c.layer_of,
                       "true for an op that normalizes for a batch-norm layer"),
        "layer": (lambda c, n: c.layer_of[n].name if n in c.layer_of else None,
                  "the batch-norm layer an op normalizes for"),
    },
    relations={
        "inputs": Relation("op", lambda c, n: query.producers(c.graph, n, "data"),
                           "the ops whose outputs it takes"),
        "control_inputs": Relation("op", lambda c, n: query.control_inputs(c.graph, n),
                                   "the ops it waits for"),
        "consumers": Relation("op", lambda c, n: query.consumers(c.graph, n, "data"),
                              "the ops that take its outputs"),
        "control_consumers": Relation("op", lambda c, n: query.consumers(c.graph, n, "control"),
                                      "the ops that wait for it"),
        "writers": Relation("op", _variable_writers,
                            "for a variable: the assign and optimizer ops that write it"),
        "variable": Relation("op", _variable, "the variable its first input reads or writes"),
        "layer": Relation("bn_layer", lambda c, n: _optional(c.layer_of.get(n)),
                          "the batch-norm layer it normalizes for"),
    },
    all_subjects=lambda context: context.ops,
    display=lambda context, node: context.node(node)["name"],
    anchor=lambda context, node: node,
    indexes={
        "training_step": lambda context: context.steps,
        "optimizer_apply": lambda context: context.applies,
        "bn_compute": lambda context: context.layer_of,
    },
)

_LAYER_FACT_DOCS = {
    "name": "the layer's scope, e.g. block3/bn",
    "form": "fused (FusedBatchNorm ops) or non-fused (tf.nn.batch_normalization arithmetic)",
    "mode": "training, inference, or switched (a cond on a predicate)",
    "data_format": "NHWC or NCHW for fused ops",
    "input": "the op producing the normalized tensor",
    "gamma": "the scale variable (or frozen constant)",
    "beta": "the offset variable (or frozen constant)",
    "moving_mean": "the moving-mean variable (or frozen constant)",
    "moving_variance": "the moving-variance variable (or frozen constant)",
    "parameters": "variables, constants (a frozen graph) or none",
    "has_moving_statistics": "true when the layer has moving mean/variance",
    "predicate": "the node the training/inference switch comes from",
    "predicate_source": ("placeholder, placeholder_with_default, keras_learning_phase, "
                         "constant, variable, function_argument or computed"),
    "predicate_value": "the predicate's constant value or placeholder default",
    "update_ops": "the ops that assign its moving statistics",
    "training_steps": "the training steps that run (backpropagate through) the layer",
    "updating_steps": "the training steps that run its moving-average updates",
    "parameter_steps": "the training steps whose optimizer updates its gamma/beta",
    "parameters_trained": "true when some optimizer updates its gamma or beta",
    "shares_variables_with": "other calls of the layer reading the same variables",
    "compute_ops": "the ops that normalize (one per cond branch)",
    "api": "tf.keras or tf.compat.v1.layers when the graph tells (needs a MetaGraph), else none",
    "twin": "for a layer nothing trains: the trained layer it is a numbered copy of",
    "input_data_format": "data_format of the convolution/pooling producing the BN's input",
    "momentum": "the moving averages' momentum, read from the update arithmetic",
    "steps_taken": "the training steps a checkpoint records (its model.ckpt-N.meta name)",
    "initial_weight": "momentum ** steps_taken: the weight the initial values still have",
    "initial_percent": "initial_weight as a whole percentage",
    "steps_needed": "training steps until the initial values weigh less than 1%",
}

BN_LAYER = SubjectKind(
    name="bn_layer",
    doc="One call of a batch-normalization layer (both branches of its cond together).",
    facts={key: (_layer_fact(key), doc) for key, doc in _LAYER_FACT_DOCS.items()},
    relations={
        "compute_ops": Relation("op", lambda c, layer: layer.compute_ops,
                                "the ops that normalize"),
        "update_ops": Relation("op", lambda c, layer: layer.update_ops,
                               "the ops that assign its moving statistics"),
        "variables": Relation("op", lambda c, layer: layer.variables,
                              "gamma, beta, moving mean and moving variance"),
        "moving_statistics": Relation("op", lambda c, layer: layer.moving_statistics,
                                      "moving mean and moving variance"),
        "parameters": Relation("op", lambda c, layer: _optional(layer.gamma, layer.beta),
                               "gamma and beta"),
        "gamma": Relation("op", lambda c, layer: _optional(layer.gamma), "the scale"),
        "beta": Relation("op", lambda c, layer: _optional(layer.beta), "the offset"),
        "moving_mean": Relation("op", lambda c, layer: _optional(layer.moving_mean),
                                "the moving mean"),
        "moving_variance": Relation("op", lambda c, layer: _optional(layer.moving_variance),
                                    "the moving variance"),
        "predicate": Relation("op", lambda c, layer: _optional(
            layer.predicate.node if layer.predicate else None), "the predicate's source"),
        "input": Relation("op", lambda c, layer: _optional(layer.input),
                          "the op producing the normalized tensor"),
    },
    all_subjects=lambda context: context.facts.layers,
    display=lambda context, layer: layer.name,
    anchor=lambda context, layer: layer.anchor,
)

KINDS: dict[str, SubjectKind] = {kind.name: kind for kind in (OP, BN_LAYER)}

GRAPH_FACTS = {
    "training": "true when the graph has optimizer apply ops (a training graph)",
    "format": "GraphDef, MetaGraphDef or SavedModel",
    "encoding": "binary or text",
    "tags": "the MetaGraph's tags (SavedModel tag-set)",
    "training_steps": "the names of the training steps",
    "has_train_op_collection": "true when the MetaGraph has a train_op collection",
    "keras_learning_phase": "true when Keras' learning-phase placeholder is in the graph",
    "checkpoint_step": "N for a model.ckpt-N.meta (the training steps taken), else none",
}
