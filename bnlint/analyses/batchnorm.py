"""Find batch-normalization layers in every form a TF1-era graph has, with their facts.

Forms recognised, by structure rather than by name:

* **fused**: ``FusedBatchNorm``/``V2``/``V3`` ops. ``training=flag`` puts one op in training
  and one in inference mode in the two branches of a ``tf.cond`` (``If`` functions in TF2
  control flow, ``Switch``/``Merge`` in TF1); a constant flag leaves one op.
* **non-fused**: ``tf.nn.batch_normalization`` arithmetic (``Rsqrt(variance + epsilon)``
  scaling ``x`` and the mean), as written by ``fused=False``, 2-D inputs and ``tf.nn`` users.
  Its variance comes from ``tf.nn.moments`` over the batch axis (training), from a moving-
  variance variable (inference), or from a ``tf.cond`` choosing between them. Moments that do
  not reduce over axis 0 are layer normalization, not batch normalization, and are ignored.

The ops of one layer call (both branches of its cond) form one :class:`BNLayer`: they read the
same input tensor and the same gamma/beta. Several calls of one layer (towers sharing variables
through ``reuse=True``) are several BNLayers over the same variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..graph.query import consumers, nodes_of
from ..graph.values import (
    PASS_THROUGH,
    VARIABLE_OPS,
    constant_value,
    enclosing_calls,
    input_variable,
    origins,
    variable_of,
)
from .predicates import Provenance, provenance
from .training import TrainingSteps
from .variables import ASSIGN_OPS, is_initialiser
from .warmup import warmup

FUSED_OPS = frozenset({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"})
# A fused op, or the Rsqrt of a hand-written or non-fused layer's variance.
_COMPUTE_OPS = FUSED_OPS | {"Rsqrt"}
IF_OPS = frozenset({"If", "StatelessIf", "_If"})
_STAT_THROUGH = PASS_THROUGH | {"Squeeze", "Reshape", "ExpandDims"}
_REDUCTIONS = frozenset({"Mean", "Sum"})
# normalize_moments' arithmetic between the reductions and the mean/variance it returns.
_MOMENT_ARITHMETIC = frozenset({
    "Mul", "Sub", "Square", "SquaredDifference", "RealDiv", "Div", "Inv", "Reciprocal",
    "Identity", "Squeeze", "Reshape",
})
_MOMENT_DEPTH = 4
_SCOPE_ARTIFACT = re.compile(
    r"(cond|cond_\d+|then|else|batchnorm(_\d+)?|moments(_\d+)?|FusedBatchNorm(V\d)?(_\d+)?)\Z"
)
# The walk from batch statistics to the assigns that fold them into the moving averages
# follows only the arithmetic of that update, so it cannot wander into the next layer.
_UPDATE_SEARCH_DEPTH = 12
_UPDATE_ARITHMETIC = frozenset({
    "Identity", "Sub", "Mul", "Cast", "Squeeze", "Reshape", "ExpandDims", "_Arg", "Switch",
    "Merge", "StopGradient",
})


@dataclass
class BNLayer:
    """One call of a batch-normalization layer and what the graph proves about it."""

    name: str
    form: str  # "fused" or "non-fused"
    compute_ops: list[int]
    anchor: int
    input: int | None
    data_format: str | None
    gamma: int | None = None
    beta: int | None = None
    moving_mean: int | None = None
    moving_variance: int | None = None
    mode: str = "training"  # training, inference, switched
    predicate: Provenance | None = None
    update_ops: list[int] = field(default_factory=list)
    training_steps: list[int] = field(default_factory=list)
    updating_steps: list[int] = field(default_factory=list)
    parameter_steps: list[int] = field(default_factory=list)
    parameters_trained: bool = False
    shares_variables_with: list[str] = field(default_factory=list)
    # Filled in by bnlint.analyses.context:
    api: str | None = None
    twin: str | None = None
    input_data_format: str | None = None
    momentum: float | None = None
    evaluated_by: list[str] = field(default_factory=list)
    restored_by: list[str] = field(default_factory=list)
    saved: dict[str, Any] = field(default_factory=dict)  # what a checkpoint saved for it

    @property
    def variables(self) -> list[int]:
        return [v for v in (self.gamma, self.beta, self.moving_mean, self.moving_variance)
                if v is not None]

    @property
    def moving_statistics(self) -> list[int]:
        return [v for v in (self.moving_mean, self.moving_variance) if v is not None]


@dataclass
class _Compute:
    node: int
    form: str
    x: tuple[int, int] | None
    gamma: int | None
    beta: int | None
    mean: int | None
    variance: int | None
    modes: set[bool]
    predicate: tuple[int, int] | None
    data_format: str | None = None
    batch_statistics: list[tuple[int, int]] = field(default_factory=list)


def find_bn_layers(graph, training: TrainingSteps, writes: dict[int, list[int]]) -> list[BNLayer]:
    """Every BN layer call in ``graph``, in graph order, with its facts filled in."""
    computes = []
    nodes = graph._node
    for node in nodes_of(graph, _COMPUTE_OPS):
        compute = (_fused(graph, node) if nodes[node]["op"] in FUSED_OPS
                   else _non_fused(graph, node))
        if compute is not None:
            computes.append(compute)
    groups: dict[tuple, list[_Compute]] = {}
    for compute in computes:
        groups.setdefault((compute.x, compute.gamma, compute.beta), []).append(compute)
    layers = [_layer(graph, group, writes) for group in groups.values()]
    layers = [layer for layer in layers if layer is not None]
    _anchor_at_first_node(graph, layers)
    _name_uniquely(layers)
    _relate(graph, layers, training, writes)
    layers.sort(key=lambda layer: layer.anchor)
    return layers


# -- fused -----------------------------------------------------------------------------------
def _fused(graph, node: int) -> _Compute | None:
    data = graph._node[node]
    inputs = data["inputs"]
    if len(inputs) < 3:
        return None
    attrs = data["attrs"]
    return _Compute(
        node=node, form="fused", x=_first_origin(graph, inputs[0]),
        gamma=input_variable(graph, node, 1), beta=input_variable(graph, node, 2),
        mean=_statistic(graph, node, 3), variance=_statistic(graph, node, 4),
        modes={bool(attrs.get("is_training", True))}, predicate=_branch_predicate(graph, node),
        data_format=attrs.get("data_format", "NHWC"), batch_statistics=[(node, 1), (node, 2)],
    )


def _statistic(graph, node: int, index: int) -> int | None:
    """The moving statistic a fused op reads; an empty constant (the training-only form of
    ``fused_batch_norm``) counts as none."""
    variable = input_variable(graph, node, index)
    if variable is not None and graph._node[variable]["op"] == "Const":
        value = graph._node[variable]["attrs"].get("value")
        if getattr(value, "size", 1) == 0:
            return None
    return variable


def _first_origin(graph, tensor) -> tuple[int, int]:
    return origins(graph, *tensor, through=PASS_THROUGH - {"ReadVariableOp", "Cast"})[0]


def _branch_predicate(graph, node: int) -> tuple[int, int] | None:
    """The bool tensor choosing the cond branch ``node`` is in, for both control-flow forms."""
    nodes = graph._node
    for site, _ in enclosing_calls(graph, node):
        if nodes[site]["op"] in IF_OPS and nodes[site]["inputs"]:
            return nodes[site]["inputs"][0]
    current = nodes[node]["inputs"][0] if nodes[node]["inputs"] else None
    for _ in range(8):
        if current is None:
            return None
        data = nodes[current[0]]
        if data["op"] in ("Switch", "RefSwitch") and len(data["inputs"]) > 1:
            return data["inputs"][1]
        if data["op"] not in ("Identity", "RefIdentity") or not data["inputs"]:
            return None
        current = data["inputs"][0]
    return None


# -- non-fused -------------------------------------------------------------------------------
def _non_fused(graph, rsqrt: int) -> _Compute | None:
    """Match ``tf.nn.batch_normalization``'s arithmetic around one ``Rsqrt`` op."""
    nodes = graph._node
    inputs = nodes[rsqrt]["inputs"]
    if not inputs:
        return None
    add = inputs[0][0]
    if nodes[add]["op"] not in ("Add", "AddV2") or len(nodes[add]["inputs"]) != 2:
        return None
    variance_tensor = None
    for tensor, other in ((0, 1), (1, 0)):
        if isinstance(constant_value(graph, *nodes[add]["inputs"][other]), float):
            variance_tensor = nodes[add]["inputs"][tensor]
    if variance_tensor is None:
        return None
    # ``inv = rsqrt(variance + epsilon)``, times gamma when there is one (``gamma * r`` under
    # batch renormalization): the product that scales both x and the mean.
    scale, gamma = rsqrt, None
    for user in consumers(graph, rsqrt, "data"):
        if nodes[user]["op"] == "Mul" and _scales_the_mean(graph, user):
            others = [t for t in nodes[user]["inputs"] if t[0] != rsqrt]
            scale, gamma = user, (_parameter(graph, others[0]) if others else None)
    x_tensor = mean_tensor = None
    beta = None
    for user in consumers(graph, scale, "data"):
        if nodes[user]["op"] != "Mul":
            continue
        other = next((t for t in nodes[user]["inputs"] if t[0] != scale), None)
        if other is not None and nodes[other[0]]["op"] == "Neg" and nodes[other[0]]["inputs"]:
            mean_tensor = nodes[other[0]]["inputs"][0]  # no offset: x * inv + -mean * inv
            continue
        downstream = {nodes[c]["op"]: c for c in consumers(graph, user, "data")}
        if "Sub" in downstream or "Neg" in downstream:
            mean_tensor = other
            if "Sub" in downstream and nodes[downstream["Sub"]]["inputs"]:
                beta = _parameter(graph, nodes[downstream["Sub"]]["inputs"][0])
        else:
            x_tensor = other
    if x_tensor is None or mean_tensor is None:
        return None
    variance = _statistics(graph, variance_tensor)
    mean = _statistics(graph, mean_tensor)
    if variance is None or mean is None:
        return None
    kinds = variance["kinds"] | mean["kinds"]
    if not kinds & {"batch", "moving"}:
        return None
    return _Compute(
        node=rsqrt, form="non-fused", x=_first_origin(graph, x_tensor), gamma=gamma, beta=beta,
        mean=mean["variable"], variance=variance["variable"],
        modes={kind == "batch" for kind in kinds & {"batch", "moving"}},
        predicate=variance["predicate"] or mean["predicate"], data_format=None,
        batch_statistics=mean["batch"] + variance["batch"],
    )


