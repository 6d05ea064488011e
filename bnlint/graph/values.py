"""Where a tensor's value comes from: through identities, control-flow plumbing and calls.

A BN op in a ``tf.cond`` branch reads its gamma through a ``ReadVariableOp`` of the ``If`` node's
input, which is the ``VarHandleOp`` (through an ``_Arg`` in a body that several calls share);
in TF1 form it reads ``Switch(gamma/read)``. :func:`origins` walks such chains back to the ops
that produce the value.
"""

from __future__ import annotations

# Ops that pass one input through unchanged (input 0), as far as provenance is concerned.
PASS_THROUGH = frozenset({
    "Identity", "RefIdentity", "Snapshot", "StopGradient", "PreventGradient", "CheckNumerics",
    "EnsureShape", "Enter", "RefEnter", "Exit", "RefExit", "Switch", "RefSwitch",
    "ReadVariableOp", "Cast", "_Arg",
})
MERGES = frozenset({"Merge", "RefMerge"})
VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable", "VarHandle", "_VarHandlesOp"})
_HELD_VALUES = VARIABLE_OPS | {"Const"}  # what variable_of may answer
CALL_OPS = frozenset({
    "If", "StatelessIf", "_If", "Case", "StatelessCase", "While", "StatelessWhile", "_While",
    "PartitionedCall", "StatefulPartitionedCall",
})
MAX_DEPTH = 200


def origins(graph, node: int, port: int = 0, through=PASS_THROUGH) -> list[tuple[int, int]]:
    """The ``(node, port)`` outputs that ``node:port`` ultimately forwards, in discovery order.

    Walks back through ``through`` ops, ``Merge`` (every input), and function calls (the value
    each branch returns for that output). Several origins mean a control-flow choice; there
    is always at least one.
    """
    nodes = graph._node
    found: list[tuple[int, int]] = []
    seen = set()
    stack = [(node, port, 0)]
    while stack:
        current, out, depth = stack.pop()
        if (current, out) in seen:
            continue
        seen.add((current, out))
        data = nodes[current]
        op = data["op"]
        inputs = data["inputs"]
        if depth < MAX_DEPTH:
            if op in through and inputs:
                stack.append((*inputs[0], depth + 1))
                continue
            if op in MERGES and inputs and out == 0:
                stack.extend((source, source_port, depth + 1)
                             for source, source_port in reversed(inputs))
                continue
            returns = data.get("returns")
            if returns:
                for branch_returns in reversed(list(returns.values())):
                    if out < len(branch_returns) and branch_returns[out] is not None:
                        stack.append((*branch_returns[out], depth + 1))
                continue
        found.append((current, out))
    # A walk that only went round a cycle (Identity ops feeding each other, in a damaged
    # graph) found no origin: the tensor itself is the best answer.
    return found or [(node, port)]


def origin_nodes(graph, node: int, port: int = 0, through=PASS_THROUGH) -> list[int]:
    result = []
    for origin, _ in origins(graph, node, port, through):
        if origin not in result:
            result.append(origin)
    return result


def variable_of(graph, node: int, port: int = 0) -> int | None:
    """The variable (or frozen ``Const``) that ``node:port`` reads, if exactly one."""
    found = origin_nodes(graph, node, port)
    if len(found) == 1 and graph._node[found[0]]["op"] in _HELD_VALUES:
        return found[0]
    return None


def input_variable(graph, node: int, index: int) -> int | None:
    """:func:`variable_of` the ``index``-th data input of ``node``."""
    inputs = graph._node[node]["inputs"]
    if index >= len(inputs):
        return None
    return variable_of(graph, *inputs[index])


def constant_value(graph, node: int, port: int = 0):
    """The value of a constant reached through identities, else None."""
    found = origin_nodes(graph, node, port)
    if len(found) != 1:
        return None
    data = graph._node[found[0]]
    if data["op"] != "Const":
        return None
    return data["attrs"].get("value")


def enclosing_calls(graph, node: int):
    """Call sites around an instantiated function node, innermost first, with the branch taken."""
    nodes = graph._node
    data = nodes[node]
    while data.get("call_site") is not None:
        site = data["call_site"]
        yield site, data.get("branch")
        data = nodes[site]
