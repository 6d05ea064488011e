"""Write bnlint/sources/tf_protos.binpb: the descriptors of the TensorFlow messages bnlint reads.

bnlint parses GraphDefs, MetaGraphDefs, SavedModels, GraphDebugInfo, checkpoint bundles and
Keras' SavedMetadata without TensorFlow. This script takes those messages' descriptors from
TensorFlow's own generated modules (and tf-keras' for SavedMetadata), keeps only the messages
reachable from the ones bnlint reads, and writes them as one serialized FileDescriptorSet, which
bnlint loads into a private descriptor pool (bnlint/sources/protos.py).

It also writes bnlint/sources/tf_protos_lazy.binpb, the same set as bnlint reads a binary graph
file: a node's attributes are kept as the bytes of their map entries, decoded one at a time
when an analysis reads one (bnlint/graph/attrs.py), and a function's own attributes are left
unparsed (bnlint never reads them). ResNet-152's training graph then parses in a tenth less
time and 18 MB less memory.

    python tools/build_protos.py          # rewrite the files
    python tools/build_protos.py --check  # exit 1 when a committed file differs

Needs TensorFlow and tf-keras (the test extras). tests/test_protos.py runs --check.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

SOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "bnlint", "sources")
OUTPUT = os.path.join(SOURCES, "tf_protos.binpb")
LAZY_OUTPUT = os.path.join(SOURCES, "tf_protos_lazy.binpb")

# The messages bnlint reads (module, full name); everything they reach comes with them.
ROOTS = [
    ("tensorflow.core.framework.graph_pb2", "tensorflow.GraphDef"),
    ("tensorflow.core.protobuf.meta_graph_pb2", "tensorflow.MetaGraphDef"),
    ("tensorflow.core.protobuf.saved_model_pb2", "tensorflow.SavedModel"),
    ("tensorflow.core.framework.graph_debug_info_pb2", "tensorflow.GraphDebugInfo"),
    ("tensorflow.core.framework.variable_pb2", "tensorflow.VariableDef"),
    ("tensorflow.core.protobuf.trackable_object_graph_pb2", "tensorflow.TrackableObjectGraph"),
    ("tensorflow.core.protobuf.tensor_bundle_pb2", "tensorflow.BundleHeaderProto"),
    ("tensorflow.core.protobuf.tensor_bundle_pb2", "tensorflow.BundleEntryProto"),
    ("tf_keras.protobuf.saved_metadata_pb2", "third_party.py.tf_keras.protobuf"
                                             ".SavedMetadata"),
]

# Fields of kept messages that bnlint never reads, dropped with what only they reach (a parser
# keeps their bytes as unknown fields). MetaGraphDef's object graph and signatures alone would
# bring in most of saved_object_graph.proto and struct.proto.
UNREAD_FIELDS = {
    "tensorflow.MetaGraphDef.object_graph_def",
    "tensorflow.MetaGraphDef.signature_def",
    "tensorflow.MetaGraphDef.asset_file_def",
}


# The lazy set: these map fields become ``repeated bytes`` (each entry's bytes as written), and
# their entry messages plain messages: a map entry message is meant to live in its map, and
# parsing or building one alone relies on what protobuf does not promise (a test doing so
# failed once under protobuf 4.21) ...
RAW_MAP_FIELDS = {"tensorflow.NodeDef.attr"}
# ... and these are left out (kept as unknown fields).
LAZY_UNREAD_FIELDS = {
    "tensorflow.FunctionDef.attr",
    "tensorflow.FunctionDef.arg_attr",
    "tensorflow.FunctionDef.resource_arg_unique_id",
}


def _file_protos():
    """Every .proto file the roots' modules depend on, as FileDescriptorProtos by name."""
    from google.protobuf import descriptor_pb2

    files = {}

    def visit(descriptor):
        if descriptor.name in files:
            return
        for dependency in descriptor.dependencies:
            visit(dependency)
        files[descriptor.name] = descriptor_pb2.FileDescriptorProto.FromString(
            descriptor.serialized_pb)

    for module, _ in ROOTS:
        visit(importlib.import_module(module).DESCRIPTOR)
    return files  # dependencies first


def _index(files):
    """Full name -> (file name, message or enum proto) for every type, nested ones included."""
    types = {}

    def add_messages(file_name, scope, messages):
        for message in messages:
            name = f"{scope}.{message.name}"
            types[name] = (file_name, message)
            add_messages(file_name, name, message.nested_type)
            for enum in message.enum_type:
                types[f"{name}.{enum.name}"] = (file_name, enum)

    for file_name, proto in files.items():
        scope = proto.package
        add_messages(file_name, scope, proto.message_type)
        for enum in proto.enum_type:
            types[f"{scope}.{enum.name}"] = (file_name, enum)
    return types