def _scales_the_mean(graph, node: int) -> bool:
    """True when ``node`` feeds the mean's side of ``tf.nn.batch_normalization``: a product
    with the (negated) mean that is subtracted from the offset."""
    nodes = graph._node
    for user in consumers(graph, node, "data"):
        if nodes[user]["op"] != "Mul":
            continue
        if any(nodes[source]["op"] == "Neg" for source, _ in nodes[user]["inputs"]):
            return True
        if any(nodes[c]["op"] in ("Sub", "Neg") for c in consumers(graph, user, "data")):
            return True
    return False


def _parameter(graph, tensor) -> int | None:
    """The gamma or beta variable (or frozen constant) a tensor is, directly or corrected by
    batch renormalization (``gamma * r``, ``beta + gamma * d``)."""
    found = variable_of(graph, *tensor)
    if found is not None:
        return found
    data = graph._node[tensor[0]]
    if data["op"] not in ("Mul", "Add", "AddV2"):
        return None
    for source in data["inputs"]:
        found = variable_of(graph, *source)
        if found is not None and graph._node[found]["op"] in VARIABLE_OPS:
            return found
    return None


def _statistics(graph, tensor) -> dict | None:
    """Classify a mean/variance tensor: batch moments, a moving statistic, or a cond of both.

    Returns None for moments that do not reduce over the batch axis (layer normalization).
    """
    nodes = graph._node
    kinds, variable, predicate, batch = set(), None, None, []
    for origin, port in origins(graph, *tensor, through=_STAT_THROUGH):
        data = nodes[origin]
        if data["op"] in VARIABLE_OPS or data["op"] == "Const":
            kinds.add("moving")
            variable = origin
            continue
        axes = _moment_axes(graph, origin)
        if axes is None:
            kinds.add("other")
        elif 0 not in axes:
            return None
        else:
            batch.append((origin, port))
            kinds.add("batch")
    if len(kinds & {"batch", "moving"}) == 2:
        predicate = _selector_predicate(graph, tensor)
    return {"kinds": kinds, "variable": variable, "predicate": predicate, "batch": batch}


