"""Decode NodeDef attributes (AttrValue protos) into plain Python values.

Decoding is lazy: :class:`Attrs` decodes a key the first time a rule or analysis reads it, so
building the graph of a 50k-node model does not pay for attributes nobody looks at.

>>> from bnlint.sources.protos import GraphDef
>>> node = GraphDef().node.add(name="bn", op="FusedBatchNormV3")
>>> node.attr["is_training"].b = False
>>> node.attr["data_format"].s = b"NCHW"
>>> attrs = Attrs(node)
>>> attrs["is_training"], attrs["data_format"], attrs.get("epsilon")
(False, 'NCHW', None)
"""

from __future__ import annotations

import array
import math
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CorruptAttribute, one_line
from ..sources.protos import DataType, DecodeError, lazy_class
from .wire import string_entry

_DTYPE_ALIASES = {
    "float": "float32", "double": "float64", "half": "float16",
    "float_ref": "float32_ref", "double_ref": "float64_ref", "half_ref": "float16_ref",
}
_ARRAY_CODES = {
    "float32": "f", "float64": "d", "int32": "i", "int64": "q", "int16": "h", "int8": "b",
    "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q", "bool": "B",
}
_VALUE_FIELDS = {
    "float32": "float_val", "float64": "double_val", "int32": "int_val", "int16": "int_val",
    "int8": "int_val", "uint8": "int_val", "uint16": "int_val", "int64": "int64_val",
    "uint32": "uint32_val", "uint64": "uint64_val", "bool": "bool_val", "string": "string_val",
    "float16": "half_val", "bfloat16": "half_val",
}
# Tensors above this many elements are summarised, not expanded, when an attribute is read.
MAX_EXPANDED = 4096


def dtype_name(value: int) -> str:
    """``DT_FLOAT`` -> ``float32``, ``DT_BOOL`` -> ``bool``, ``DT_RESOURCE`` -> ``resource``."""
    try:
        name = DataType.Name(value)
    except ValueError:
        return f"dtype_{value}"
    name = name[3:].lower() if name.startswith("DT_") else name.lower()
    return _DTYPE_ALIASES.get(name, name)


@dataclass(frozen=True)
class Tensor:
    """A constant tensor: dtype, shape (a list, ``[]`` for scalars) and its values in order."""

    dtype: str
    shape: tuple[int, ...]
    values: tuple[Any, ...] | None  # None when larger than MAX_EXPANDED

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def scalar(self):
        """The single value of a one-element tensor, else None."""
        return self.values[0] if self.values is not None and len(self.values) == 1 else None


def decode_tensor(proto, limit: int | None = MAX_EXPANDED) -> Tensor:
    dtype = dtype_name(proto.dtype)
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    size = math.prod(shape)
    if limit is not None and size > limit:
        return Tensor(dtype, shape, None)
    values: list[Any]
    if proto.tensor_content:
        values = _from_content(proto.tensor_content, dtype)
    else:
        values = _from_repeated(proto, dtype)
        if values and len(values) < size:  # TensorFlow repeats the last value to fill the shape
            values = values + [values[-1]] * (size - len(values))
    if dtype == "bool":
        values = [bool(value) for value in values]
    return Tensor(dtype, shape, tuple(values) if values is not None else None)


def _from_content(content: bytes, dtype: str) -> list[Any]:
    if dtype in ("float16",):  # a trailing odd byte (a damaged file) is no value, as below
        return [v[0] for v in struct.iter_unpack("<e", content[: len(content) - len(content) % 2])]
    code = _ARRAY_CODES.get(dtype)
    if code is None:
        return []
    values = array.array(code)
    values.frombytes(content[: len(content) - len(content) % values.itemsize])
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def _from_repeated(proto, dtype: str) -> list[Any]:
    field = _VALUE_FIELDS.get(dtype)
    if field is None:
        return []
    values = list(getattr(proto, field))
    if dtype == "float16":
        # half_val holds each float16's bits in an int32; only the low 16 are the value
        return [struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0] for bits in values]
    if dtype == "string":
        return [_text(value) for value in values]
    return values


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _shape(proto) -> list[int | None] | None:
    if proto.unknown_rank:
        return None
    return [dim.size if dim.size >= 0 else None for dim in proto.dim]


