"""bnlint's own descriptors (bnlint/sources/tf_protos.binpb) against TensorFlow's classes:
the committed set is what tools/build_protos.py builds today, and every fixture bnlint reads
parses to the same message with both."""

import os
import subprocess
import sys

import pytest

from bnlint.sources import protos
from bnlint.sources.checkpoint import OBJECT_GRAPH_KEY, read_checkpoint, read_table
from bnlint.sources.sniff import GRAPH_DEF, META_GRAPH_DEF, SAVED_MODEL, sniff
from conftest import FIXTURES, ROOT

pytestmark = pytest.mark.tensorflow


def _fixture_files(*suffixes):
    for directory, _, names in os.walk(FIXTURES):
        for name in sorted(names):
            if name.endswith(suffixes):
                yield os.path.join(directory, name)


def test_committed_descriptors_are_what_the_script_builds():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build_protos.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def assert_same(ours, theirs, where=""):
    """Every field bnlint declares has the same value in both messages."""
    for field in ours.DESCRIPTOR.fields:
        here = f"{where}.{field.name}"
        mine, other = getattr(ours, field.name), getattr(theirs, field.name)
        if field.message_type is None:
            assert (list(mine) if field.is_repeated else mine) == \
                (list(other) if field.is_repeated else other), here
        elif field.message_type.GetOptions().map_entry:
            assert sorted(mine) == sorted(other), here
            for key in mine:
                if field.message_type.fields_by_name["value"].message_type is None:
                    assert mine[key] == other[key], f"{here}[{key}]"
                else:
                    assert_same(mine[key], other[key], f"{here}[{key}]")
        elif field.is_repeated:
            assert len(mine) == len(other), here
            for index, (a, b) in enumerate(zip(mine, other, strict=True)):
                assert_same(a, b, f"{here}[{index}]")
        else:
            assert ours.HasField(field.name) == theirs.HasField(field.name), here
            assert_same(mine, other, here)


def _tensorflow_class(kind):
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

    return {GRAPH_DEF: graph_pb2.GraphDef, META_GRAPH_DEF: meta_graph_pb2.MetaGraphDef,
            SAVED_MODEL: saved_model_pb2.SavedModel}[kind]


def _ours(kind):
    return protos.SavedModel if kind == SAVED_MODEL else \
        {GRAPH_DEF: protos.GraphDef, META_GRAPH_DEF: protos.MetaGraphDef}[kind]


def compare(ours_class, theirs_class, data: bytes, text: bool = False):
    """Both classes read ``data`` to the same message: field by field for small messages; for
    all, bnlint's message without its unknown fields is, byte for byte, TensorFlow's without the
    fields bnlint leaves undeclared (a pruned field would be missing from bnlint's bytes)."""
    from google.protobuf import text_format

    if text:
        theirs = text_format.Parse(data.decode(), theirs_class())
        ours = text_format.Parse(data.decode(), ours_class(), descriptor_pool=protos.POOL)
    else:
        theirs, ours = theirs_class.FromString(data), ours_class.FromString(data)
    # what bnlint leaves undeclared survives as unknown fields
    assert theirs_class.FromString(ours.SerializeToString()) == theirs
    if len(data) < 50_000:
        assert_same(ours, theirs)
    ours.DiscardUnknownFields()
    for meta_graph in _meta_graphs(theirs):
        for name in UNREAD_META_GRAPH_FIELDS:
            meta_graph.ClearField(name)
    assert ours.SerializeToString(deterministic=True) == \
        theirs.SerializeToString(deterministic=True)


UNREAD_META_GRAPH_FIELDS = ("object_graph_def", "signature_def", "asset_file_def")


def _meta_graphs(message):
    name = message.DESCRIPTOR.name
    return [message] if name == "MetaGraphDef" else \
        list(message.meta_graphs) if name == "SavedModel" else []


def test_every_graph_fixture_parses_alike():
    from google.protobuf.message import DecodeError

    compared = 0
    for path in _fixture_files(".pb", ".meta", ".pbtxt"):
        data = open(path, "rb").read()
        found = sniff(data)
        if found.encoding == "text" and len(data) > 100_000:
            continue  # the same graphs in binary are compared; text parsing is slow Python
        for kind in found.messages:  # the candidates bnlint's loader tries, in its order
            try:
                _tensorflow_class(kind).FromString(data) if found.encoding == "binary" else None
            except DecodeError:
                with pytest.raises(DecodeError):
                    _ours(kind).FromString(data)
                continue
            compare(_ours(kind), _tensorflow_class(kind), data, text=found.encoding == "text")
            compared += 1
            break
    assert compared > 200


def test_debug_info_metadata_and_checkpoints_parse_alike():
    from tensorflow.core.framework import graph_debug_info_pb2
    from tensorflow.core.protobuf import tensor_bundle_pb2, trackable_object_graph_pb2
    from tf_keras.protobuf import saved_metadata_pb2

    debug = list(_fixture_files(".debug"))
    for path in debug:
        compare(protos.GraphDebugInfo, graph_debug_info_pb2.GraphDebugInfo,
                open(path, "rb").read(), text=path.endswith(".metagraph.debug"))
    metadata = list(_fixture_files("keras_metadata.pb"))
    for path in metadata:
        compare(protos.SavedMetadata, saved_metadata_pb2.SavedMetadata,
                open(path, "rb").read())
    indexes = list(_fixture_files(".index"))
    object_graphs = 0
    for path in indexes:
        for key, value in read_table(open(path, "rb").read(), path):
            if key == b"":
                compare(protos.BundleHeaderProto, tensor_bundle_pb2.BundleHeaderProto, value)
            else:
                compare(protos.BundleEntryProto, tensor_bundle_pb2.BundleEntryProto, value)
        raw = read_checkpoint(path[:-len(".index")]).read_string(OBJECT_GRAPH_KEY)
        if raw:
            compare(protos.TrackableObjectGraph,
                    trackable_object_graph_pb2.TrackableObjectGraph, raw)
            object_graphs += 1
    assert len(debug) >= 4 and len(metadata) >= 3 and len(indexes) >= 5 and object_graphs >= 2