def _moment_axes(graph, node: int) -> list | None:
    """The axes a batch moment reduces over, or None when ``node`` is no moment.

    ``tf.nn.moments`` is a ``Mean`` (TF >= 1.0) or, in TF 0.x and ``tf.nn.sufficient_statistics``
    users, ``Sum`` reductions scaled by a divisor (``normalize_moments``: ``Mul``, ``Sub`` of a
    ``Square``), so the reduction may sit a few arithmetic ops above the statistic.
    """
    nodes = graph._node
    frontier, seen = [node], {node}
    for _ in range(_MOMENT_DEPTH):
        following = []
        for current in frontier:
            data = nodes[current]
            if data["op"] in _REDUCTIONS:
                return _reduction_axes(graph, data)
            if data["op"] not in _MOMENT_ARITHMETIC:
                continue
            for source, _ in data["inputs"]:
                if source not in seen:
                    seen.add(source)
                    following.append(source)
        frontier = following
    return None


def _reduction_axes(graph, data) -> list:
    axes = constant_value(graph, *data["inputs"][1]) if len(data["inputs"]) > 1 else None
    axes = list(axes.values or ()) if hasattr(axes, "values") else axes
    return axes if isinstance(axes, list) else [axes]


def _selector_predicate(graph, tensor) -> tuple[int, int] | None:
    """The predicate of the cond (If, or Merge of Switch outputs) that selects ``tensor``."""
    nodes = graph._node
    frontier, seen = [tensor[0]], set()
    for _ in range(16):
        following = []
        for node in frontier:
            if node in seen:
                continue
            seen.add(node)
            data = nodes[node]
            if data["op"] in IF_OPS and data["inputs"]:
                return data["inputs"][0]
            if data["op"] in ("Switch", "RefSwitch") and len(data["inputs"]) > 1:
                return data["inputs"][1]
            following.extend(source for source, _ in data["inputs"])
        frontier = following
    return None


