"""What rules can match: the kinds of subject, their facts and their relations.

A rule names a ``subject`` kind and every subject of that kind in a graph is tested against its
``match``. ``fact`` tests read the facts listed here; ``has`` follows the relations listed here
to subjects of another (or the same) kind. Reachability (``reaches``/``reached_from``), ``op``
and ``attr`` apply to the kinds whose subjects are the DAG's nodes: ops of a TensorFlow graph,
layers of a Keras model. Each kind belongs to one front end; a rule runs on the graphs of its
subject's front end only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..analyses.variables import is_optimizer_apply
from ..graph import query
from ..graph.values import VARIABLE_OPS, input_variable
from .context import Context


@dataclass(frozen=True)
class Relation:
    target: str  # the subject kind it leads to
    follow: Callable[[Context, Any], Iterable]
    doc: str


@dataclass(frozen=True)
class SubjectKind:
    name: str
    doc: str
    frontend: str  # tf or keras
    is_node: bool  # subjects are the DAG's nodes
    facts: dict[str, tuple[Callable[[Context, Any], Any], str]]
    relations: dict[str, Relation]
    all_subjects: Callable[[Context], Iterable]
    display: Callable[[Context, Any], str]
    anchor: Callable[[Context, Any], int]
    # Boolean facts with a precomputed set of the subjects for which they hold.
    indexes: dict[str, Callable[[Context], set]] = field(default_factory=dict)
    # The ops whose creation in Python a finding reports (first known wins); none for Keras.
    origins: Callable[[Context, Any], Iterable[int]] = lambda context, subject: ()

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
    frontend="tf",
    is_node=True,
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
    all_subjects=lambda context: context.nodes,
    display=lambda context, node: context.node(node)["name"],
    anchor=lambda context, node: node,
    origins=lambda context, node: (node,),
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
    "mode_set_by": "what decides the mode, in words (a constant training=, or the predicate)",
    "update_ops": "the ops that assign its moving statistics",
    "training_steps": "the training steps that run (backpropagate through) the layer",
    "updating_steps": "the training steps that run its moving-average updates",
    "parameter_steps": "the training steps whose optimizer updates its gamma/beta",
    "parameters_trained": "true when some optimizer updates its gamma or beta",
    "shares_variables_with": "other calls of the layer reading the same variables",
    "compute_ops": "the ops that normalize (one per cond branch)",
    "api": "tf.keras or tf.compat.v1.layers when the graph tells (needs a MetaGraph), else none",
    "twin": ("for a layer nothing trains: the trained layer it is a copy of (numbered like "
             "it, or mirroring its upstream ops)"),
    "input_data_format": "data_format of the convolution/pooling producing the BN's input",
    "momentum": "the moving averages' momentum, read from the update arithmetic",
    "saved_statistics": ("what the checkpoint saved with the graph holds for its moving "
                         "statistics: untrained (exactly 0 and 1 while gamma/beta moved), "
                         "initial (exactly 0 and 1), trained, corrupt, or none without one"),
    "saved_evidence": "words for messages: what the checkpoint shows, when it confirms a bug",
    "saved_corruption": "how the saved moving statistics are corrupt (NaN, Inf, negative)",
    "saved_initial_share": ("share of channels whose saved moving mean is within 0.1 of 0 and "
                            "moving variance within 10% of 1"),
    "saved_step": "the training steps the checkpoint records (its global step)",
    "statistics_restored_by": ("how its moving statistics are restored from a pretrained "
                               "checkpoint (a second Saver's scope, init_from_checkpoint), "
                               "if they are"),
    "evaluated_by": ("in a training graph: the outputs computed through the layer that evaluate "
                     "or use the model (predicted classes, accuracy, gradients with respect to "
                     "the inputs), not train it"),
    "steps_taken": "the training steps a checkpoint records (its model.ckpt-N.meta name)",
    "initial_weight": "momentum ** steps_taken: the weight the initial values still have",
    "initial_percent": "initial_weight as a whole percentage",
    "steps_needed": "training steps until the initial values weigh less than 1%",
}

def _layer_origins(layer) -> tuple[int, ...]:
    """Its normalizing ops, then its first node, then its variables: ``export_meta_graph``
    keeps ten frames of each stack, which for ops made deep inside Keras never reach the user's
    code, while a variable's stack does. A layer sharing its variables with another call gives
    them no say: they were made by that other call."""
    variables = () if layer.shares_variables_with else tuple(layer.variables)
    return (*layer.compute_ops, layer.anchor, *variables)


BN_LAYER = SubjectKind(
    name="bn_layer",
    doc="One call of a batch-normalization layer (both branches of its cond together).",
    frontend="tf",
    is_node=False,
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
        "training_steps": Relation("op", lambda c, layer: layer.training_steps,
                                   "the training steps that run it (the ops a session fetches)"),
    },
    all_subjects=lambda context: context.facts.layers,
    display=lambda context, layer: layer.name,
    anchor=lambda context, layer: layer.anchor,
    origins=lambda context, layer: _layer_origins(layer),
)

_KERAS_FACT_DOCS = {
    "name": "the layer's path from the outermost model, e.g. backbone/block_3_bn",
    "class_name": "the layer's class, e.g. BatchNormalization",
    "kind": "layer, or model for a model used as a layer",
    "container": "the model the layer belongs to",
    "in_nested_model": "true for a layer of a model used inside another model",
    "trainable": "the layer's own trainable flag",
    "effectively_trainable": "trainable, and every model around it trainable too",
    "training_argument": "the training= its call (or an enclosing model's call) passes and "
                         "that holds during fit, or none (Keras 3 passes fit's training=True "
                         "through any training=False)",
    "training_note": "why a training=False call does not count (Keras 3), or empty",
    "inference_fix": "how to keep the layer in inference mode in the Keras that saved it",
    "container_has_frozen_layers": "true when some layer of the same model is not trainable",
    "is_bn": "true for a batch-normalization layer",
    "keras_version": "the Keras version that saved the model",
    "input_layers": "(BN) the layers that feed it",
    "axis": "(BN) the axis it normalizes",
    "momentum": "(BN) the moving averages' momentum",
    "axis_position": "(BN) first or last: where its axis sits in an image tensor",
    "channel_position": "(BN) first or last: where the channels of its input are",
    "steps_taken": "(BN) the optimizer's saved step counter",
    "initial_weight": "(BN) momentum ** steps_taken: the weight initial values still have",
    "initial_percent": "(BN) initial_weight as a whole percentage",
    "steps_needed": "(BN) training steps until the initial values weigh less than 1%",
    "weights_saved": "(BN) true when the file holds its gamma/beta and moving statistics",
    "moving_statistics_initial": "(BN) saved moving mean all 0 and moving variance all 1",
    "parameters_moved": "(BN) saved gamma or beta differ from their initial 1 and 0",
    "frozen_semantics": "(BN) what trainable=False means for the saved Keras version",
}


def _keras_fact(key):
    return lambda context, node: context.layer(node).get(key)


def _container(context, node):
    container = context.node(node)["container"]
    return () if container is None else (container,)


LAYER = SubjectKind(
    name="layer",
    doc="A layer of a Keras model (nested models' layers included; a nested model is one too).",
    frontend="keras",
    is_node=True,
    facts={key: (_keras_fact(key), doc) for key, doc in _KERAS_FACT_DOCS.items()},
    relations={
        "inputs": Relation("layer", lambda c, n: sorted(c.graph._pred[n]),
                           "the layers whose outputs it takes"),
        "consumers": Relation("layer", lambda c, n: sorted(c.graph._succ[n]),
                              "the layers that take its outputs"),
        "container": Relation("layer", _container, "the model it belongs to"),
        "members": Relation("layer", lambda c, n: [m for m, data in c.graph._node.items()
                                                   if data["container"] == n],
                            "for a model: its layers"),
    },
    all_subjects=lambda context: context.nodes,
    display=lambda context, node: context.node(node)["name"],
    anchor=lambda context, node: node,
    indexes={"is_bn": lambda context: context.bn_layers},
)

KINDS: dict[str, SubjectKind] = {kind.name: kind for kind in (OP, BN_LAYER, LAYER)}

GRAPH_FACTS = {
    "training": "true when the graph has optimizer apply ops (a training graph)",
    "format": "GraphDef, MetaGraphDef or SavedModel",
    "encoding": "binary or text",
    "tags": "the MetaGraph's tags (SavedModel tag-set)",
    "training_steps": "the names of the training steps",
    "has_train_op_collection": "true when the MetaGraph has a train_op collection",
    "keras_learning_phase": "true when Keras' learning-phase placeholder is in the graph",
    "checkpoint_step": "N for a model.ckpt-N.meta (the training steps taken), else none",
    "keras_version": "(Keras) the Keras version that saved the model",
    "legacy_frozen_bn": "(Keras) saved by Keras before 2.1.3: trainable=False BN still trains",
    "optimizer_iterations": "(Keras) the optimizer's saved step counter, if saved",
    "batch_size": "(Keras) the fixed batch size of the model's inputs, if fixed",
    "has_lambda": "(Keras) true when the model has Lambda layers (never run, opaque)",
    "compiled": "(Keras) true when the file carries a training (compile) config",
}
