"""Build the networkx DAG that every analysis and rule reads, from one GraphInput.

Nodes are integers (file order for the main graph), each with these attributes:

``name``, ``op``, ``device``, ``attrs`` (lazily decoded, see :mod:`bnlint.graph.attrs`),
``inputs`` (the data inputs in order, as ``(node, output_port)`` pairs), ``line`` (of its
``node {`` in a text file, else None), ``kind`` (``"op"``, or ``"hub"`` below), and for nodes
instantiated from a library function ``function``, ``call_site`` and ``branch``.

Edges point from producer to consumer and carry ``kind``: ``"data"`` or ``"control"``. A data
edge also carries ``ports``: the ``(output index of the producer, input index of the consumer)``
pairs it stands for, as a tuple (one edge may carry several). Edges share their attribute dicts
(every control edge one, every data edge with the same single pair one): they are read-only.

Function bodies are part of the graph. Each call site (``If``/``StatelessIf``, ``Case``,
``While``, ``PartitionedCall``/``StatefulPartitionedCall``, or an op named after a library
function) gets its own copy of the callee, named ``<call>/<branch>/<node>`` (``then``/``else``
for conditionals, ``cond``/``body`` for loops, no branch for plain calls). The copy's ops take
the call's inputs where the body reads its arguments (an edge from the producer outside to the
op inside, no ``_Arg`` node between); its return values, control returns and every body node
without consumers feed the call node, so "running the call runs the body" and "the body reads
that variable" are plain reachability. A call node's ``returns`` maps each branch to the
``(node, port)`` producing each of its outputs. The predicate of an ``If``/``Case`` feeds its
branches' entry ops by control edges, as TF1's ``Switch`` does, so the body is reached from it.
Functions no op calls never run and are left out (``graph.graph["uncalled_functions"]``).

Two things keep a 50k-node training graph small:

* TF1's ``NextIteration -> Merge`` loop back edges are left out, so the graph is acyclic.
* Ops created inside ``tf.control_dependencies(update_ops)`` each carry the same hundreds of
  control inputs. Each distinct list of 8 or more control inputs becomes one ``hub`` node
  (``kind == "hub"``, op ``_ControlGroup``): the inputs feed the hub, the hub feeds each op.
  A list that includes a recent one is fed by that list's hub and by its other members (told
  from the serialized node's bytes, see :meth:`_Builder.extend_recent_list`, or else with sets,
  see :meth:`_Builder.group_hub`); other lists that differ by a few members share sub-hubs for
  their common runs (see :meth:`_Builder.chunk_hubs`). Reachability is unchanged;
  :func:`bnlint.graph.query.control_inputs` looks through hubs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import networkx as nx

from ..errors import InputError
from ..limits import positive_number
from ..sources.graph_input import GraphInput
from .attrs import Attrs
from .wire import entries_size, entry_sizes, string_entry

CONTROL = {"kind": "control"}
HUB_MIN_INPUTS = 8
CHUNK = 16
# How many of the latest long lists of each kind a new one looks for a part of itself in.
GROUP_CANDIDATES = 8
# Multiplicative hashing of ids (consecutive and evenly spaced ones scatter): the top four of
# the product's low 30 bits pick one id in CHUNK as a cut point. The odd constant stays below
# 2**30, one digit of a Python int, where multiplication is fast.
_MULTIPLIER = 0x27D4EB2D
_CUT_MASK = (CHUNK - 1) << 26
# Instantiate at most this many function-body nodes per graph (ResNet-152 and NASNet-Large
# training graphs need 20k and 34k; a library whose calls double at each level asks for
# millions); past it, further call sites share one copy of their callee instead of getting
# their own. BNLINT_MAX_INLINED_NODES raises it for giant SavedModels.
MAX_INLINED_NODES = 500_000
MAX_CALL_DEPTH = 32


def inlined_node_budget() -> int:
    """``MAX_INLINED_NODES``, or the positive count ``BNLINT_MAX_INLINED_NODES`` says."""
    return positive_number("BNLINT_MAX_INLINED_NODES", MAX_INLINED_NODES, int)

_BRANCH_ATTRS = {
    "If": (("then_branch", "then"), ("else_branch", "else")),
    "StatelessIf": (("then_branch", "then"), ("else_branch", "else")),
    "_If": (("then_branch", "then"), ("else_branch", "else")),
    "While": (("cond", "cond"), ("body", "body")),
    "StatelessWhile": (("cond", "cond"), ("body", "body")),
    "_While": (("cond", "cond"), ("body", "body")),
    "PartitionedCall": (("f", None),),
    "StatefulPartitionedCall": (("f", None),),
}
_CASE_OPS = {"Case", "StatelessCase"}
_CALLING_OPS = frozenset(_BRANCH_ATTRS) | _CASE_OPS  # and any op named after a function
# Ops whose first input selects the branch instead of feeding it.
_PREDICATED = {"If", "StatelessIf", "_If", "Case", "StatelessCase"}
_LOOP_BACK = {"NextIteration", "RefNextIteration"}

# Output argument names of multi-output ops, to turn a function body's ``node:arg:i`` into a
# flat output port. A MetaGraphDef's stripped op list extends this.
OUTPUT_ARGS = {
    "FusedBatchNorm": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
    "FusedBatchNormV2": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
    "FusedBatchNormV3": ["y", "batch_mean", "batch_variance", "reserve_space_1",
                         "reserve_space_2", "reserve_space_3"],
    "FusedBatchNormGrad": ["x_backprop", "scale_backprop", "offset_backprop",
                           "reserve_space_3", "reserve_space_4"],
    "FusedBatchNormGradV2": ["x_backprop", "scale_backprop", "offset_backprop",
                             "reserve_space_3", "reserve_space_4"],
    "FusedBatchNormGradV3": ["x_backprop", "scale_backprop", "offset_backprop",
                             "reserve_space_4", "reserve_space_5"],
    "Switch": ["output_false", "output_true"],
    "RefSwitch": ["output_false", "output_true"],
    "Merge": ["output", "value_index"],
    "RefMerge": ["output", "value_index"],
    "Unique": ["y", "idx"],
    "TopKV2": ["values", "indices"],
    "BroadcastGradientArgs": ["r0", "r1"],
    "StatelessRandomGetKeyCounter": ["key", "counter"],
}


def called_functions(op: str, attrs: Attrs, library: dict) -> list[tuple[str, str | None]]:
    """``(function, branch)`` pairs that a node of type ``op`` calls."""
    if op in _BRANCH_ATTRS:
        calls = []
        for key, branch in _BRANCH_ATTRS[op]:
            value = attrs.get(key)
            if isinstance(value, dict) and value.get("name") in library:
                calls.append((value["name"], branch))
        return calls
    if op in _CASE_OPS:
        branches = attrs.get("branches") or []
        return [(f["name"], f"branch{i}") for i, f in enumerate(branches)
                if isinstance(f, dict) and f.get("name") in library]
    if op in library:
        return [(op, None)]
    return []


# Shared by every graph (a few dozen pairs): nothing writes to an edge's attributes.
_SINGLE_PORT_EDGES: dict[tuple, dict] = {}


def data_edge(edge: dict | None, src_port, dst_port) -> dict:
    """The attributes of a data edge that carries ``edge``'s ports (if it is one) and
    ``(src_port, dst_port)``. The one-pair dicts, most data edges, are shared.

    >>> data_edge(None, 0, 1)
    {'kind': 'data', 'ports': ((0, 1),)}
    >>> data_edge(data_edge(None, 0, 1), 0, 2)
    {'kind': 'data', 'ports': ((0, 1), (0, 2))}
    """
    if edge is None or edge["kind"] != "data":
        pair = (src_port, dst_port)
        shared = _SINGLE_PORT_EDGES.get(pair)
        if shared is None:
            shared = _SINGLE_PORT_EDGES[pair] = {"kind": "data", "ports": (pair,)}
        return shared
    return {"kind": "data", "ports": (*edge["ports"], (src_port, dst_port))}


def _run_at(blob: bytes, start: int, run: bytes) -> bool:
    """Whether the input entries of a serialized NodeDef from offset ``start`` to its last
    input are ``run`` (the next field, if any, is not another input: tag 0x1A)."""
    return blob.startswith(run, start) and blob[start + len(run):start + len(run) + 1] != b"\x1a"


def _body_reference(text: str) -> tuple[str, str, int]:
    """A function body's data input ``node``, ``node:out_arg`` or ``node:out_arg:i`` as
    ``(node, out_arg, i)``.

    >>> _body_reference("bn:y:0"), _body_reference("read")
    (('bn', 'y', 0), ('read', '', 0))
    """
    name, _, rest = text.partition(":")
    arg, _, index = rest.partition(":")
    return name, arg, int(index) if index.isascii() and index.isdigit() else 0


# The shared edges from output 0 into input 0, 1, 2 ... : the most common by far.
_SHARED_POSITIONS = 32
_FROM_OUTPUT_0 = tuple(data_edge(None, 0, position) for position in range(_SHARED_POSITIONS))


class _Builder:
    def __init__(self, source: GraphInput):
        self.source = source
        self.budget = inlined_node_budget()
        graph_def = source.graph_def
        self.library = {f.signature.name: f for f in graph_def.library.function}
        self.output_args = dict(OUTPUT_ARGS)
        self.output_args.update(source.op_outputs)
        # Keyed by node id (0, 1, 2 ...) from the start: they become the graph's own
        # ``_node``/``_succ``/``_pred`` without a copy.
        self.nodes: dict[int, dict] = {}
        self.succ: dict[int, dict] = {}
        self.pred: dict[int, dict] = {}
        self.hubs: dict[tuple, int] = {}
        # (members, hub) of the latest long lists built from chunks, and of those built on
        # another's: a few sets of hundreds of ids each, not one per list
        self.roots: deque[tuple[frozenset, int]] = deque(maxlen=GROUP_CANDIDATES)
        self.derived: deque[tuple[frozenset, int]] = deque(maxlen=GROUP_CANDIDATES)
        self.chunks: dict[tuple, int] = {}
        self.hub_count = 0
        # Long control lists of the main graph by samples of their serialized bytes, each as
        # (its entries' bytes, hub); and the latest few as (entries' bytes, length, hub): of
        # those read name by name, and of those built on another
        self.serialized_hubs: dict[tuple, list[tuple[bytes, int]]] = {}
        self.read_lists: deque[tuple[bytes, int, int]] = deque(maxlen=GROUP_CANDIDATES)
        self.extended_lists: deque[tuple[bytes, int, int]] = deque(maxlen=GROUP_CANDIDATES)
        self.index: dict[str, int] = {}
        self.inlined = 0
        self.instantiated: set[str] = set()
        self.shared: dict[str, tuple[list[int], list, list[int]]] = {}
        # A function body's input texts (``node:out_arg:i``) repeat from function to function
        self.body_references: dict[str, tuple[str, str, int]] = {}

    # -- nodes and edges -------------------------------------------------------------------
    def add_node(self, data: dict) -> int:
        node = len(self.nodes)
        self.nodes[node] = data
        self.succ[node] = {}
        self.pred[node] = {}
        return node

    def add_data_edge(self, u: int, v: int, src_port, dst_port) -> None:
        """A data edge; ``ports`` lists each ``(output of u, input of v)`` it carries."""
        self.pred[v][u] = self.succ[u][v] = data_edge(self.pred[v].get(u), src_port, dst_port)

    def add_edge(self, u: int, v: int, kind: dict) -> None:
        pred = self.pred[v]
        if u in pred and pred[u] is not CONTROL:
            return
        pred[u] = kind
        self.succ[u][v] = kind

    def control_from(self, sources: list[int], v: int) -> int | None:
        """Control edges from ``sources`` into ``v``, through the hub of that list when it is
        long; returns the hub."""
        if len(sources) < HUB_MIN_INPUTS:
            for u in sources:
                self.add_edge(u, v, CONTROL)
            return None
        hub = self.list_hub(sources)
        self.add_edge(hub, v, CONTROL)
        return hub

    def list_hub(self, sources: list[int]) -> int:
        """The hub of a long control list, built the first time the list is seen."""
        key = tuple(sources)  # node ids, not names: a key holds no strings of its own
        hub = self.hubs.get(key)
        if hub is None:
            hub = self.hubs[key] = self.group_hub(sources)
        return hub

    def group_hub(self, sources: list[int]) -> int:
        """A new hub fed by ``sources``: by the hub of an earlier list that they include and by
        the rest of them, or, when no recent list is included, by :meth:`chunk_hubs`.

        Every op under ``control_dependencies(update_ops)`` waits for the update ops and for a
        few ops of its own: one list of hundreds, then each of the others is that list and a
        handful. Sets make the test cheap; only the members the earlier list lacks are wired.
        """
        members = frozenset(sources)
        base = None
        for group in (*self.roots, *self.derived):
            if group[0] <= members and (base is None or len(group[0]) > len(base[0])):
                base = group
        if base is None:
            hub = self.new_hub(len(sources))
            for u in self.chunk_hubs(sources):
                self.add_edge(u, hub, CONTROL)
            self.roots.append((members, hub))
        else:
            hub = self.extended_hub(base[1], sorted(members - base[0]), len(sources))
            self.derived.append((members, hub))
        return hub

    def extended_hub(self, base: int, rest: list[int], size: int) -> int:
        """A new hub for a list of ``size`` ops: those of hub ``base`` and ``rest``."""
        hub = self.new_hub(size)
        for u in [base, *(self.chunk_hubs(rest) if len(rest) >= HUB_MIN_INPUTS else rest)]:
            self.add_edge(u, hub, CONTROL)
        return hub

    def new_hub(self, size: int) -> int:
        self.hub_count += 1
        return self.add_node({
            "name": f"_control_group_{self.hub_count - 1}", "op": "_ControlGroup",
            "kind": "hub", "device": "", "attrs": {}, "inputs": (), "line": None, "size": size,
        })

    def chunk_hubs(self, sources: list[int]) -> list[int]:
        """Split a long control list into runs that end at the ids a hash picks (one in
        ``CHUNK``).

        The cut points depend on the ids alone, so two lists that share most of their
        members (every op under ``control_dependencies(update_ops)``, plus a few of its own)
        share most runs, and each shared run becomes one hub built once. The ids are hashed
        because a model's repeated blocks space its update ops evenly: with ``id % CHUNK`` a
        stride that is a multiple of ``CHUNK`` cuts at every member or at none.
        """
        result, start = [], 0
        for end in [position + 1 for position, u in enumerate(sources)
                    if not (u * _MULTIPLIER) & _CUT_MASK]:
            result.append(self.chunk_hub(sources[start:end]))
            start = end
        if start < len(sources):
            result.append(self.chunk_hub(sources[start:]))
        return result

    def chunk_hub(self, run: list[int]) -> int:
        if len(run) == 1:
            return run[0]
        key = tuple(run)
        hub = self.chunks.get(key)
        if hub is None:
            hub = self.chunks[key] = self.new_hub(len(run))
            succ, pred_hub = self.succ, self.pred[hub]
            for u in run:
                pred_hub[u] = CONTROL
                succ[u][hub] = CONTROL
        return hub

    def missing(self, name: str) -> int:
        node = self.index.get(name)
        if node is None:
            node = self.add_node({
                "name": name, "op": "_Missing", "kind": "op", "device": "", "attrs": {},
                "inputs": (), "line": None,
            })
            self.index[name] = node
        return node

    # -- main graph --------------------------------------------------------------------------
    def build(self) -> nx.DiGraph:
        graph_def = self.source.graph_def
        lines = self.source.node_lines or ()
        known_lines = len(lines)
        protos = list(graph_def.node)  # read twice: the wrappers made once
        index, nodes, library = self.index, self.nodes, self.library
        callers = []  # ops that may call a function, wired before their calls are inlined
        for position, proto in enumerate(protos):
            name, op = proto.name, proto.op  # each read of a field makes a new str: once
            index[name] = position
            nodes[position] = {
                "name": name, "op": op, "kind": "op", "device": proto.device,
                "attrs": Attrs(proto), "inputs": (),
                "line": lines[position] if position < known_lines else None,
            }
            if op in _CALLING_OPS or op in library:
                callers.append(position)
        self.succ = {position: {} for position in nodes}  # the same int objects as keys
        self.pred = {position: {} for position in nodes}
        for v, proto in enumerate(protos):
            inputs = proto.input
            size = len(inputs)
            if size:
                first = self.wire_data_inputs(v, inputs)  # where its control inputs start
                if size - first >= HUB_MIN_INPUTS:
                    self.wire_long_control(v, proto, inputs, first)
                elif first < size:
                    self.control_from(self.control_sources(inputs[first:]), v)
        self.inline_calls(callers, stack=())
        return self.assemble()

    def inline_calls(self, callers: list[int], stack: tuple[str, ...]) -> None:
        nodes, library = self.nodes, self.library
        for node in callers:
            data = nodes[node]
            calls = called_functions(data["op"], data["attrs"], library)
            if calls:
                self.call(node, calls, prefix=data["name"], stack=stack)

    def wire_long_control(self, v: int, proto, inputs, first: int) -> None:
        """The control inputs of a node with many (``inputs[first:]``): most often the same
        list as many other nodes', or such a list and a few ops of its own.

        Materialising a 500-name list costs 0.1 ms; serialising the node costs a third of
        that. A NodeDef is serialized field by field (name, op, then its inputs in order), so
        the control inputs are a run of entries whose offset follows from the name, op and
        data inputs, and two nodes whose runs have the same bytes wait for the same ops. The
        runs seen so far are kept by samples of their bytes and of the node's end; a node
        whose run is new is compared with the latest few (:meth:`extend_recent_list`) before
        its names are looked up one by one.
        """
        blob = proto.SerializeToString()
        data = self.nodes[v]
        start = entries_size([data["name"], data["op"], *inputs[:first]])
        if not (data["name"] and data["op"] and blob.startswith(string_entry(3, inputs[first]),
                                                                  start)):
            self.control_from(self.control_sources(inputs[first:]), v)  # laid out otherwise
            return
        # Hashing 10 KB runs thousands of times would cost more than the rest of the build:
        # key by a few samples, then compare the whole run in place. Lists that differ by a
        # few ops of their own differ at their ends (TensorFlow writes them sorted by name), and
        # the node ends with attributes alike in many nodes: sample both ends of the list.
        last = blob.rfind(b"^")  # the last control input's name, unless an attribute has ^
        bucket = self.serialized_hubs.setdefault(
            (len(blob) - start, blob[start:start + 64], blob[last:last + 64], blob[-64:]), [])
        for run, known in bucket:
            if _run_at(blob, start, run):
                hub = known
                break
        else:
            hub, run = (self.extend_recent_list(blob, start, inputs, first)
                        or self.new_long_list(blob, start, inputs, first))
            bucket.append((run, hub))
        self.add_edge(hub, v, CONTROL)

    def extend_recent_list(self, blob: bytes, start: int, inputs, first: int):
        """``(hub, run)`` when the control inputs of a node (``inputs[first:]``, serialized
        from ``blob[start]`` on) are one of the latest long lists and a few ops of their own
        after or before it; else None.

        TensorFlow sorts a control list by name, so an op's own control inputs, named after
        its scope, gather at one end of the list it shares. Equal bytes from an entry's start
        are equal entries: only the other ops' names are read.
        """
        count = len(inputs) - first  # a candidate is at least half of it, the largest first
        candidates = sorted((*self.read_lists, *self.extended_lists), key=lambda known: -known[1])
        head, ends = [], [start]  # the list's first names as far as read, and where each ends
        for run, size, base in candidates:
            if not count // 2 <= size <= count:
                continue
            if blob.startswith(run, start):  # the list, then ops of its own
                if size == count:
                    return base, run
                rest = inputs[first + size:]
                length = len(run) + entries_size(rest)
            elif size < count:  # ops of its own, then the list
                own = count - size
                if len(head) < own:
                    more = inputs[first + len(head):first + own]
                    head.extend(more)
                    for entry in entry_sizes(more):
                        ends.append(ends[-1] + entry)
                if not blob.startswith(run, ends[own]):
                    continue
                rest = head[:own]
                length = ends[own] - start + len(run)
            else:
                continue
            hub = self.extended_hub(base, sorted(set(self.control_sources(rest))), count)
            run = blob[start:start + length]
            self.extended_lists.append((run, count, hub))
            return hub, run
        return None

    def new_long_list(self, blob: bytes, start: int, inputs, first: int) -> tuple[int, bytes]:
        """``(hub, run)`` for a control list read name by name."""
        control = inputs[first:]
        hub = self.list_hub(self.control_sources(control))
        run = blob[start:start + entries_size(control)]
        self.read_lists.append((run, len(control), hub))
        return hub, run

    def control_sources(self, control: Sequence[str]) -> list[int]:
        """The nodes of ``^name`` control inputs (a ``_Missing`` one for a name the graph
        lacks)."""
        index = self.index
        sources = [index.get(text[1:]) for text in control]
        if None in sources:
            sources = [s if s is not None else self.missing(text[1:])
                       for s, text in zip(sources, control, strict=True)]
        return sources

    def wire_data_input(self, v: int, text: str, position: int) -> tuple[int, int]:
        """Input ``position`` of main-graph node ``v``, ``name`` or ``name:port``."""
        name, _, port = text.partition(":")
        if port and not (port.isascii() and port.isdigit()):
            raise InputError(self.source.path, f"input '{text}' of node "
                                               f"'{self.nodes[v]['name']}' has a non-numeric "
                                               "output index")
        u = self.index.get(name)
        if u is None:
            u = self.missing(name)
        port = int(port) if port else 0
        if self.nodes[u]["op"] not in _LOOP_BACK:
            self.add_data_edge(u, v, port, position)
        return u, port

    def wire_data_inputs(self, v: int, raw: Sequence[str]) -> int:
        """Wire the data inputs of main-graph node ``v``; returns the position of its first
        control input (``len(raw)`` when it has none)."""
        data_inputs = []
        index, nodes, succ, pred = self.index, self.nodes, self.succ, self.pred[v]
        first = len(raw)
        for position, text in enumerate(raw):
            if text[0] == "^":
                first = position
                break
            # wire_data_input and add_data_edge, inlined for the common case, a plain name (of
            # output 0): this runs for every input of every node of the graph.
            u = index.get(text)
            if u is None or ":" in text:  # "name:port", or a node the graph lacks
                data_inputs.append(self.wire_data_input(v, text, position))
                continue
            if nodes[u]["op"] not in _LOOP_BACK:
                edge = pred.get(u)
                pred[u] = succ[u][v] = (_FROM_OUTPUT_0[position]
                                        if edge is None and position < _SHARED_POSITIONS
                                        else data_edge(edge, 0, position))
            data_inputs.append((u, 0))
        if data_inputs:
            nodes[v]["inputs"] = tuple(data_inputs)
        return first

    # -- functions ---------------------------------------------------------------------------
    def call(self, site: int, calls, prefix: str, stack: tuple[str, ...]) -> None:
        site_data = self.nodes[site]
        arguments = list(site_data["inputs"])
        predicate = None
        if site_data["op"] in _PREDICATED and arguments:
            predicate, arguments = arguments[0], arguments[1:]
        returns = {}
        for function, branch in calls:
            name = f"{prefix}/{branch}" if branch else prefix
            if function in stack:
                cycle = " -> ".join((*stack[stack.index(function):], function))
                raise InputError(self.source.path, f"function '{function}' calls itself "
                                                   f"({cycle}): a TensorFlow function library "
                                                   "cannot be recursive")
            if len(stack) >= MAX_CALL_DEPTH or self.inlined >= self.budget:
                rets = self.link(site, function, arguments, stack)
            else:
                first = len(self.nodes)
                rets = self.instantiate(function, name, site, branch, arguments, stack)
                if predicate is not None:
                    self.gate(predicate[0], first)
            returns[branch or "f"] = rets
        site_data["returns"] = returns

    def gate(self, predicate: int, first: int) -> None:
        """Make a branch body depend on the predicate choosing it, as TF1's Switch and pivot
        do: a control edge into each of its ops that no op of the body feeds (those that read
        only the call's inputs, or nothing)."""
        nodes, pred = self.nodes, self.pred
        for node in range(first, len(nodes)):
            preds = pred[node]
            if (not preds or max(preds) < first) and nodes[node]["kind"] == "op":
                self.add_edge(predicate, node, CONTROL)

    def link(self, site: int, function: str, arguments, stack) -> list:
        args, rets, sinks = self.shared_instance(function, stack)
        for arg, source in zip(args, arguments, strict=False):  # a call may pass fewer
            self.add_data_edge(source[0], arg, source[1], 0)
        self.return_edges(site, rets, sinks)
        return rets

    def return_edges(self, site: int, rets: list, sinks: list[int]) -> None:
        """Body -> call node: each return value (``ports`` pairs its output with the call's
        output ``("output", k)``), and a control edge from each body sink."""
        for output, ret in enumerate(rets):
            if ret is not None:
                self.add_data_edge(ret[0], site, ret[1], ("output", output))
        for sink in sinks:
            self.add_edge(sink, site, CONTROL)

    def shared_instance(self, function: str, stack) -> tuple[list[int], list, list[int]]:
        if function not in self.shared:
            self.shared[function] = (), (), ()  # guards recursion while it is being built
            self.shared[function] = self.instantiate_body(function, function, None, None, None,
                                                          stack)
        return self.shared[function]

    def instantiate(self, function, prefix, site, branch, arguments, stack) -> list:
        args, rets, sinks = self.instantiate_body(function, prefix, site, branch, arguments, stack)
        self.return_edges(site, rets, sinks)
        return rets

    def instantiate_body(self, function, prefix, site, branch, arguments, stack):
        """Copy ``function``'s body; returns (arg nodes, return (node, port)s, sink nodes)."""
        self.instantiated.add(function)
        fdef = self.library[function]
        signature = fdef.signature
        args = []
        local: dict[str, tuple[int, int]] = {}
        nodes, succ, pred = self.nodes, self.succ, self.pred
        passed = len(arguments) if arguments else 0
        for position, arg in enumerate(signature.input_arg):
            if position < passed:  # the body reads what the call passes
                local[arg.name] = arguments[position]
                continue
            # a body shared by several calls, which feed its _Arg nodes (see link), or an
            # argument the call does not pass
            node = self.add_node({
                "name": f"{prefix}/{arg.name}", "op": "_Arg", "kind": "op", "device": "",
                "attrs": {}, "inputs": (), "line": None,
                "function": function, "call_site": site, "branch": branch,
            })
            args.append(node)
            local[arg.name] = (node, 0)
        lines = self.source.function_lines.get(function) or ()
        known_lines = len(lines)
        protos = list(fdef.node_def)
        first = len(self.nodes)
        body: dict[str, int] = {}
        index, prefix_slash, library = self.index, prefix + "/", self.library
        callers = []
        for node, proto in enumerate(protos, first):
            local_name, op = proto.name, proto.op
            body[local_name] = node
            name = prefix_slash + local_name
            if op in _CALLING_OPS or op in library:
                callers.append(node)
            nodes[node] = {
                "name": name, "op": op, "kind": "op", "device": proto.device,
                "attrs": Attrs(proto), "inputs": (),
                "line": lines[node - first] if node - first < known_lines else None,
                "function": function, "call_site": site, "branch": branch,
            }
            succ[node] = {}
            pred[node] = {}
            if name not in index:
                index[name] = node
        self.inlined += len(protos) + len(args)
        for position, proto in enumerate(protos):
            self.wire_body_inputs(first + position, proto.input, body, local)
        self.inline_calls(callers, stack + (function,))
        returned = fdef.ret
        rets = [self.body_tensor(returned.get(arg.name, ""), body, local)
                for arg in signature.output_arg]
        sinks = {body[name] for name in fdef.control_ret.values() if name in body}
        sinks.update(node for node in body.values() if not self.succ[node])
        return args, rets, sorted(sinks)

    def body_tensor(self, text: str, body: dict, local: dict) -> tuple[int, int] | None:
        """An argument, or ``node``, ``node:out_arg`` or ``node:out_arg:i`` inside a function
        body, as (node, port); None for a node the body lacks."""
        tensor = local.get(text)
        if tensor is not None:
            return tensor
        reference = self.body_references.get(text)
        if reference is None:
            reference = self.body_references[text] = _body_reference(text)
        name, arg, port = reference
        u = body.get(name)
        if u is None:
            return None
        if arg:
            names = self.output_args.get(self.nodes[u]["op"])
            if names and arg in names:
                port += names.index(arg)
        return u, port

    def wire_body_inputs(self, v: int, raw: Sequence[str], body: dict, local: dict) -> None:
        nodes, succ, pred = self.nodes, self.succ, self.pred[v]
        data_inputs = []
        controls = []
        for text in raw:
            if text[0] == "^":
                node = body.get(text[1:])
                if node is not None:
                    controls.append(node)
                continue
            tensor = self.body_tensor(text, body, local)
            if tensor is None:
                continue
            u, port = tensor
            if nodes[u]["op"] not in _LOOP_BACK:
                edge, position = pred.get(u), len(data_inputs)
                pred[u] = succ[u][v] = (_FROM_OUTPUT_0[position]  # as in wire_data_inputs
                                        if edge is None and port == 0
                                        and position < _SHARED_POSITIONS
                                        else data_edge(edge, port, position))
            data_inputs.append(tensor)
        if controls:
            self.control_from(controls, v)
        if data_inputs:
            nodes[v]["inputs"] = tuple(data_inputs)

    # -- result ------------------------------------------------------------------------------
    def assemble(self) -> nx.DiGraph:
        graph = nx.DiGraph()
        # Bulk construction: networkx's own dict-of-dicts, filled in one pass instead of one
        # add_edge call per edge (ten times faster on a graph with millions of control inputs).
        graph._node = self.nodes
        graph._adj = graph._succ = self.succ
        graph._pred = self.pred
        source = self.source
        graph.graph.update(
            path=source.path, label=source.label, kind=source.kind, encoding=source.encoding,
            tags=source.tags, collections=source.collections,
            tensorflow_version=source.tensorflow_version, index=self.index,
            checkpoint_step=source.checkpoint_step, checkpoint=source.checkpoint,
            hubs=self.hub_count,
            uncalled_functions=sorted(set(self.library) - self.instantiated),
        )
        return graph


def build_graph(source: GraphInput) -> nx.DiGraph:
    """The DAG of ``source``; see the module docstring for what nodes and edges carry."""
    return _Builder(source).build()


def op_origin(graph: nx.DiGraph, node: int) -> tuple[str, str]:
    """``(function, name)`` of the op ``node`` copies, as the file names it: the library
    function it belongs to (``""`` for the graph's own ops) and its name inside it.

    Inlined copies are named ``<call>/<branch>/<name>``; one body shared by recursive or
    deep calls is named ``<function>/<name>``.
    """
    data = graph._node[node]
    function = data.get("function")
    if function is None:
        return "", data["name"]
    site = data.get("call_site")
    if site is None:
        prefix = function
    else:
        prefix = graph._node[site]["name"]
        if data.get("branch"):
            prefix += "/" + data["branch"]
    return function, data["name"][len(prefix) + 1:]