# -- grouping and facts ----------------------------------------------------------------------
def _layer(graph, group: list[_Compute], writes) -> BNLayer | None:
    nodes = graph._node
    first = group[0]
    modes = set().union(*(compute.modes for compute in group))
    mean = next((c.mean for c in group if c.mean is not None), None)
    variance = next((c.variance for c in group if c.variance is not None), None)
    if mean is None or variance is None:
        found_mean, found_variance = _updated_statistics(graph, group, writes)
        mean, variance = mean or found_mean, variance or found_variance
    if _is_normalization_trick(graph, first, mean, variance):
        return None
    predicate = next((c.predicate for c in group if c.predicate is not None), None)
    mode = "switched" if modes == {True, False} else ("training" if True in modes else "inference")
    layer = BNLayer(
        name=_layer_name(graph, first),
        form=first.form,
        compute_ops=[c.node for c in group],
        anchor=0,
        input=first.x[0] if first.x else None,
        data_format=first.data_format,
        gamma=first.gamma, beta=first.beta, moving_mean=mean, moving_variance=variance,
        mode=mode,
        predicate=provenance(graph, *predicate) if predicate is not None else None,
    )
    layer.update_ops = sorted(
        writer
        for statistic in layer.moving_statistics
        for writer in writes.get(statistic, ())
        if nodes[writer]["op"] in ASSIGN_OPS and not is_initialiser(graph, writer)
    )
    outer = [_outer_node(graph, c.node) for c in group]
    own = [v for v in layer.variables if nodes[v]["name"].startswith(layer.name + "/")]
    layer.anchor = min(outer + own)
    return layer


def _layer_name(graph, compute: _Compute) -> str:
    """The layer's scope; where the ops sit in no scope of their own (a hand-written class
    calling ``batch_norm_with_global_normalization`` at the top level: ``batchnorm_1/Rsqrt``),
    the scope of its gamma/beta variables (``g_bn1/gamma``)."""
    name = layer_scope(scoped_name(graph, compute.node))
    if "/" not in name and _SCOPE_ARTIFACT.match(name):
        for parameter in (compute.gamma, compute.beta):
            if parameter is not None and graph._node[parameter]["op"] in VARIABLE_OPS:
                scope = graph._node[parameter]["name"].rpartition("/")[0]
                if scope:
                    return scope
    return name


