"""The TensorFlow protocol buffer classes bnlint reads, without importing TensorFlow.

``tf_protos.binpb`` beside this module is a serialized FileDescriptorSet of exactly the messages
bnlint reads (GraphDef, MetaGraphDef, SavedModel, GraphDebugInfo, TrackableObjectGraph, the
checkpoint bundle's header and entries, Keras' SavedMetadata, and what they contain), taken from
TensorFlow's own generated modules by ``tools/build_protos.py``. It is loaded into a private
descriptor pool, so bnlint's classes never clash with TensorFlow's when both are imported.
Fields bnlint never reads (a MetaGraphDef's object graph and signatures) are left out; a parser
keeps their bytes as unknown fields.

This is the only module that names where the protos come from.
"""

from __future__ import annotations

import os

from google.protobuf import descriptor_pool
from google.protobuf.internal import enum_type_wrapper
from google.protobuf.message import DecodeError

DESCRIPTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_protos.binpb")
# The same messages as a binary graph file is read: a node's ``attr`` is ``repeated bytes`` (the
# bytes of each map entry, decoded when an analysis reads it: bnlint.graph.attrs) and a function's
# own attributes are unknown fields. Parsing ResNet-152's training graph takes a tenth less time
# and 18 MB less memory than with the full classes, and a binary file loses nothing: its bytes
# are all kept. Text files are parsed with the full classes (text has no entries' bytes).
LAZY_DESCRIPTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_protos_lazy.binpb")


def _load_pool(path: str = DESCRIPTORS):
    """The pool of the set's files. A FileDescriptorSet is ``repeated FileDescriptorProto
    file = 1``: each file's bytes are taken as they are, without importing descriptor_pb2
    (20 ms, a tenth of a small graph's lint)."""
    from .sniff import varint

    pool = descriptor_pool.DescriptorPool()
    with open(path, "rb") as handle:
        data = handle.read()
    position = 0
    while position < len(data):
        key, position = varint(data, position)
        length, position = varint(data, position)
        if key != (1 << 3 | 2):
            raise ImportError(f"{path} is not a FileDescriptorSet")
        pool.AddSerializedFile(data[position:position + length])
        position += length
    return pool


POOL = _load_pool()


def message_class(full_name: str, pool=None):
    """The class of the message ``full_name`` in bnlint's pool (or ``pool``)."""
    from google.protobuf import message_factory

    pool = pool or POOL
    descriptor = pool.FindMessageTypeByName(full_name)
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    if get_class is None:
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)
    return get_class(descriptor)


_lazy_pool: list = []  # loaded once, when first needed
_lazy_classes: dict[str, type] = {}


def lazy_class(full_name: str):
    """The class of ``full_name`` from the lazy set (see LAZY_DESCRIPTORS), which is loaded
    the first time a binary graph is read."""
    found = _lazy_classes.get(full_name)
    if found is None:
        if not _lazy_pool:
            _lazy_pool.append(_load_pool(LAZY_DESCRIPTORS))
        found = _lazy_classes[full_name] = message_class(full_name, _lazy_pool[0])
    return found


GraphDef = message_class("tensorflow.GraphDef")
GraphDebugInfo = message_class("tensorflow.GraphDebugInfo")
MetaGraphDef = message_class("tensorflow.MetaGraphDef")
SavedModel = message_class("tensorflow.SavedModel")
VariableDef = message_class("tensorflow.VariableDef")
# A checkpoint's index: the header under the empty key, then where each tensor's bytes are.
BundleHeaderProto = message_class("tensorflow.BundleHeaderProto")
BundleEntryProto = message_class("tensorflow.BundleEntryProto")
# A TF2 checkpoint's object graph (the ``_CHECKPOINTABLE_OBJECT_GRAPH`` tensor).
TrackableObjectGraph = message_class("tensorflow.TrackableObjectGraph")
# Keras' keras_metadata.pb: each SavedObject's node_path and JSON metadata.
SavedMetadata = message_class("third_party.py.tf_keras.protobuf.SavedMetadata")
DataType = enum_type_wrapper.EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.DataType"))

__all__ = [
    "POOL", "BundleEntryProto", "BundleHeaderProto", "DataType", "DecodeError",
    "GraphDebugInfo", "GraphDef", "MetaGraphDef", "SavedMetadata", "SavedModel",
    "TrackableObjectGraph", "VariableDef", "lazy_class", "message_class", "text_format",
]


def text_format():
    """protobuf's text-format module, imported when a text file is read (10 ms)."""
    from google.protobuf import text_format as module

    return module
