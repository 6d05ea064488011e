"""Read a TensorFlow graph file into GraphInputs, or say in one line why it cannot be read."""

from __future__ import annotations

import itertools
import os
import re

from ..errors import InputError
from . import protos
from .debug_info import DebugInfo, companion_path, traces_from_message
from .graph_input import GraphInput
from .sniff import GRAPH_DEF, META_GRAPH_DEF, SAVED_MODEL, WireError, sniff, top_level_fields
from .text_lines import GraphLines, graph_lines


def _message_class(kind: str):
    if kind == SAVED_MODEL:
        return protos.SavedModel
    return protos.GraphDef if kind == GRAPH_DEF else protos.MetaGraphDef


def _binary_class(kind: str):
    """The class a binary file of ``kind`` is parsed with: :func:`_message_class`'s message
    from the lazy set, whose nodes' attributes are decoded when read
    (:func:`bnlint.sources.protos.lazy_class`)."""
    return protos.lazy_class(_message_class(kind).DESCRIPTOR.full_name)


class NotAGraph(Exception):
    """The file is readable but holds no TensorFlow graph; it is skipped, not an error."""


def load_tf_file(path: str, display: str | None = None) -> list[GraphInput]:
    """All graphs in the file at ``path``. Raises InputError or NotAGraph."""
    from .files import read_limited

    display = display or path
    return load_tf_bytes(read_limited(path, display), display, path)


def load_tf_bytes(data: bytes, display: str, path: str) -> list[GraphInput]:
    """All graphs in ``data`` (the bytes of the file at ``path``)."""
    sniffed = sniff(data)
    if not sniffed.messages:
        if sniffed.problem:
            raise InputError(display, f"not a valid protocol buffer ({sniffed.problem})")
        raise NotAGraph("not a TensorFlow GraphDef, MetaGraphDef or SavedModel")
    if sniffed.encoding == "text":
        inputs = _load_text(data, sniffed.messages[0], display)
    else:
        inputs = _load_binary(data, sniffed.messages, display)
    step = _CHECKPOINT_STEP.search(os.path.basename(path))
    companion = companion_path(path) if path else None
    beside = DebugInfo(companion) if companion else None  # one file for every graph in it
    checkpoint = checkpoint_prefix(path) if path else None
    for source in inputs:
        source.checkpoint_step = int(step.group(1)) if step else None
        source.checkpoint = checkpoint
        if source.debug is None:
            source.debug = beside
    return inputs


def checkpoint_prefix(path: str) -> str | None:
    """The checkpoint saved with the graph at ``path``, when its index is there: a
    ``model.ckpt-N.meta``'s ``model.ckpt-N`` (an Estimator or Supervisor model_dir, a Saver),
    a SavedModel's ``variables/variables``."""
    directory, name = os.path.split(path)
    if name.endswith(".meta"):
        prefix = path[:-len(".meta")]
    elif name in ("saved_model.pb", "saved_model.pbtxt"):
        prefix = os.path.join(directory, "variables", "variables")
    else:
        return None
    return prefix if os.path.isfile(prefix + ".index") else None


# A Saver checkpoint's MetaGraph, model.ckpt-N.meta, is written after N training steps.
_CHECKPOINT_STEP = re.compile(r"\.ckpt-(\d+)\.meta\Z")


def _load_binary(data: bytes, candidates: tuple[str, ...], display: str) -> list[GraphInput]:
    failure = None
    for kind in candidates:
        cls = _binary_class(kind)
        try:
            message = cls.FromString(data)
        except (protos.DecodeError, RuntimeError, ValueError) as exc:
            failure = failure or (kind, exc)
            continue
        if _plausible(kind, message):
            return _inputs(kind, message, "binary", display, None)
    if failure is None:
        raise NotAGraph("protocol buffer, but not a TensorFlow graph")
    kind, exc = failure
    raise InputError(display, f"corrupt {kind}: {_wire_problem(data) or _decode_detail(exc)}")


def _wire_problem(data: bytes) -> str | None:
    try:
        for _ in top_level_fields(data):
            pass
    except WireError as exc:
        return str(exc)
    return None