def _anchor_at_first_node(graph, layers: list[BNLayer]) -> None:
    """In a text graph, point each layer at the first node of its scope (the line of its first
    ``node {``); binary graphs have no lines, so the cheaper anchor stays."""
    nodes = graph._node
    if not layers or graph.graph.get("encoding") != "text":
        return
    wanted = {layer.name for layer in layers}
    first: dict[str, int] = {}
    for node, data in nodes.items():
        if data.get("call_site") is not None or data["kind"] != "op":
            continue
        scope = data["name"]
        while "/" in scope:
            scope = scope.rsplit("/", 1)[0]
            if scope in wanted and scope not in first:
                first[scope] = node
        if len(first) == len(wanted):
            break
    for layer in layers:
        layer.anchor = min(layer.anchor, first.get(layer.name, layer.anchor))


def _updated_statistics(graph, group, writes) -> tuple[int | None, int | None]:
    """Moving mean/variance of a training-only BN that does not read them: the variables
    assigned from its batch statistics (``AssignMovingAvg`` and friends)."""
    nodes = graph._node
    found: list[int] = []
    frontier = [tensor for compute in group for tensor in compute.batch_statistics]
    seen = set(frontier)
    for _ in range(_UPDATE_SEARCH_DEPTH):
        following = []
        for node, port in frontier:
            for user, user_port in _tensor_consumers(graph, node, port):
                data = nodes[user]
                if data["op"] in ASSIGN_OPS and data["inputs"]:
                    variable = variable_of(graph, *data["inputs"][0])
                    if variable is not None and variable not in found:
                        found.append(variable)
                elif (user, user_port) not in seen and (
                        data["op"] in _UPDATE_ARITHMETIC or data.get("returns")):
                    seen.add((user, user_port))
                    following.append((user, user_port))
        frontier = following
    found.sort()
    if len(found) == 2:
        return found[0], found[1]
    return (found[0] if found else None), None


def _tensor_consumers(graph, node: int, port: int | None):
    """``(consumer, output port or None)`` of the tensor ``node:port`` (any port if None).

    A function call that returns the tensor is a consumer at the matching output port.
    """
    nodes = graph._node
    for user in graph._succ[node]:
        data = nodes[user]
        if any(source == node and (port is None or p == port) for source, p in data["inputs"]):
            yield user, None
        for branch in (data.get("returns") or {}).values():
            for index, returned in enumerate(branch):
                if returned is not None and returned[0] == node and (
                        port is None or returned[1] == port):
                    yield user, index


def _is_normalization_trick(graph, compute: _Compute, mean, variance) -> bool:
    """A training-mode fused op with constant scale/offset and no statistics to update is the
    fused-kernel trick Keras' LayerNormalization uses, not a batch-norm layer."""
    if compute.form != "fused" or mean is not None or variance is not None:
        return False
    nodes = graph._node
    return all(
        param is None or nodes[param]["op"] == "Const" for param in (compute.gamma, compute.beta)
    )


def _outer_node(graph, node: int) -> int:
    """The main-graph node a function body node is instantiated under (itself otherwise)."""
    outer = node
    for site, _ in enclosing_calls(graph, node):
        outer = site
    return outer


def scoped_name(graph, node: int) -> str:
    """``node``'s name with plain function calls' prefixes left out.

    A function body copied under ``model/StatefulPartitionedCall`` is named
    ``model/StatefulPartitionedCall/sequential/bn/...``; its own scopes
    (``sequential/bn``) say which layer it is. Conditional branches keep their call site's
    name (``bn1/cond/then/...``), which is where the layer's scope lives.
    """
    nodes = graph._node
    data = nodes[node]
    site = data.get("call_site")
    if site is None:
        return data["name"]
    branch = data.get("branch")
    site_name = nodes[site]["name"]
    prefix = f"{site_name}/{branch}/" if branch else f"{site_name}/"
    local = data["name"][len(prefix):] if data["name"].startswith(prefix) else data["name"]
    if branch:
        return f"{scoped_name(graph, site)}/{branch}/{local}"
    outer = scoped_name(graph, site).rsplit("/", 1)
    return local if len(outer) == 1 else f"{outer[0]}/{local}"


