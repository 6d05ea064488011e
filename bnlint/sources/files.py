"""Read one input file and hand it to the loader for what it holds.

Keras files are recognised by their bytes (HDF5 signature, zip signature, a JSON object);
everything else is offered to the TensorFlow protobuf loader. A file that holds neither is
skipped quietly; one that cannot be read is an error.
"""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING

from ..errors import InputError
from ..limits import MAX_FILE_BYTES
from . import prefetch
from .graph_input import GraphInput
from .sniff import sniff_keras
from .tf_files import NotAGraph, load_tf_bytes

if TYPE_CHECKING:
    from .keras_files import KerasInput

KERAS_METADATA = "keras_metadata.pb"


class Skip(Exception):
    """Not something bnlint lints; the message says what it is."""


def read_limited(path: str, display: str) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed to one). A FIFO would
    block forever and a device (a link to /dev/zero) never ends: they are skipped."""
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise Skip(f"not a regular file ({_file_kind(status.st_mode)}): not read")
        size = status.st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                display,
                f"file is {size / 2**30:.1f} GiB, over the 2 GiB limit of a protocol buffer; "
                "it cannot be a TensorFlow graph",
            )
        data = prefetch.take(status)
        if data is None:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except (InputError, Skip):
        raise
    except OSError as exc:
        raise InputError(display, f"cannot read file: {exc.strerror or exc}") from None
    if not data:
        raise InputError(display, "file is empty")
    if data.startswith(GIT_LFS_POINTER):
        raise InputError(display, "a Git LFS pointer, not the file itself: run `git lfs pull` "
                                  "(or check out with Git LFS installed) to fetch it")
    return data


# What a checkout without Git LFS holds in place of a large file (the spec's first line).
GIT_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return kind
    return "not a plain file"


_DATA_SHARD = re.compile(r"\.data-\d{5}-of-\d{5}\Z")


def _checkpoint_owner(prefix: str) -> str | None:
    """Why the checkpoint ``prefix`` is read with a graph (saved beside it, or a SavedModel's
    ``variables/``), or None when no graph is there."""
    graph = prefix + ".meta"
    if os.path.isfile(graph):
        return f"part of the checkpoint {os.path.basename(prefix)}: read with {graph}"
    if _in_saved_model(prefix):
        return f"part of the SavedModel {os.path.dirname(os.path.dirname(prefix))}"
    return None


def _in_saved_model(prefix: str) -> bool:
    directory = os.path.dirname(os.path.dirname(prefix))
    return os.path.basename(os.path.dirname(prefix)) == "variables" and any(
        os.path.isfile(os.path.join(directory, name))
        for name in ("saved_model.pb", "saved_model.pbtxt"))


def _is_table(path: str) -> bool:
    from .checkpoint import is_table_file

    return is_table_file(path)


def load_file(path: str, display: str | None = None) -> list[GraphInput | KerasInput]:
    """Every model or graph in the file at ``path``. Raises InputError or Skip."""
    display = display or path
    # A checkpoint's files are read with the graph they were saved with; an .index without
    # one is linted on its own (its keys and values), a data shard never.
    shard = _DATA_SHARD.search(path)
    if shard is not None:
        prefix = path[:shard.start()]
        raise Skip(_checkpoint_owner(prefix) or
                   f"part of the checkpoint {os.path.basename(prefix)}: read with its .index")
    if path.endswith(".index") and _is_table(path):
        prefix = path[:-len(".index")]
        owner = _checkpoint_owner(prefix)
        if owner is not None:
            raise Skip(owner)
        from .checkpoint_model import load_checkpoint_model

        return [load_checkpoint_model(prefix, display)]
    data = read_limited(path, display)
    if os.path.basename(path) == KERAS_METADATA:
        return _load_keras(data, display, None)
    kind = sniff_keras(data)
    if kind is not None:
        return _load_keras(data, display, kind)
    try:
        return load_tf_bytes(data, display, path)
    except NotAGraph as exc:
        raise Skip(str(exc)) from None


def _load_keras(data: bytes, display: str, kind: str | None) -> list[KerasInput]:
    """The models of a Keras file of ``kind`` (see :func:`sniff_keras`; None: a SavedModel's
    ``keras_metadata.pb``). The Keras loader is imported only for Keras files."""
    from .keras_files import NotAModel, load_keras_bytes, load_keras_metadata

    try:
        if kind is None:
            return load_keras_metadata(data, display)
        return load_keras_bytes(data, display, kind)
    except NotAModel as exc:
        raise Skip(str(exc)) from None
