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
from tensorboard.compat.proto import graph_pb2, meta_graph_pb2, types_pb2, variable_pb2

GraphDef = graph_pb2.GraphDef
MetaGraphDef = meta_graph_pb2.MetaGraphDef
VariableDef = variable_pb2.VariableDef
DataType = types_pb2.DataType

__all__ = [
    "DataType", "DecodeError", "GraphDef", "MetaGraphDef", "VariableDef", "saved_model_class",
    "text_format",
]


def text_format():
    """protobuf's text-format module, imported when a text file is read (10 ms)."""
    from google.protobuf import text_format as module

    return module


@functools.cache
def saved_model_class():
    """The SavedModel message class, declared on first use (its imports cost 15 ms)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    meta = MetaGraphDef.DESCRIPTOR
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="bnlint/saved_model.proto",
        package="bnlint",
        syntax="proto3",
        dependency=[meta.file.name],
    )
    message = file_proto.message_type.add(name="SavedModel")
    message.field.add(
        name="saved_model_schema_version", number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    message.field.add(
        name="meta_graphs", number=2,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED,
        type_name="." + meta.full_name,
    )
    pool = descriptor_pool.Default()
    try:
        descriptor = pool.FindMessageTypeByName("bnlint.SavedModel")
    except KeyError:
        pool.AddSerializedFile(file_proto.SerializeToString())
        descriptor = pool.FindMessageTypeByName("bnlint.SavedModel")
    return message_factory.GetMessageClass(descriptor)