def layer_scope(name: str) -> str:
    """``bn1/cond/then/FusedBatchNormV3`` -> ``bn1``; ``net/bn/batchnorm/Rsqrt`` -> ``net/bn``.

    >>> layer_scope("tower_1/block3/bn/cond/FusedBatchNormV3_1")
    'tower_1/block3/bn'
    >>> layer_scope("FusedBatchNormV3")
    'FusedBatchNormV3'
    """
    parts = name.split("/")[:-1]
    while len(parts) > 1 and _SCOPE_ARTIFACT.match(parts[-1]):
        parts.pop()
    return "/".join(parts) if parts else name


def _name_uniquely(layers: list[BNLayer]) -> None:
    seen: dict[str, int] = {}
    for layer in sorted(layers, key=lambda item: item.compute_ops[0]):
        count = seen.get(layer.name, 0) + 1
        seen[layer.name] = count
        if count > 1:
            layer.name = f"{layer.name}#{count}"


def _relate(graph, layers: list[BNLayer], training: TrainingSteps, writes) -> None:
    applies = set(training.apply_ops)
    by_variable: dict[int, list[BNLayer]] = {}
    for layer in layers:
        for variable in layer.variables:
            by_variable.setdefault(variable, []).append(layer)
    for layer in layers:
        parameter_writers = [
            writer for param in (layer.gamma, layer.beta) if param is not None
            for writer in writes.get(param, ()) if writer in applies
        ]
        layer.parameters_trained = bool(parameter_writers)
        layer.training_steps = training.steps_reaching(layer.compute_ops)
        layer.updating_steps = training.steps_reaching(layer.update_ops)
        layer.parameter_steps = training.steps_reaching(parameter_writers)
        sharing = {other.name for variable in layer.variables
                   for other in by_variable[variable] if other is not layer}
        layer.shares_variables_with = sorted(sharing)


def describe(graph, layer: BNLayer) -> dict[str, Any]:
    """The layer's facts with node ids turned into names: what rules and messages read."""
    names = graph._node

    def name(node):
        return names[node]["name"] if node is not None else None

    predicate = layer.predicate
    return {
        "name": layer.name,
        "form": layer.form,
        "mode": layer.mode,
        "data_format": layer.data_format,
        "input": name(layer.input),
        "gamma": name(layer.gamma),
        "beta": name(layer.beta),
        "moving_mean": name(layer.moving_mean),
        "moving_variance": name(layer.moving_variance),
        "parameters": _parameters(graph, layer),
        "has_moving_statistics": bool(layer.moving_statistics),
        "predicate": name(predicate.node) if predicate else None,
        "predicate_source": predicate.source if predicate else None,
        "predicate_value": predicate.value if predicate else None,
        "mode_set_by": _mode_set_by(layer, name(predicate.node) if predicate else None),
        "update_ops": [name(n) for n in layer.update_ops],
        "training_steps": [name(n) for n in layer.training_steps],
        "updating_steps": [name(n) for n in layer.updating_steps],
        "parameter_steps": [name(n) for n in layer.parameter_steps],
        "parameters_trained": layer.parameters_trained,
        "shares_variables_with": layer.shares_variables_with,
        "compute_ops": [name(n) for n in layer.compute_ops],
        "api": layer.api,
        "twin": layer.twin,
        "input_data_format": layer.input_data_format,
        "momentum": layer.momentum,
        "evaluated_by": layer.evaluated_by,
        "statistics_restored_by": layer.restored_by,
        **layer.saved,
        **warmup(layer.momentum, graph.graph.get("checkpoint_step")),
    }


def _mode_set_by(layer: BNLayer, predicate: str | None) -> str:
    """What decides the layer's mode, in words for messages."""
    if layer.predicate is None:
        flag = "True" if layer.mode == "training" else "False"
        return f"training={flag}, a constant when the graph was built"
    value = layer.predicate.value
    if isinstance(value, bool):
        value = "true" if value else "false"
    shown = "" if value is None else f" = {value}"
    return f"{layer.predicate.source.replace('_', ' ')} '{predicate}'{shown}"


def _parameters(graph, layer: BNLayer) -> str:
    ops = {graph._node[v]["op"] for v in layer.variables}
    if not ops:
        return "none"
    return "constants" if ops == {"Const"} else "variables"