_KEY_PREFIXES: dict[str, bytes] = {}


def entry_class():
    """The message of one attribute map entry as the lazy classes keep it (``key``, ``value``)."""
    return lazy_class("tensorflow.NodeDef.AttrEntry")


def entry_value(entries, key: str):
    """The AttrValue of ``key`` among a NodeDef's attribute map entries as bytes, or None.

    Writers put an entry's key (field 1) before its value, so the entries of other keys are
    told apart by their first bytes without being parsed. One that does not start with a key
    is parsed to see, and, as when a map is parsed, the last entry of a key wins.

    >>> entry = entry_class()(key="T"); entry.value.type = 1
    >>> other = entry_class()(key="Tidx"); other.value.type = 3
    >>> entry_value([other.SerializeToString(), entry.SerializeToString()], "T").type
    1
    >>> entry_value([other.SerializeToString()], "T") is None
    True
    """
    prefix = _KEY_PREFIXES.get(key)
    if prefix is None:
        prefix = _KEY_PREFIXES[key] = string_entry(1, key)  # the entry's key field
    found = None
    parse = entry_class().FromString
    for raw in entries:
        if raw.startswith(prefix) or not raw.startswith(b"\n"):
            entry = parse(raw)
            if entry.key == key:
                found = entry.value
    return found


def decode_attr(value) -> Any:
    """One AttrValue as a Python value: str, int, float, bool, dtype name, shape list, Tensor
    (a scalar tensor as its value), function ``{"name":..., "attr":...}`` or a list of these."""
    which = value.WhichOneof("value")
    if which == "list":
        return _decode_list(value.list)
    if which == "s":
        return _text(value.s)
    if which in ("i", "f", "b"):
        return getattr(value, which)
    if which == "type":
        return dtype_name(value.type)
    if which == "shape":
        return _shape(value.shape)
    if which == "tensor":
        tensor = decode_tensor(value.tensor)
        return tensor.scalar() if tensor.shape == () and tensor.values else tensor
    if which == "func":
        return _func(value.func)
    if which == "placeholder":
        return "$" + value.placeholder
    return None


def _func(proto) -> dict:
    return {"name": proto.name, "attr": {key: decode_attr(proto.attr[key]) for key in proto.attr}}


def _decode_list(proto) -> list:
    for field, convert in (
        ("s", _text), ("i", int), ("f", float), ("b", bool), ("type", dtype_name),
        ("shape", _shape), ("tensor", decode_tensor), ("func", _func),
    ):
        items = getattr(proto, field)
        if len(items):
            return [convert(item) for item in items]
    return []


class Attrs(Mapping):
    """A read-only mapping over a NodeDef's ``attr`` map that decodes values on first access.

    It holds the NodeDef and reads its map, and makes its cache, only when first asked: most
    of a graph's nodes never are. A NodeDef parsed with the lazy classes
    (:func:`bnlint.sources.protos.lazy_class`) holds its map's entries as bytes: only the entry
    asked for is parsed (:func:`entry_value`).
    """

    __slots__ = ("_node_def", "_cache")

    def __init__(self, node_def):
        self._node_def = node_def
        self._cache: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        elif key in cache:
            return cache[key]
        proto = self._node_def.attr
        if isinstance(proto, Mapping):  # the full classes' map
            if key not in proto:
                raise KeyError(key)
            found = proto[key]
        else:
            try:
                found = entry_value(proto, key)
            except DecodeError as exc:
                raise CorruptAttribute(self._node_def.name, key, one_line(exc)) from None
            if found is None:
                raise KeyError(key)
        value = cache[key] = decode_attr(found)
        return value

    def _keys(self) -> set[str]:
        proto = self._node_def.attr
        if isinstance(proto, Mapping):
            return set(proto)
        try:
            parse = entry_class().FromString
            return {parse(raw).key for raw in proto}
        except DecodeError as exc:
            raise CorruptAttribute(self._node_def.name, None, one_line(exc)) from None

    def __iter__(self):
        return iter(sorted(self._keys()))

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        return f"Attrs({dict(self)!r})"
