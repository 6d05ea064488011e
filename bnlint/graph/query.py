"""Questions about the DAG built by :mod:`bnlint.graph.build`, as pure functions.

Reachability is computed for a whole set of targets in one traversal, so asking "which nodes
reach any training step" costs one pass over the graph, not one per node.

>>> import networkx as nx
>>> g = nx.DiGraph()
>>> g.add_nodes_from((n, {"kind": "op", "inputs": ()}) for n in range(4))
>>> g.add_edge(0, 1, kind="data"); g.add_edge(1, 2, kind="data"); g.add_edge(3, 2, kind="control")
>>> sorted(ancestors(g, [2]))
[0, 1, 3]
>>> sorted(ancestors(g, [2], edges="data"))
[0, 1]
>>> sorted(descendants(g, [0], stop={1}))
[1]
"""

from __future__ import annotations

from collections.abc import Iterable

EDGE_KINDS = ("data", "control", "any")


def op_nodes(graph) -> list[int]:
    """Every node that is an op (not a control hub), in graph order."""
    return [node for node, data in graph._node.items() if data["kind"] == "op"]


def nodes_by_op(graph) -> dict[str, list[int]]:
    """Each op type of the graph -> its nodes, in graph order. One pass, once per graph: the
    analyses that look for a few op types (BN ops, optimizers, assigns, restores) share it
    instead of each scanning every node."""
    found = graph.graph.get("nodes_by_op")
    if found is None:
        found = {}
        for node, data in graph._node.items():
            nodes = found.get(data["op"])
            if nodes is None:
                found[data["op"]] = [node]
            else:
                nodes.append(node)
        graph.graph["nodes_by_op"] = found
    return found


def nodes_of(graph, ops) -> list[int]:
    """The nodes whose op is in ``ops`` (a collection of op types, or a test of one), in graph
    order.

    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_nodes_from([(0, {"op": "Const"}), (1, {"op": "Rsqrt"}), (2, {"op": "Const"})])
    >>> nodes_of(g, {"Const"}), nodes_of(g, lambda op: op.startswith("R"))
    ([0, 2], [1])
    """
    index = nodes_by_op(graph)
    test = ops if callable(ops) else ops.__contains__
    chosen = [nodes for op, nodes in index.items() if test(op)]
    if len(chosen) == 1:
        return list(chosen[0])
    return sorted(node for nodes in chosen for node in nodes)


def _walk(adjacency, start: Iterable[int], edges: str, stop) -> set[int]:
    seen: set[int] = set()
    pending = list(start)  # the order of a visit does not change the set it finds
    if edges == "any" and stop is None:  # most walks: no edge to look at
        while pending:
            for other in adjacency[pending.pop()]:
                if other not in seen:
                    seen.add(other)
                    pending.append(other)
        return seen
    want = None if edges == "any" else edges
    while pending:
        node = pending.pop()
        for other, edge in adjacency[node].items():
            if other in seen or (want is not None and edge["kind"] != want):
                continue
            seen.add(other)
            if stop is None or other not in stop:
                pending.append(other)
    return seen


def _memo_walk(graph, backward: bool, start: Iterable[int], edges: str, stop) -> frozenset[int]:
    """Walks are memoised per graph: analyses and rules that ask the same question (everything
    a train op runs) share one traversal."""
    start = frozenset(start)
    key = (backward, start, edges, frozenset(stop) if stop else None)
    memo = graph.graph.setdefault("walk_cache", {})
    if key not in memo:
        memo[key] = frozenset(_walk(graph._pred if backward else graph._succ, start, edges, stop))
    return memo[key]


def ancestors(graph, targets: Iterable[int], edges: str = "any", stop=None) -> frozenset[int]:
    """Nodes with a path of one or more edges to any of ``targets``.

    ``edges`` keeps to ``"data"`` or ``"control"`` edges; a path may not pass *through* a node in
    ``stop`` (it may start there). One reverse traversal, linear in the graph's size.
    """
    return _memo_walk(graph, True, targets, edges, stop)


def descendants(graph, sources: Iterable[int], edges: str = "any", stop=None) -> frozenset[int]:
    """Nodes reachable from any of ``sources`` by one or more edges; see :func:`ancestors`."""
    return _memo_walk(graph, False, sources, edges, stop)


def _through_hubs(graph, adjacency, node: int, kind: str | None) -> list[int]:
    """Neighbours of ``node`` along ``kind`` edges, with hubs (and hubs of hubs) replaced by
    the ops behind them."""
    result = []
    nodes = graph._node
    pending = [(other, edge) for other, edge in adjacency[node].items()]
    while pending:
        other, edge = pending.pop()
        if nodes[other]["kind"] == "hub":
            pending.extend(adjacency[other].items())
        elif kind is None or edge["kind"] == kind:
            result.append(other)
    return result


def control_inputs(graph, node: int) -> list[int]:
    """The ops ``node`` waits for through control edges, looking through hubs."""
    hub_inputs = _through_hubs(graph, graph._pred, node, "control")
    return sorted(set(hub_inputs))


def consumers(graph, node: int, edges: str = "any") -> list[int]:
    """The ops that take ``node``'s outputs (``data``) or wait for it (``control``)."""
    if edges == "data":
        return sorted(other for other, edge in graph._succ[node].items() if edge["kind"] == "data")
    found = set(_through_hubs(graph, graph._succ, node, None if edges == "any" else "control"))
    return sorted(found)


def producers(graph, node: int, edges: str = "any") -> list[int]:
    """The ops ``node`` takes inputs from (``data``) or waits for (``control``)."""
    if edges == "data":
        return sorted({source for source, _ in graph._node[node]["inputs"]})
    found = set(_through_hubs(graph, graph._pred, node, None if edges == "any" else "control"))
    return sorted(found)


def sinks(graph) -> list[int]:
    """Ops nothing depends on: the graph's fetch candidates (train ops, summaries ...)."""
    nodes = graph._node
    return [node for node, users in graph._succ.items()
            if not users and nodes[node]["kind"] == "op"]
