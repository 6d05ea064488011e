"""Protobuf wire format, as far as the graph build compares serialized messages in place:
varints, and the bytes of string fields.

A string field is written as its tag byte, the length of its UTF-8 text as a varint, then the
text; a singular one is left out when empty, each entry of a repeated one is written. Fields
are written in the order of their numbers (upb, and TensorFlow's C++ writer, do).

>>> encode_varint(300), string_entry(3, "^a")
(b'\\xac\\x02', b'\\x1a\\x02^a')
>>> entry_sizes(["^a", "x" * 200]), len(string_entry(3, "^a") + string_entry(3, "x" * 200))
([4, 203], 207)
"""

from __future__ import annotations

from collections.abc import Iterable


def encode_varint(value: int) -> bytes:
    """A non-negative integer as a base-128 varint, low bits first."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint_size(value: int) -> int:
    """How many bytes :func:`encode_varint` writes for ``value``."""
    return 1 if value < 0x80 else (value.bit_length() + 6) // 7


def string_entry(field: int, text: str) -> bytes:
    """One entry of string field ``field`` (numbers below 16 have a one-byte tag)."""
    encoded = text.encode("utf-8")
    return bytes((field << 3 | 2,)) + encode_varint(len(encoded)) + encoded


def entry_sizes(texts: Iterable[str]) -> list[int]:
    """The bytes of each entry of a repeated string field holding ``texts``."""
    texts = list(texts)
    if all(map(str.isascii, texts)):
        lengths = list(map(len, texts))
    else:
        lengths = [len(text.encode("utf-8")) for text in texts]
    if lengths and max(lengths) >= 0x80:
        return [1 + varint_size(length) + length for length in lengths]
    return [2 + length for length in lengths]  # a tag and a one-byte length each


def entries_size(texts: Iterable[str]) -> int:
    """The bytes of a repeated string field's entries ``texts``."""
    return sum(entry_sizes(texts))
