"""Variables and the ops that write them."""

from __future__ import annotations

import functools
import re

from ..graph.values import VARIABLE_OPS, origin_nodes, variable_of

# Ops whose input 0 is the variable (ref or resource handle) they write.
ASSIGN_OPS = frozenset({
    "Assign", "AssignAdd", "AssignSub", "AssignVariableOp", "AssignAddVariableOp",
    "AssignSubVariableOp", "ScatterUpdate", "ScatterAdd", "ScatterSub", "ResourceScatterUpdate",
    "ResourceScatterAdd", "ResourceScatterSub",
})
OPTIMIZER_APPLY = re.compile(r"(Resource)?(Sparse)?Apply[A-Z]\w*\Z")
# A write whose value comes from one of these only (re)initialises or restores the variable.
_INITIALISING_SOURCES = frozenset({
    "Const", "RestoreV2", "Restore", "RestoreSlice", "Placeholder", "Fill", "ZerosLike",
    "OnesLike", "VarHandleOp", "VariableV2",
})


@functools.cache
def is_optimizer_apply(op: str) -> bool:
    """``ApplyAdam``, ``ResourceApplyMomentum``, ``ResourceSparseApplyAdagrad`` ..."""
    return bool(OPTIMIZER_APPLY.match(op))


def variable_nodes(graph) -> list[int]:
    return [node for node, data in graph._node.items() if data["op"] in VARIABLE_OPS]


def writes(graph) -> dict[int, list[int]]:
    """Each written variable -> the assign and optimizer-apply ops that write it."""
    result: dict[int, list[int]] = {}
    for node, data in graph._node.items():
        op = data["op"]
        if (op in ASSIGN_OPS or is_optimizer_apply(op)) and data["inputs"]:
            variable = variable_of(graph, *data["inputs"][0])
            if variable is not None:
                result.setdefault(variable, []).append(node)
    return result


def is_initialiser(graph, writer: int) -> bool:
    """True for a write that sets a variable from an initialiser, a checkpoint or a feed."""
    data = graph._node[writer]
    if len(data["inputs"]) < 2 or data["op"] not in ASSIGN_OPS:
        return False
    sources = origin_nodes(graph, *data["inputs"][1])
    return all(
        graph._node[source]["op"] in _INITIALISING_SOURCES
        or "/Initializer/" in graph._node[source]["name"]
        for source in sources
    )
