"""The networkx DAG: one node per op, decoded attributes, data/control edges, function bodies
inlined, TF1 loop back edges dropped, control hubs transparent to reachability."""

import os

import networkx as nx
import pytest

from bnlint.graph import query
from bnlint.graph.build import build_graph
from bnlint.graph.values import variable_of
from bnlint.sources.tf_files import load_tf_file
from conftest import MODES, TF_FIXTURES, tf_fixture


def graph_of(mode, name, index=0):
    return build_graph(load_tf_file(tf_fixture(mode, name))[index])


def by_name(graph, name):
    return graph.graph["index"][name]


def all_graph_files():
    for mode in MODES:
        for entry in sorted(os.listdir(os.path.join(TF_FIXTURES, mode))):
            if entry.endswith((".meta", ".pb", ".pbtxt")):
                yield mode, entry


@pytest.mark.parametrize("mode,name", list(all_graph_files()))
def test_every_fixture_graph_is_acyclic(mode, name):
    assert nx.is_directed_acyclic_graph(graph_of(mode, name))


def test_one_node_per_op_with_decoded_attributes():
    graph = graph_of("v1", "layers_missing_deps.graph.pbtxt")
    graph_def = load_tf_file(tf_fixture("v1", "layers_missing_deps.graph.pbtxt"))[0].graph_def
    assert [graph.nodes[n]["name"] for n in range(len(graph_def.node))] == \
        [node.name for node in graph_def.node]
    training = graph.nodes[by_name(graph, "block1/bn/cond/FusedBatchNormV3")]
    inference = graph.nodes[by_name(graph, "block1/bn/cond/FusedBatchNormV3_1")]
    assert training["op"] == "FusedBatchNormV3"
    assert training["attrs"]["is_training"] is True
    assert inference["attrs"]["is_training"] is False
    assert training["attrs"]["data_format"] == "NHWC"
    assert training["attrs"]["T"] == "float32"
    assert isinstance(training["attrs"]["epsilon"], float)


def test_text_nodes_know_their_line():
    path = tf_fixture("v2", "layers_missing_deps.graph.pbtxt")
    lines = open(path).read().splitlines()
    graph = graph_of("v2", "layers_missing_deps.graph.pbtxt")
    for name in ("images", "block1/bn/gamma", "train_op"):
        line = graph.nodes[by_name(graph, name)]["line"]
        assert lines[line - 1] == "node {"
        assert lines[line] == f'  name: "{name}"'


def test_function_body_nodes_know_their_line():
    path = tf_fixture("v2", "layers_missing_deps.metagraph.pbtxt")
    lines = open(path).read().splitlines()
    graph = graph_of("v2", "layers_missing_deps.metagraph.pbtxt")
    fused = [n for n, d in graph.nodes(data=True) if d["op"] == "FusedBatchNormV3"]
    assert fused
    for node in fused:
        line = graph.nodes[node]["line"]
        assert lines[line - 1].strip() == "node_def {"
        assert lines[line].strip() == 'name: "FusedBatchNormV3"'


def test_edges_are_marked_data_or_control():
    source = load_tf_file(tf_fixture("v1", "layers_update_deps.meta"))[0]
    graph = build_graph(source)
    checked = 0
    for proto in source.graph_def.node:
        node = by_name(graph, proto.name)
        data = [name.split(":")[0] for name in proto.input if not name.startswith("^")]
        control = sorted(by_name(graph, name[1:]) for name in proto.input if name.startswith("^"))
        assert [graph.nodes[u]["name"] for u, _ in graph.nodes[node]["inputs"]] == data
        assert query.control_inputs(graph, node) == control
        for position, name in enumerate(proto.input):
            if name.startswith("^"):
                continue
            source, _, port = name.partition(":")
            edge = graph.edges[by_name(graph, source), node]
            assert edge["kind"] == "data"
            assert (int(port or 0), position) in edge["ports"]
        checked += len(control)
    assert checked > 0


@pytest.mark.parametrize("scope", ["", "x" * 150 + "/", "größe/"])
def test_long_control_lists_are_exact_however_they_overlap(scope):
    """Lists of update ops with a few ops of their own before, after and among them, a list
    inside another, one repeated, one reordered, one with a duplicate and one naming an op the
    graph lacks: every op waits for exactly its own list, and the lists built on an earlier
    one are wired through its hub instead of member by member. Names are plain, longer than
    127 bytes (two-byte lengths when serialized) or not ASCII, and a few ops also have data
    inputs."""
    from bnlint.sources.graph_input import GraphInput
    from bnlint.sources.protos import GraphDef

    graph_def = GraphDef()
    updates = [f"{scope}bn{i}/AssignMovingAvg" for i in range(40)]
    extras = [f"{scope}extra{i}" for i in range(30)]
    for name in updates + extras:
        graph_def.node.add(name=name, op="NoOp")
    lists = [
        updates, updates + extras[:2], extras[2:4] + updates, updates[:20] + extras[4:5] +
        updates[20:], updates + extras[:2], updates[:30], list(reversed(updates)),
        updates + updates[:1], updates + ["not/in/graph"], updates + extras,
        extras[5:] + updates[:9],
    ]
    for index, members in enumerate(lists):
        step = graph_def.node.add(name=f"{scope}step{index}", op="NoOp")
        step.input.extend(extras[:index % 3])  # data inputs, before the control inputs
        step.input.extend("^" + m for m in members)
    graph = build_graph(GraphInput(path="lists.pb", kind="GraphDef", encoding="binary",
                                   graph_def=graph_def))
    for index, members in enumerate(lists):
        step = by_name(graph, f"{scope}step{index}")
        assert sorted(graph.nodes[n]["name"] for n in query.control_inputs(
            graph, step)) == sorted(set(members)), index
        assert [graph.nodes[u]["name"] for u, _ in graph.nodes[step]["inputs"]] == \
            extras[:index % 3]
    assert graph.number_of_edges() < 2 * sum(map(len, lists))
    step1 = by_name(graph, f"{scope}step1")
    hub = next(n for n in graph.pred[step1] if graph.nodes[n]["kind"] == "hub")
    assert sorted(graph.nodes[n]["name"] for n in graph.pred[hub]
                  if graph.nodes[n]["kind"] == "op") == extras[:2]


