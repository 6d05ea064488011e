"""Binary graph files are parsed with the lazy classes, whose nodes keep their attributes as map
entries' bytes: nothing is lost, and every attribute decodes as with the full classes."""

import json
import os

import pytest
from google.protobuf.message import DecodeError

from bnlint.graph.attrs import Attrs, entry_class, entry_value
from bnlint.sources import protos
from bnlint.sources.sniff import sniff
from bnlint.sources.tf_files import _binary_class, _message_class
from conftest import FIXTURES, run_cli


def binary_graphs():
    for directory, _, names in os.walk(FIXTURES):
        for name in sorted(names):
            if name.endswith((".pb", ".meta")):
                path = os.path.join(directory, name)
                with open(path, "rb") as handle:
                    data = handle.read()
                found = sniff(data)
                if found.encoding == "binary" and found.messages:
                    yield path, found.messages[0], data


def node_defs(message):
    graph_defs = ([message] if hasattr(message, "node") else
                  [message.graph_def] if hasattr(message, "graph_def") else
                  [meta.graph_def for meta in message.meta_graphs])
    for graph_def in graph_defs:
        yield from graph_def.node
        for function in graph_def.library.function:
            yield from function.node_def


def test_the_lazy_classes_lose_nothing_and_decode_alike():
    checked = 0
    for path, kind, data in binary_graphs():
        try:
            full = _message_class(kind).FromString(data)
        except DecodeError:  # not this kind after all; the lazy classes read more, not less
            continue
        lazy = _binary_class(kind).FromString(data)
        assert _message_class(kind).FromString(lazy.SerializeToString()) == full, path
        for ours, theirs in zip(node_defs(lazy), node_defs(full), strict=True):
            assert not isinstance(ours.attr, type(theirs.attr))
            assert dict(Attrs(ours)) == dict(Attrs(theirs)), (path, ours.name)
            checked += 1
    assert checked > 10_000


def entry(key, **value):
    message = entry_class()(key=key)
    for field, content in value.items():
        setattr(message.value, field, content)
    return message.SerializeToString()


def test_an_entry_is_found_by_its_key_and_the_last_one_wins():
    entries = [entry("T", type=1), entry("Tidx", type=3), entry("T", type=9)]
    assert entry_value(entries, "T").type == 9
    assert entry_value(entries, "Tidx").type == 3
    assert entry_value(entries, "Ti") is None and entry_value([], "T") is None


def test_an_entry_written_value_first_is_still_found():
    value = entry_class()(key="x").value
    value.b = True
    body = value.SerializeToString()
    backwards = b"\x12" + bytes([len(body)]) + body + b"\x0a\x0bis_training"
    assert entry_value([entry("T", type=1), backwards], "is_training").b is True
    node = protos.lazy_class("tensorflow.NodeDef")(name="bn", attr=[backwards, entry("T", s=b"x")])
    assert dict(Attrs(node)) == {"T": "x", "is_training": True}
    with pytest.raises(KeyError):
        Attrs(node)["epsilon"]


def test_a_corrupt_attribute_is_the_files_error(tmp_path):
    """The full classes refused such a file when it was parsed; now the attribute is parsed when
    an analysis reads it, and the file's error names the node and the attribute."""
    good = entry("is_training", b=True)
    bad = good[:-2] + b"\x0a\x7f"  # a key field longer than the entry
    graph = protos.lazy_class("tensorflow.GraphDef")()
    graph.node.add(name="x", op="Placeholder")
    graph.node.add(name="bn/FusedBatchNormV3", op="FusedBatchNormV3", input=["x"] * 5,
                   attr=[entry("epsilon", f=0.001), bad])
    path = tmp_path / "graph.pb"
    path.write_bytes(graph.SerializeToString())
    result = run_cli(path, "--format", "json", "--no-cache")
    assert result.code == 2
    (error,) = json.loads(result.out)["errors"]
    assert error["path"] == str(path)
    # what follows is protobuf's own words, which differ between its versions
    assert error["message"].startswith("corrupt graph: attribute 'is_training' of node "
                                       "'bn/FusedBatchNormV3' cannot be parsed (Error parsing")
