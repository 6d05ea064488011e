"""Where a BN layer's training/inference switch comes from.

``tf.compat.v1.layers.batch_normalization(x, training=flag)`` builds a ``tf.cond`` on ``flag``;
what matters to a reviewer is what ``flag`` is: a bool placeholder (good), a
``placeholder_with_default`` (and its default), a constant, a variable, or Keras' learning
phase (``keras_learning_phase``, a ``PlaceholderWithDefault(False)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..graph.values import VARIABLE_OPS, constant_value, origins

_BOOL_THROUGH = frozenset({
    "Identity", "RefIdentity", "Snapshot", "Switch", "RefSwitch", "Enter", "RefEnter", "Cast",
    "_Arg", "ReadVariableOp", "Squeeze", "Reshape", "StopGradient",
})
KERAS_LEARNING_PHASE = "keras_learning_phase"


@dataclass(frozen=True)
class Provenance:
    source: str  # placeholder, placeholder_with_default, keras_learning_phase, constant,
    #              variable, function_argument, computed
    node: int
    value: Any = None  # the constant's value, or the placeholder_with_default's default


def provenance(graph, node: int, port: int = 0) -> Provenance:
    found = origins(graph, node, port, through=_BOOL_THROUGH)
    origin, _ = found[0]
    data = graph._node[origin]
    op = data["op"]
    if len(found) > 1:
        return Provenance("computed", origin)
    if op == "Placeholder":
        return Provenance("placeholder", origin)
    if op == "PlaceholderWithDefault":
        default = constant_value(graph, *data["inputs"][0]) if data["inputs"] else None
        source = ("keras_learning_phase" if data["name"].rsplit("/", 1)[-1] == KERAS_LEARNING_PHASE
                  else "placeholder_with_default")
        return Provenance(source, origin, _as_bool(default))
    if op == "Const":
        return Provenance("constant", origin, _as_bool(data["attrs"].get("value")))
    if op in VARIABLE_OPS:
        return Provenance("variable", origin)
    if op == "_Arg":
        return Provenance("function_argument", origin)
    return Provenance("computed", origin)


def _as_bool(value):
    if isinstance(value, (bool, int, float)):
        return bool(value)
    return value