def test_a_long_list_built_on_a_recent_one_reads_only_its_own_names(monkeypatch):
    """A list that is a recent one with a few ops of its own after or before it is told by its
    serialized bytes: only the other ops' names are looked up."""
    from bnlint.graph.build import _Builder
    from bnlint.sources.graph_input import GraphInput
    from bnlint.sources.protos import GraphDef

    graph_def = GraphDef()
    updates = [f"bn{i}/AssignMovingAvg" for i in range(40)]
    for name in updates + ["a", "b", "y", "z"]:
        graph_def.node.add(name=name, op="NoOp")
    for index, members in enumerate([updates, updates + ["y", "z"], ["a", "b"] + updates]):
        step = graph_def.node.add(name=f"step{index}", op="NoOp")
        step.input.extend(["a"] + ["^" + m for m in members])
    looked_up = []
    original = _Builder.control_sources

    def control_sources(self, control):
        looked_up.append(list(control))
        return original(self, control)

    monkeypatch.setattr(_Builder, "control_sources", control_sources)
    build_graph(GraphInput(path="lists.pb", kind="GraphDef", encoding="binary",
                           graph_def=graph_def))
    assert looked_up == [["^" + m for m in updates], ["^y", "^z"], ["^a", "^b"]]


def test_uncalled_functions_are_left_out():
    graph = graph_of("v2", "function_call_keras_bn.meta")
    assert any(name.startswith("__inference_block") for name in graph.graph["uncalled_functions"])
    assert not any(d.get("function", "") or "" for d in graph.nodes.values()
                   if (d.get("function") or "") in graph.graph["uncalled_functions"])


@pytest.mark.parametrize("mode", MODES)
def test_cond_branches_are_inlined_or_switched(mode):
    """Both control-flow forms give a training and an inference BN op reading the same gamma,
    and the train op reaches the training one."""
    graph = graph_of(mode, "layers_missing_deps.meta")
    fused = [n for n, d in graph.nodes(data=True)
             if d["op"] == "FusedBatchNormV3" and "block1/bn" in d["name"]]
    assert sorted(graph.nodes[n]["attrs"]["is_training"] for n in fused) == [False, True]
    gamma = by_name(graph, "block1/bn/gamma")
    for node in fused:
        assert variable_of(graph, *graph.nodes[node]["inputs"][1]) == gamma
    train = by_name(graph, "train_op")
    assert any(node in query.ancestors(graph, [train]) for node in fused)
    if mode == "v2":
        for node in fused:
            data = graph.nodes[node]
            assert data["function"] and data["branch"] in ("then", "else")
            assert graph.nodes[data["call_site"]]["op"] == "If"
            assert data["name"].startswith("block1/bn/cond/" + data["branch"] + "/")


def test_function_call_body_is_reachable_from_the_train_op():
    graph = graph_of("v2", "function_call_keras_bn.meta")
    assigns = [n for n, d in graph.nodes(data=True) if d["op"] == "AssignSubVariableOp"]
    assert assigns
    train_ancestors = query.ancestors(graph, [by_name(graph, "train_op")])
    assert all(node in train_ancestors for node in assigns)
    sites = {graph.nodes[n]["call_site"] for n in assigns}
    assert {graph.nodes[s]["op"] for s in sites} <= {"If", "StatefulPartitionedCall"}


def test_tf1_loop_back_edges_are_dropped():
    graph = graph_of("v1", "while_loop_update_deps.meta")
    back = [n for n, d in graph.nodes(data=True) if d["op"] == "NextIteration"]
    assert back
    for node in back:
        assert all(graph.nodes[c]["op"] != "Merge" for c in graph.successors(node))


def test_tf2_while_bodies_are_inlined():
    graph = graph_of("v2", "while_loop_update_deps.meta")
    loops = [n for n, d in graph.nodes(data=True) if d["op"] in ("While", "StatelessWhile")]
    assert loops
    branches = {d["branch"] for d in graph.nodes.values() if d.get("call_site") in loops}
    assert branches == {"cond", "body"}


def test_function_boundary_edges_carry_ports():
    """Call inputs feed the body's ops that read them (no _Arg node between); body return
    values feed the call's outputs."""
    graph = graph_of("v2", "layers_missing_deps.meta")
    site = by_name(graph, "block1/bn/cond")
    returned = [(graph.nodes[u]["name"], port)
                for u in graph.predecessors(site)
                for port in graph.edges[u, site].get("ports", ())]
    outputs = {dst[1] for _, (src, dst) in returned if isinstance(dst, tuple)}
    assert outputs >= {0, 1, 2}  # y, batch_mean and batch_variance of both branches
    fused = [n for n, d in graph.nodes(data=True)
             if d["op"] == "FusedBatchNormV3" and d.get("call_site") == site]
    assert len(fused) == 2
    x = graph.nodes[site]["inputs"][-1]  # after the predicate and the variables: the input
    assert graph.nodes[x[0]]["name"] == "block1/conv/Conv2D"
    for node in fused:
        assert graph.nodes[node]["inputs"][0] == x
        assert graph.edges[x[0], node]["ports"] == ((x[1], 0),)
    assert not [n for n, d in graph.nodes(data=True)
                if d["op"] == "_Arg" and d.get("call_site") == site]
