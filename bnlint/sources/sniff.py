"""Tell what a file holds from its bytes, not its name.

TensorFlow writes the same three messages under many names: a ``.pb`` may be a GraphDef or a
SavedModel, a ``.pbtxt`` a GraphDef or a MetaGraphDef, a ``.meta`` binary or text. The binary
form is recognised from its top-level protobuf fields, the text form from its first field name.
A Keras model file is told by its first bytes (:func:`sniff_keras`), before the Keras loader
is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GRAPH_DEF = "GraphDef"
META_GRAPH_DEF = "MetaGraphDef"
SAVED_MODEL = "SavedModel"

# Top-level field numbers of each message (graph.proto, meta_graph.proto, saved_model.proto).
_GRAPH_DEF_FIELDS = {1, 2, 3, 4, 5}
_META_GRAPH_FIELDS = {1, 2, 3, 4, 5, 6, 7}
_SAVED_MODEL_FIELDS = {1, 2}

_TEXT_FIRST_FIELD = {
    "node": GRAPH_DEF, "library": GRAPH_DEF, "versions": GRAPH_DEF, "version": GRAPH_DEF,
    "debug_info": GRAPH_DEF,
    "meta_info_def": META_GRAPH_DEF, "graph_def": META_GRAPH_DEF, "saver_def": META_GRAPH_DEF,
    "collection_def": META_GRAPH_DEF, "signature_def": META_GRAPH_DEF,
    "asset_file_def": META_GRAPH_DEF, "object_graph_def": META_GRAPH_DEF,
    "saved_model_schema_version": SAVED_MODEL, "meta_graphs": SAVED_MODEL,
}
_FIRST_IDENT = re.compile(rb"\A(?:\s|#[^\n]*\n)*([A-Za-z_][A-Za-z0-9_]*)")
_TEXT_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Sniffed:
    """What a file is: candidate ``messages`` (GraphDef, MetaGraphDef, SavedModel), most likely
    first, and its ``encoding``."""

    messages: tuple[str, ...]  # candidates, most likely first; empty if not a TensorFlow graph
    encoding: str  # "binary" or "text"
    problem: str | None = None  # why a binary file is not valid protobuf wire format


class WireError(ValueError):
    """The bytes are not protobuf wire format; the message says where."""


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """The protobuf varint at ``pos`` and the position after it; WireError if malformed."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireError(f"truncated: a varint runs past the end of the file at byte {pos}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError(f"corrupt: a varint longer than 10 bytes at byte {pos}")


def top_level_fields(data: bytes, limit: int | None = None):
    """Yield ``(field_number, wire_type)`` of each top-level field; raise WireError if malformed."""
    pos, count, end = 0, 0, len(data)
    while pos < end and (limit is None or count < limit):
        start = pos
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"corrupt: field number 0 at byte {start}")
        if wire == 0:
            _, pos = varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, pos = varint(data, pos)
            pos += length
        elif wire == 5:
            pos += 4
        else:
            raise WireError(f"corrupt: invalid wire type {wire} at byte {start}")
        if pos > end:
            raise WireError(
                f"truncated: field {number} at byte {start} needs {pos - end} more bytes "
                f"than the file's {end}"
            )
        count += 1
        yield number, wire


def looks_like_text(head: bytes) -> bool:
    if not head or _TEXT_CONTROL.search(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut by the sample's end is fine
        if exc.start < len(head) - 4:
            return False
    return True


def sniff_text(head: bytes) -> str | None:
    match = _FIRST_IDENT.match(head)
    return _TEXT_FIRST_FIELD.get(match.group(1).decode()) if match else None


def sniff_binary(data: bytes) -> tuple[str, ...]:
    """The TensorFlow messages the wire-format ``data`` may be, most likely first.

    Empty when none fits; raises WireError when the first fields are not protobuf at all.
    A GraphDef repeats field 1 (its nodes); a MetaGraphDef has field 1 (meta_info_def) at most
    once. A one-node GraphDef and a MetaGraphDef share field numbers, so both are returned and
    the loader keeps the one that parses into something plausible.
    """
    fields = list(top_level_fields(data, limit=64))
    numbers = {number for number, _ in fields}
    wire_of: dict[int, set[int]] = {}
    for number, wire in fields:
        wire_of.setdefault(number, set()).add(wire)
    if numbers <= _SAVED_MODEL_FIELDS and wire_of.get(1) == {0} and wire_of.get(2) == {2}:
        return (SAVED_MODEL,)
    if any(wires != {2} for number, wires in wire_of.items() if number != 3):
        return ()  # every field but GraphDef's deprecated int 'version' is a message or string
    candidates = []
    if numbers <= _GRAPH_DEF_FIELDS and sum(1 for number, _ in fields if number == 1) > 1:
        return (GRAPH_DEF,)
    if numbers <= _META_GRAPH_FIELDS:
        candidates.append(META_GRAPH_DEF)
    if numbers <= _GRAPH_DEF_FIELDS:
        candidates.append(GRAPH_DEF)
    return tuple(candidates)


def is_saved_model_head(head: bytes) -> bool:
    """True when the first bytes of a file are a SavedModel's: text starting with one of its
    fields, or ``saved_model_schema_version`` (field 1, a varint) then ``meta_graphs`` (field 2,
    a message), which is how TensorFlow writes one."""
    if looks_like_text(head):
        return sniff_text(head) == SAVED_MODEL
    try:
        key, pos = varint(head, 0)
        if key != (1 << 3 | 0):
            return False
        _, pos = varint(head, pos)
        key, _ = varint(head, pos)
    except WireError:
        return False
    return key == (2 << 3 | 2)


def sniff(data: bytes) -> Sniffed:
    head = data[:65536]
    if looks_like_text(head):
        message = sniff_text(head)
        return Sniffed((message,) if message else (), "text")
    try:
        return Sniffed(sniff_binary(data), "binary")
    except WireError as exc:
        return Sniffed((), "binary", problem=str(exc))


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
_LEADING_BLANKS = re.compile(rb"[\xef\xbb\xbf \t\r\n]*")


def sniff_keras(data: bytes) -> str | None:
    """What a Keras model file is: ``hdf5``, ``zip`` (a ``.keras`` archive), ``json``, or None.

    >>> sniff_keras(b"PK\\x03\\x04..."), sniff_keras(b' {"class_name": "Sequential"}')
    ('zip', 'json')
    """
    if data.startswith(HDF5_SIGNATURE) or any(
            data[offset:offset + 8] == HDF5_SIGNATURE for offset in (512, 1024, 2048)):
        return "hdf5"
    if data.startswith(ZIP_SIGNATURE):
        return "zip"
    start = _LEADING_BLANKS.match(data).end()  # not lstrip(): a copy of a 500 MB graph
    if data[start:start + 1] in (b"{", b"["):
        return "json"
    return None
