"""Line numbers of the nodes in a text-format GraphDef, MetaGraphDef or SavedModel.

The protobuf text parser keeps no positions, so a regular-expression pass over the same text
finds every block opening (``node {``, ``function {`` ...) and the line it sits on, skipping
strings and comments. Nodes appear in the file in the order the parser stores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'  # double-quoted string
    r"|'(?:[^'\\\n]|\\.)*'"  # single-quoted string
    r"|#[^\n]*"  # comment
    r"|([A-Za-z_][A-Za-z0-9_]*)\s*:?\s*[{<]"  # block opening, group 1 = field name
    r"|[}>]"  # block closing
)


@dataclass
class GraphLines:
    nodes: list[int] = field(default_factory=list)
    functions: list[list[int]] = field(default_factory=list)


def graph_lines(text: str) -> list[GraphLines]:
    """One GraphLines per graph in the text: one for a GraphDef or MetaGraphDef, one per
    ``meta_graphs`` block of a SavedModel."""
    graphs: list[GraphLines] = []
    stack: list[str] = []
    line, last = 1, 0
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        token = match.group(0)
        if name is None:
            if token in "}>" and stack:
                stack.pop()
            continue
        start = match.start()
        line += text.count("\n", last, start)
        last = start
        if name == "meta_graphs" and not stack:
            graphs.append(GraphLines())
        stack.append(name)
        outer = _graph_relative(stack)
        if outer is None:
            continue
        if not graphs:
            graphs.append(GraphLines())
        current = graphs[-1]
        if outer == ("node",):
            current.nodes.append(line)
        elif outer == ("library", "function"):
            current.functions.append([])
        elif outer == ("library", "function", "node_def") and current.functions:
            current.functions[-1].append(line)
    return graphs or [GraphLines()]


def _graph_relative(stack: list[str]) -> tuple[str, ...] | None:
    """The block path inside the GraphDef, or None when the stack is outside any GraphDef."""
    path = tuple(stack)
    if path and path[0] == "meta_graphs":
        path = path[1:]
    if path and path[0] == "graph_def":
        return path[1:]
    if path and path[0] in ("node", "library", "versions"):
        return path
    return None