def _decode_detail(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


def _plausible(kind: str, message) -> bool:
    if kind == GRAPH_DEF:  # another schema's message read as a GraphDef has no op names
        return all(node.op and node.name for node in itertools.islice(message.node, 16))
    if kind == META_GRAPH_DEF:
        return message.HasField("graph_def") or message.HasField("meta_info_def")
    return len(message.meta_graphs) > 0


def _load_text(data: bytes, kind: str, display: str) -> list[GraphInput]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(display, f"text file is not UTF-8 (byte {exc.start})") from None
    message = _message_class(kind)()
    text_format = protos.text_format()
    try:
        text_format.Parse(text, message, descriptor_pool=protos.POOL)
    except RecursionError:
        raise InputError(display, f"text {kind} nested too deeply to parse (TensorFlow's nest "
                                  "about ten levels)") from None
    except text_format.ParseError as exc:
        line, column = exc.GetLine(), exc.GetColumn()
        detail = str(exc)
        prefix = f"{line}:{column} : "
        if detail.startswith(prefix):
            detail = detail[len(prefix):]
        raise InputError(
            display, f"syntax error in text {kind}: {_decode_detail(Exception(detail))}",
            line=line, column=column,
        ) from None
    return _inputs(kind, message, "text", display, graph_lines(text))


def _inputs(kind, message, encoding, display, lines: list[GraphLines] | None) -> list[GraphInput]:
    if kind == GRAPH_DEF:
        return [_graph_input(display, kind, encoding, message, None, _nth(lines, 0))]
    if kind == META_GRAPH_DEF:
        return [_from_meta_graph(display, kind, encoding, message, None, _nth(lines, 0))]
    metas = message.meta_graphs
    inputs = []
    for index, meta in enumerate(metas):
        tags = ",".join(meta.meta_info_def.tags) or "untagged"
        label = tags if len(metas) == 1 else f"meta_graphs[{index}] {tags}"
        inputs.append(_from_meta_graph(display, kind, encoding, meta, label, _nth(lines, index)))
    return inputs


def _nth(lines: list[GraphLines] | None, index: int) -> GraphLines | None:
    if lines is None:
        return None
    return lines[index] if index < len(lines) else GraphLines()


def _graph_input(display, kind, encoding, graph_def, label, lines: GraphLines | None, **extra):
    function_lines = {}
    if lines is not None:
        for function, node_lines in zip(graph_def.library.function, lines.functions,
                                        strict=False):
            function_lines[function.signature.name] = node_lines
    embedded = (DebugInfo(traces=traces_from_message(graph_def.debug_info))
                if graph_def.HasField("debug_info") else None)
    return GraphInput(
        path=display, kind=kind, encoding=encoding, graph_def=graph_def, label=label,
        node_lines=lines.nodes if lines is not None else None,
        function_lines=function_lines, debug=embedded, **extra,
    )


def _from_meta_graph(display, kind, encoding, meta, label, lines) -> GraphInput:
    info = meta.meta_info_def
    return _graph_input(
        display, kind, encoding, meta.graph_def, label, lines,
        tags=tuple(info.tags),
        collections=_collections(meta),
        op_outputs={
            op.name: [arg.name for arg in op.output_arg] for op in info.stripped_op_list.op
        },
        tensorflow_version=info.tensorflow_version or None,
    )


def _collections(meta) -> dict[str, list[str]]:
    """Node names in each collection; variable collections give their variables' nodes."""
    result: dict[str, list[str]] = {}
    for key in sorted(meta.collection_def):
        collection = meta.collection_def[key]
        which = collection.WhichOneof("kind")
        names: list[str] = []
        if which == "node_list":
            names = [_node_name(value) for value in collection.node_list.value]
        elif which == "bytes_list" and key.endswith("variables"):
            for raw in collection.bytes_list.value:
                try:
                    names.append(_node_name(protos.VariableDef.FromString(raw).variable_name))
                except protos.DecodeError:
                    continue
        if names:
            result[key] = names
    return result


def _node_name(tensor_name: str) -> str:
    name = tensor_name.lstrip("^")
    head, sep, port = name.rpartition(":")
    return head if sep and port.isdigit() else name
