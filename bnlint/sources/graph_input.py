"""What a loader hands to the graph builder: one TensorFlow graph and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class GraphInput:
    """One graph to lint.

    A file may hold several (a SavedModel has one per MetaGraph / tag-set); ``label`` tells them
    apart. ``node_lines`` gives, for text files, the 1-based line of each ``node {`` in file order
    and ``function_lines`` the same for each library function's ``node_def {``.
    """

    path: str
    kind: str  # GraphDef, MetaGraphDef, SavedModel
    encoding: str  # binary or text
    graph_def: Any
    label: str | None = None
    tags: tuple[str, ...] = ()
    collections: dict[str, list[str]] = field(default_factory=dict)
    node_lines: list[int] | None = None
    function_lines: dict[str, list[int]] = field(default_factory=dict)
    op_outputs: dict[str, list[str]] = field(default_factory=dict)
    tensorflow_version: str | None = None
    checkpoint_step: int | None = None  # N of a model.ckpt-N.meta: training steps taken
    checkpoint: str | None = None  # prefix of the checkpoint saved with it (its .index exists)
    errors: list = field(default_factory=list)  # found while linting (an unreadable checkpoint)
    debug: Any = None  # a DebugInfo (bnlint.sources.debug_info): where in Python ops were made

    @property
    def display(self) -> str:
        return f"{self.path} [{self.label}]" if self.label else self.path
