"""TensorFlow checkpoints (tensor bundles), read without TensorFlow.

A checkpoint ``<prefix>`` is ``<prefix>.index``, a LevelDB-style sorted table mapping each
tensor's name to a ``BundleEntryProto`` (dtype, shape, which data shard, offset, size,
checksum; the empty key holds a ``BundleHeaderProto``), and ``<prefix>.data-NNNNN-of-MMMMM``
shards of raw tensor bytes. The index is read whole (it is small); from the shards only the
bytes of the tensors asked for are read (seek, read), so a multi-gigabyte checkpoint costs
milliseconds. Every block of the index and every tensor read is checked against its masked
CRC32C.

>>> mask(0) == 0xa282ead8, unmask(mask(12345)) == 12345
(True, True)
>>> crc32c(b"123456789") == 0xe3069283
True
"""

from __future__ import annotations

import functools
import math
import os
import struct
from dataclasses import dataclass

from ..errors import InputError
from .sniff import WireError, varint

_FOOTER = 48
_MAGIC = 0xDB4775248B80FB57
_BLOCK_TRAILER = 5
# DataType numbers (types.proto) -> (struct format per element, element size)
_DTYPES = {1: ("f", 4, "float32"), 2: ("d", 8, "float64"), 19: ("e", 2, "float16"),
           14: ("H", 2, "bfloat16"), 3: ("i", 4, "int32"), 9: ("q", 8, "int64")}
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_STEP_KEYS = ("global_step", "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
              "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE")
# A BN variable has one value per channel; nothing plausible has more.
MAX_ELEMENTS = 1 << 22


class CheckpointError(InputError):
    """A checkpoint that cannot be read; the message says which file and why."""


@dataclass(frozen=True)
class Entry:
    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int
    sliced: bool


@dataclass
class Checkpoint:
    prefix: str
    entries: dict[str, Entry]
    shards: int

    def read(self, name: str) -> list[float] | None:
        """The values of tensor ``name`` (flattened), or None when it is absent, sliced, of a
        dtype bnlint does not read, or implausibly large. Raises CheckpointError when its
        bytes cannot be read or fail their checksum."""
        entry = self.entries.get(name)
        if entry is None or entry.sliced or entry.dtype not in _DTYPES:
            return None
        code, width, _ = _DTYPES[entry.dtype]
        count = math.prod(entry.shape)
        if count > MAX_ELEMENTS or entry.size != count * width:
            return None
        data = self._bytes(entry, name)
        if entry.dtype == 14:  # bfloat16: the high half of a float32
            return [struct.unpack("<f", struct.pack("<I", v << 16))[0]
                    for v in struct.unpack(f"<{count}H", data)]
        return list(struct.unpack(f"<{count}{code}", data))

    def step(self) -> int | None:
        """The training steps the checkpoint records: a TF1 global step, or a TF2 optimizer's
        iteration count."""
        for key in _STEP_KEYS:
            value = self.read(key)
            if value is not None and len(value) == 1 and value[0] >= 0:
                return int(value[0])
        return None

    def read_string(self, name: str) -> bytes | None:
        """A scalar string tensor (the object graph): its length as a varint, the masked
        CRC32C of the lengths, then the bytes."""
        entry = self.entries.get(name)
        if entry is None or entry.dtype != 7 or entry.shape or entry.size > (64 << 20):
            return None
        data = self._bytes(entry, name, verify=False)
        length, pos = _varint(data, 0, self.prefix)
        value = data[pos + 4:pos + 4 + length]
        # The checksum covers the length as a little-endian uint32 (not its varint), the
        # masked checksum of the lengths, then the bytes.
        if len(value) != length or unmask(entry.crc) != crc32c(
                struct.pack("<I", length) + data[pos:pos + 4] + value):
            raise CheckpointError(shard_path(self.prefix, entry.shard, self.shards),
                                  f"tensor '{name}' fails its checksum (corrupt data)")
        return value

    @functools.cached_property
    def keys_by_variable(self) -> dict[str, str]:
        """TF2 object-based checkpoints (tf.train.Checkpoint, Keras save_weights, a TF2
        SavedModel's variables/) key tensors by object path
        (``layer_with_weights-1/moving_mean/.ATTRIBUTES/VARIABLE_VALUE``); the object graph
        maps each variable's name (``bn/moving_mean``) to its key."""
        raw = self.read_string(OBJECT_GRAPH_KEY)
        if not raw:
            return {}
        from .protos import TrackableObjectGraph

        graph = TrackableObjectGraph()
        try:
            graph.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - protobuf's DecodeError
            raise CheckpointError(self.prefix + ".index", "the checkpoint's object graph is "
                                                          "not a TrackableObjectGraph") from None
        return {attribute.full_name: attribute.checkpoint_key for node in graph.nodes
                for attribute in node.attributes
                if attribute.name == "VARIABLE_VALUE" and attribute.full_name}

    def key_of(self, variable: str) -> str | None:
        """The key under which the graph's variable ``variable`` is saved, if it is."""
        if variable in self.entries:
            return variable
        return self.keys_by_variable.get(variable)

    def _bytes(self, entry: Entry, name: str, verify: bool = True) -> bytes:
        shard = shard_path(self.prefix, entry.shard, self.shards)
        try:
            with open(shard, "rb") as handle:
                if entry.offset + entry.size > os.fstat(handle.fileno()).st_size:
                    raise CheckpointError(shard, f"tensor '{name}' lies past the end of the "
                                                 "data shard (truncated checkpoint)")
                handle.seek(entry.offset)
                data = handle.read(entry.size)
        except FileNotFoundError:
            raise CheckpointError(shard, "data shard missing (copy every "
                                         f"{os.path.basename(self.prefix)}.data-* file beside "
                                         "the .index)") from None
        except OSError as exc:
            raise CheckpointError(shard, f"cannot read: {exc.strerror or exc}") from None
        if verify and unmask(entry.crc) != crc32c(data):
            raise CheckpointError(shard, f"tensor '{name}' fails its checksum (corrupt data)")
        return data


