"""Where a training graph is also used to evaluate, predict or sample: its evaluation outputs.

A training-only graph with ``training=True`` as a constant is the separate-graph idiom (TF-Slim's
``train_image_classifier``, an Estimator ``model_fn``, a ``train.py`` whose ``eval.py`` builds
its own graph): correct. The same constant is a bug when the graph also computes something a
session fetches to evaluate or use the model, because that output is then computed with batch
statistics. The graph shows such outputs as sinks (nothing depends on them; a session fetches
them) of two kinds:

* **decisions**: a sink computed from an ``ArgMax``/``TopK``/``InTopK`` of the network's output
  (predicted classes, an accuracy metric) that no summary records;
* **gradients that train nothing**: a ``tf.gradients`` scope none of whose ops feed an optimizer,
  i.e. a gradient with respect to the inputs (image completion, adversarial examples, saliency).

>>> is_gradient_scope("model_0/gradients_2/conv/Conv2D_grad/Conv2DBackpropInput")
'model_0/gradients_2'
>>> is_gradient_scope("conv/weights") is None
True
"""

from __future__ import annotations

import re

from ..graph.query import ancestors, nodes_of, sinks

# A call of a layer that no training step runs (a sampler, an evaluation tower) is there to
# evaluate: every output computed through it is an evaluation output.
UNTRAINED_CALL = "every output of this call: no training step runs it"
_DECISIONS = frozenset({"ArgMax", "ArgMin", "TopKV2", "TopK", "InTopK", "InTopKV2"})
# Sinks that only describe a run (or are left over by the gradient machinery), never a use of
# the model's output.
_NOT_A_USE = re.compile(
    r"(\w*Summary(V2)?|Assert|Print(V2)?|NoOp|Shape|ShapeN|Size|Rank|ZerosLike|OnesLike|Const)\Z")
_GRADIENT_SCOPE = re.compile(r"\A((?:[^/]+/)*?gradients(?:_\d+)?)/")
_GRAD_PART = re.compile(r"(.+)_grad\Z")
# How far above a fetched output its decision op may sit (argmax -> equal -> cast -> mean).
_DECISION_DEPTH = 6


def is_gradient_scope(name: str, index=None) -> str | None:
    """The ``tf.gradients`` scope an op belongs to, or None.

    ``tf.gradients(ys, xs, name=...)`` names each op ``<scope>/<forward op>_grad/...``; with
    ``index`` (op names of the graph) the scope is found for any ``name``, else only for
    TensorFlow's default ``gradients``/``gradients_N``.
    """
    if "gradients" not in name and "_grad/" not in name:  # most names: no pattern to run
        return None
    match = _GRADIENT_SCOPE.match(name)
    if match:
        return match.group(1)
    if index is None or "_grad/" not in name:
        return None
    parts = name.split("/")
    for end, part in enumerate(parts):
        grad = _GRAD_PART.match(part)
        if grad is None:
            continue
        for start in range(1, end + 1):
            forward = "/".join([*parts[start:end], grad.group(1)])
            if forward in index:
                return "/".join(parts[:start])
    return None


def evaluation_outputs(graph, apply_ops, steps) -> dict[str, frozenset[int]]:
    """Each evaluation output of a training graph (by name) -> the ops it is computed from.

    Empty for a graph with no optimizer: everything an inference graph computes is an
    evaluation, which BN104 covers.
    """
    if not apply_ops:
        return {}
    nodes = graph._node
    steps = set(steps)
    index = graph.graph.get("index", {})
    decided = _decided(graph)
    outputs: dict[str, list[int]] = {}
    gradient_sinks: dict[str, list[int]] = {}
    not_a_use: dict[str, bool] = {}  # by op type: a few dozen of them among thousands of sinks
    for sink in sinks(graph):
        data = nodes[sink]
        op = data["op"]
        skip = not_a_use.get(op)
        if skip is None:
            skip = not_a_use[op] = bool(_NOT_A_USE.match(op))
        if skip or sink in steps:
            continue
        scope = is_gradient_scope(data["name"], index)
        if scope is not None:
            gradient_sinks.setdefault(scope, []).append(sink)
        elif sink in decided:
            outputs.setdefault(f"'{data['name']}'", []).append(sink)
    if gradient_sinks:
        # A scope the optimizer applies (directly, or through averaging across towers,
        # clipping ...) is training's own backpropagation; its dangling pieces are no use of
        # the model.
        applied = {is_gradient_scope(nodes[source]["name"], index)
                   for apply in apply_ops for source, _ in nodes[apply]["inputs"]}
        unapplied = {scope: members for scope, members in gradient_sinks.items()
                     if scope not in applied}
        feeding = ([nodes[node]["name"] for node in ancestors(graph, apply_ops, edges="data")]
                   if unapplied else [])
        for scope, members in sorted(unapplied.items()):
            prefix = scope + "/"
            if not any(name.startswith(prefix) for name in feeding):
                outputs[f"tf.gradients '{scope}'"] = members
    return {label: ancestors(graph, members, edges="data") for label, members in outputs.items()}


def _decided(graph) -> set[int]:
    """The decision ops and what is computed from them, a few ops below (argmax -> equal ->
    cast -> mean): one short walk forward from the graph's few decision ops."""
    nodes = graph._node
    frontier = nodes_of(graph, _DECISIONS)
    found = set(frontier)
    for _ in range(_DECISION_DEPTH):
        following = []
        for node in frontier:
            for user in graph._succ[node]:
                if user not in found and nodes[user]["kind"] == "op" and any(
                        source == node for source, _ in nodes[user]["inputs"]):
                    found.add(user)
                    following.append(user)
        frontier = following
    return found


def evaluated_by(outputs: dict[str, frozenset[int]], compute_ops) -> list[str]:
    """The evaluation outputs computed through any of ``compute_ops``, sorted."""
    return sorted(label for label, upstream in outputs.items()
                  if any(node in upstream for node in compute_ops))