def _reachable(types):
    from google.protobuf import descriptor_pb2

    seen, stack = set(), [name for _, name in ROOTS]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        _, proto = types[name]
        if not isinstance(proto, descriptor_pb2.DescriptorProto):
            continue
        for nested in proto.nested_type:  # a kept message keeps what is declared inside it,
            if not nested.options.map_entry:  # but a map's entry only with its field
                stack.append(f"{name}.{nested.name}")
        for enum in proto.enum_type:
            stack.append(f"{name}.{enum.name}")
        for field in proto.field:
            if f"{name}.{field.name}" not in UNREAD_FIELDS and field.type_name:
                stack.append(field.type_name.lstrip("."))
    return seen


def build() -> bytes:
    from google.protobuf import descriptor_pb2

    files = _file_protos()
    types = _index(files)
    keep = _reachable(types)
    result = descriptor_pb2.FileDescriptorSet()
    for file_name, proto in files.items():
        pruned = descriptor_pb2.FileDescriptorProto(name=proto.name, package=proto.package)
        if proto.HasField("syntax"):  # proto2 files have none; file options are not needed
            pruned.syntax = proto.syntax
        referenced = set()
        for message in proto.message_type:
            name = f"{proto.package}.{message.name}"
            if name not in keep:
                continue
            kept = pruned.message_type.add()
            kept.CopyFrom(_pruned_message(message, name, keep))
            referenced |= _type_names(kept)
        for enum in proto.enum_type:
            if f"{proto.package}.{enum.name}" in keep:
                pruned.enum_type.add().CopyFrom(enum)
        if not pruned.message_type and not pruned.enum_type:
            continue
        needed = {types[name][0] for name in referenced if name in types} - {file_name}
        pruned.dependency.extend(sorted(needed))
        result.file.add().CopyFrom(pruned)
    return result.SerializeToString(deterministic=True)


def _pruned_message(message, name: str, keep: set[str]):
    """``message`` without its unread fields and the nested types nothing kept uses."""
    from google.protobuf import descriptor_pb2

    pruned = descriptor_pb2.DescriptorProto()
    pruned.CopyFrom(message)
    del pruned.field[:], pruned.nested_type[:]
    pruned.field.extend(field for field in message.field
                        if f"{name}.{field.name}" not in UNREAD_FIELDS)
    for nested in message.nested_type:
        if f"{name}.{nested.name}" in keep:
            pruned.nested_type.add().CopyFrom(
                _pruned_message(nested, f"{name}.{nested.name}", keep))
    return pruned


def _type_names(message) -> set[str]:
    names = {field.type_name.lstrip(".") for field in message.field if field.type_name}
    for nested in message.nested_type:
        names |= _type_names(nested)
    return names


def lazy(data: bytes) -> bytes:
    """The lazy set of the set ``data``: see RAW_MAP_FIELDS and LAZY_UNREAD_FIELDS."""
    from google.protobuf import descriptor_pb2

    result = descriptor_pb2.FileDescriptorSet.FromString(data)
    for proto in result.file:
        for message in proto.message_type:
            name = f"{proto.package}.{message.name}"
            kept = [field for field in message.field
                    if f"{name}.{field.name}" not in LAZY_UNREAD_FIELDS]
            del message.field[:]
            message.field.extend(kept)
            for field in message.field:
                if f"{name}.{field.name}" in RAW_MAP_FIELDS:
                    entry = field.type_name.rsplit(".", 1)[-1]
                    field.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                    field.ClearField("type_name")
                    for nested in message.nested_type:  # a plain message now, parsed alone
                        if nested.name == entry:
                            nested.ClearField("options")
    return result.SerializeToString(deterministic=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the committed file differs from a fresh build")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    data = build()
    outputs = {OUTPUT: data, LAZY_OUTPUT: lazy(data)}
    if args.check:
        stale = [path for path, content in outputs.items() if _read(path) != content]
        for path in stale:
            print(f"{path} is stale: run python tools/build_protos.py", file=sys.stderr)
        return 1 if stale else 0
    for path, content in outputs.items():
        with open(path, "wb") as handle:
            handle.write(content)
        print(f"wrote {path} ({len(content)} bytes)")
    return 0


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