def is_table_file(path: str) -> bool:
    """True for a file ending in the table format's footer (a checkpoint's ``.index``)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() < _FOOTER:
                return False
            handle.seek(-8, os.SEEK_END)
            return struct.unpack("<Q", handle.read(8))[0] == _MAGIC
    except OSError:
        return False


def shard_path(prefix: str, shard: int, shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{shards:05d}"


def read_checkpoint(prefix: str) -> Checkpoint:
    """The checkpoint at ``prefix`` (``model.ckpt-600``, without ``.index``)."""
    index = prefix + ".index"
    try:
        with open(index, "rb") as handle:
            data = handle.read(1 << 30)
    except OSError as exc:
        raise CheckpointError(index, f"cannot read: {exc.strerror or exc}") from None
    from .protos import BundleEntryProto, BundleHeaderProto

    header, entries = None, {}
    for key, value in read_table(data, index):
        try:
            if key == b"":
                header = BundleHeaderProto.FromString(value)
                continue
            proto = BundleEntryProto.FromString(value)
        except Exception:  # noqa: BLE001 - protobuf's DecodeError and friends
            raise CheckpointError(index, f"entry '{_text(key)}' is not a BundleEntryProto") \
                from None
        entries[_text(key)] = Entry(
            dtype=proto.dtype, shape=tuple(dim.size for dim in proto.shape.dim),
            shard=proto.shard_id, offset=proto.offset, size=proto.size, crc=proto.crc32c,
            sliced=bool(proto.slices))
    if header is None:
        raise CheckpointError(index, "no bundle header: not a TensorFlow checkpoint index")
    if header.endianness != 0:
        raise CheckpointError(index, "a big-endian checkpoint: not supported")
    shards = max(header.num_shards, 1)
    return Checkpoint(prefix, entries, shards)


def _text(key: bytes) -> str:
    return key.decode("utf-8", "replace")


# -- the table format (LevelDB's, as TensorFlow's io/table writes it) -------------------------
def _varint(data: bytes, pos: int, where: str) -> tuple[int, int]:
    try:
        return varint(data, pos)
    except WireError as exc:
        raise CheckpointError(where, f"corrupt index: {exc}") from None


def read_table(data: bytes, where: str):
    """Every ``(key, value)`` of a table file, in order."""
    if len(data) < _FOOTER or struct.unpack("<Q", data[-8:])[0] != _MAGIC:
        raise CheckpointError(where, "not a checkpoint index (no table footer: truncated?)")
    footer = data[-_FOOTER:]
    _, pos = _varint(footer, 0, where)  # the metaindex block, unused
    _, pos = _varint(footer, pos, where)
    index_offset, pos = _varint(footer, pos, where)
    index_size, pos = _varint(footer, pos, where)
    for _, handle in _block_entries(_block(data, index_offset, index_size, where), where):
        offset, pos = _varint(handle, 0, where)
        size, _ = _varint(handle, pos, where)
        yield from _block_entries(_block(data, offset, size, where), where)


def _block(data: bytes, offset: int, size: int, where: str) -> bytes:
    end = offset + size
    if end + _BLOCK_TRAILER > len(data) - _FOOTER:
        raise CheckpointError(where, "corrupt index: a block past the end of the file")
    contents = data[offset:end]
    kind = data[end]
    (stored,) = struct.unpack("<I", data[end + 1:end + 5])
    if unmask(stored) != crc32c(contents + bytes([kind])):
        raise CheckpointError(where, f"corrupt index: bad block checksum at byte {offset}")
    if kind != 0:
        raise CheckpointError(where, f"index block compressed with method {kind}: not "
                                     "supported (TensorFlow writes them uncompressed)")
    return contents


def _block_entries(block: bytes, where: str):
    if len(block) < 4:
        raise CheckpointError(where, "corrupt index: a block too short")
    (restarts,) = struct.unpack("<I", block[-4:])
    limit = len(block) - 4 - 4 * restarts
    if limit < 0:
        raise CheckpointError(where, "corrupt index: bad restart count")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos, where)
        unshared, pos = _varint(block, pos, where)
        length, pos = _varint(block, pos, where)
        if shared > len(key) or pos + unshared + length > limit:
            raise CheckpointError(where, "corrupt index: an entry past its block")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        yield key, block[pos:pos + length]
        pos += length


# -- CRC32C (Castagnoli), masked as LevelDB and TensorFlow store it ----------------------------
def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


@functools.cache
def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def crc32c(data: bytes) -> int:
    """CRC32C of ``data``: the ``crc32c`` package when installed, else a table in Python
    (a few MB/s: enough for an index and the BN vectors bnlint reads)."""
    try:
        import crc32c as accelerated
    except ImportError:
        table, crc = _table(), 0xFFFFFFFF
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF
    return accelerated.crc32c(data)
