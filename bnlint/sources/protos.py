"""The TensorFlow protocol buffer classes bnlint reads, without importing TensorFlow.

The classes come from ``tensorboard.compat.proto``: TensorBoard ships Python modules generated
from TensorFlow's own ``.proto`` files (``graph.proto``, ``meta_graph.proto``, ...), versioned
with TensorFlow, importable in ~0.05 s. TensorBoard does not ship ``saved_model.proto``; a
SavedModel is ``int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2``,
so that one message is declared here against TensorBoard's ``MetaGraphDef``.

This is the only module that names where the protos come from.
"""

from __future__ import annotations

import functools

from google.protobuf.message import DecodeError
from tensorboard.compat.proto import (
    graph_debug_info_pb2,
    graph_pb2,
    meta_graph_pb2,
    types_pb2,
    variable_pb2,
)

GraphDef = graph_pb2.GraphDef
GraphDebugInfo = graph_debug_info_pb2.GraphDebugInfo
MetaGraphDef = meta_graph_pb2.MetaGraphDef
VariableDef = variable_pb2.VariableDef
DataType = types_pb2.DataType

__all__ = [
    "DataType", "DecodeError", "GraphDebugInfo", "GraphDef", "MetaGraphDef", "VariableDef",
    "saved_metadata_class", "saved_model_class", "text_format",
]


def text_format():
    """protobuf's text-format module, imported when a text file is read (10 ms)."""
    from google.protobuf import text_format as module

    return module


def _declare(file_name: str, message_name: str, fields, dependency=None):
    """Declare proto3 messages at run time and return the class of ``message_name``.
    ``fields`` maps each message to its ``(name, number, type, label, type_name)`` fields."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    pool = descriptor_pool.Default()
    full_name = f"bnlint.{message_name}"
    try:
        descriptor = pool.FindMessageTypeByName(full_name)
    except KeyError:
        file_proto = descriptor_pb2.FileDescriptorProto(
            name=file_name, package="bnlint", syntax="proto3",
            dependency=[dependency] if dependency else [])
        for name, message_fields in fields.items():
            message = file_proto.message_type.add(name=name)
            for field_name, number, kind, label, type_name in message_fields:
                field = message.field.add(
                    name=field_name, number=number,
                    type=getattr(descriptor_pb2.FieldDescriptorProto, f"TYPE_{kind}"),
                    label=getattr(descriptor_pb2.FieldDescriptorProto, f"LABEL_{label}"))
                if type_name:
                    field.type_name = type_name
        pool.AddSerializedFile(file_proto.SerializeToString())
        descriptor = pool.FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(descriptor)


@functools.cache
def saved_model_class():
    """The SavedModel message (declared on first use: its imports cost 15 ms)."""
    meta = MetaGraphDef.DESCRIPTOR
    return _declare("bnlint/saved_model.proto", "SavedModel", {"SavedModel": [
        ("saved_model_schema_version", 1, "INT64", "OPTIONAL", None),
        ("meta_graphs", 2, "MESSAGE", "REPEATED", "." + meta.full_name),
    ]}, dependency=meta.file.name)


@functools.cache
def bundle_header_class():
    """tensor_bundle.proto's BundleHeaderProto: the checkpoint index's empty key."""
    return _declare("bnlint/tensor_bundle.proto", "BundleHeaderProto", _BUNDLE)


@functools.cache
def bundle_entry_class():
    """tensor_bundle.proto's BundleEntryProto: where a tensor's bytes are, and their CRC32C
    (the enum ``dtype`` as its number; only the dimension sizes of the shape)."""
    return _declare("bnlint/tensor_bundle.proto", "BundleEntryProto", _BUNDLE)


_BUNDLE = {
    "BundleHeaderProto": [
        ("num_shards", 1, "INT32", "OPTIONAL", None),
        ("endianness", 2, "INT32", "OPTIONAL", None),
    ],
    "BundleDim": [("size", 1, "INT64", "OPTIONAL", None)],
    "BundleShape": [("dim", 2, "MESSAGE", "REPEATED", ".bnlint.BundleDim")],
    "BundleSlice": [("extent", 1, "BYTES", "REPEATED", None)],
    "BundleEntryProto": [
        ("dtype", 1, "INT32", "OPTIONAL", None),
        ("shape", 2, "MESSAGE", "OPTIONAL", ".bnlint.BundleShape"),
        ("shard_id", 3, "INT32", "OPTIONAL", None),
        ("offset", 4, "INT64", "OPTIONAL", None),
        ("size", 5, "INT64", "OPTIONAL", None),
        ("crc32c", 6, "FIXED32", "OPTIONAL", None),
        ("slices", 7, "MESSAGE", "REPEATED", ".bnlint.BundleSlice"),
    ],
}


@functools.cache
def saved_metadata_class():
    """Keras' SavedMetadata (keras_metadata.pb): ``repeated SavedObject nodes = 1``, each with
    its ``node_path`` and a JSON ``metadata`` string."""
    return _declare("bnlint/saved_metadata.proto", "SavedMetadata", {
        "SavedObject": [
            ("node_id", 2, "INT32", "OPTIONAL", None),
            ("node_path", 3, "STRING", "OPTIONAL", None),
            ("identifier", 4, "STRING", "OPTIONAL", None),
            ("metadata", 5, "STRING", "OPTIONAL", None),
        ],
        "SavedMetadata": [("nodes", 1, "MESSAGE", "REPEATED", ".bnlint.SavedObject")],
    })
