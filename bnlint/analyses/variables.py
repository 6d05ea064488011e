"""Variables and the ops that write them."""

from __future__ import annotations

import functools
import re

from ..graph.query import nodes_of
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
    return nodes_of(graph, VARIABLE_OPS)


def writes(graph) -> dict[int, list[int]]:
    """Each written variable -> the assign and optimizer-apply ops that write it."""
    result: dict[int, list[int]] = {}
    nodes = graph._node
    for node in nodes_of(graph, lambda op: op in ASSIGN_OPS or is_optimizer_apply(op)):
        data = nodes[node]
        if data["inputs"]:
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


_RESTORE_OPS = frozenset({"RestoreV2", "Restore", "RestoreSlice"})
_CHECKPOINT_INITIALIZER = re.compile(r"checkpoint_initializer(_\d+)?\Z")
INIT_FROM_CHECKPOINT = "init_from_checkpoint"
# RestoreV2 -> Identity -> AssignVariableOp (resource variables); RestoreV2 -> Assign (ref).
_RESTORE_DEPTH = 3


def restorers(graph) -> dict[str, set[int]]:
    """Each checkpoint restore mechanism of the graph -> the variables it writes.

    A ``tf.compat.v1.train.Saver`` restores through its scope's ``RestoreV2`` ops (``save``,
    ``save_1`` ...): it is named by that scope. ``init_from_checkpoint`` turns variables'
    initializers into ``checkpoint_initializer`` restores: all of them are one mechanism.
    Found forward from the few restore ops, through identities, to the assigns they feed.
    """
    nodes = graph._node
    found: dict[str, set[int]] = {}
    for restore in nodes_of(graph, _RESTORE_OPS):
        name = nodes[restore]["name"]
        label = (INIT_FROM_CHECKPOINT if _CHECKPOINT_INITIALIZER.search(name)
                 else name.rsplit("/", 1)[0])
        frontier, seen = [restore], {restore}
        for _ in range(_RESTORE_DEPTH):
            following = []
            for node in frontier:
                for user in graph._succ[node]:
                    if user in seen:
                        continue
                    op, inputs = nodes[user]["op"], nodes[user]["inputs"]
                    if op in ASSIGN_OPS and len(inputs) > 1 and inputs[1][0] == node:
                        seen.add(user)
                        variable = variable_of(graph, *inputs[0])
                        if variable is not None:
                            found.setdefault(label, set()).add(variable)
                    elif op in ("Identity", "RefIdentity"):
                        seen.add(user)
                        following.append(user)
            frontier = following
    return found


def pretrained_restores(graph, apply_ops) -> dict[int, str]:
    """Variables restored from a pretrained checkpoint -> how (a Saver's scope, or
    ``init_from_checkpoint``).

    The graph's own Saver restores every variable, the optimizer's state included (more Savers
    made the same way restore the same); a restore that brings back only part of what it does
    and none of the optimizer's state (slots, step counters) is fine-tuning from pretrained
    weights: a second ``Saver(var_list)``, slim's
    ``assign_from_checkpoint_fn``, a ``Scaffold(init_fn=...)`` or ``init_from_checkpoint``.
    """
    found = restorers(graph)
    if not found:
        return {}
    main = max(found, key=lambda label: (len(found[label]), label != INIT_FROM_CHECKPOINT))
    optimizer_state = _optimizer_state(graph, apply_ops)
    result: dict[int, str] = {}
    for label, variables in sorted(found.items()):
        partial = label == INIT_FROM_CHECKPOINT or variables < found[main]
        if not partial or variables & optimizer_state:
            continue
        for variable in variables:
            result.setdefault(variable, label)
    return result


def _optimizer_state(graph, apply_ops) -> set[int]:
    """The optimizer's own variables: the slots and counters its apply ops read besides the
    variable they update (input 0)."""
    nodes = graph._node
    state = set()
    for apply in apply_ops:
        for tensor in nodes[apply]["inputs"][1:]:
            variable = variable_of(graph, *tensor)
            if variable is not None and nodes[variable]["op"] in VARIABLE_OPS:
                state.add(variable)
    return state
