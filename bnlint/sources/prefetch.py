"""Read the first file named on the command line in a background thread while bnlint imports.

The command line starts a read before it imports the linting machinery (networkx alone takes a
tenth of a second), and the loader takes the bytes instead of reading the file itself. A read
releases the interpreter lock, so on a machine with a second core a large graph's read (40 ms
for ResNet-152's 70 MB) costs nothing; with one core it costs what it would have anyway.

When results are cached, the thread also computes the file's SHA-256 for the cache key (hashing
releases the lock too: ResNet-152's takes 40 ms, NASNet-Large's 500 MB a quarter of a second).

The loader finds the bytes by the file's device and inode, however a path spells it, and uses
them only while the file is unchanged: its status now must equal the status of the handle they
were read from (device, inode, size, modification time). Otherwise, or when the read failed, it
reads the file itself. Errors are never reported from here; the loader's own read reports them.

>>> import tempfile
>>> with tempfile.NamedTemporaryFile(suffix=".pb") as handle:
...     _ = handle.write(b"graph"); handle.flush()
...     start([handle.name])
...     take(os.stat(handle.name)), take(os.stat(handle.name))
(b'graph', None)
"""

from __future__ import annotations

import os
import stat
import threading

from ..limits import MAX_FILE_BYTES  # larger files are read (and refused) by the loader itself

# Files the loader reads whole. Not a checkpoint's shards and index (read only in part, with
# the graph saved beside them), nor anything else a directory may hold.
READ_WHOLE = (".pb", ".pbtxt", ".meta", ".h5", ".hdf5", ".keras", ".json")


class _Read:
    def __init__(self, path: str, digest: bool):
        self.path = path
        self.data: bytes | None = None
        self.status: os.stat_result | None = None
        self.wants_digest = digest
        self.digest: str | None = None
        self.thread = threading.Thread(target=self._run, name="bnlint-prefetch", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                status = os.fstat(handle.fileno())
                if stat.S_ISREG(status.st_mode) and status.st_size <= MAX_FILE_BYTES:
                    self.data = handle.read()
                    self.status = status
        except (OSError, MemoryError):
            self.data = self.status = None
            return
        if self.wants_digest:
            import hashlib

            self.digest = hashlib.sha256(self.data).hexdigest()

    def current(self, now: os.stat_result) -> bool:
        """Whether the read is done and was of the file whose status is ``now``."""
        self.thread.join()
        return self.status is not None and _identity(self.status) == _identity(now)

    def result(self, now: os.stat_result) -> bytes | None:
        return self.data if self.current(now) else None


def _identity(status: os.stat_result) -> tuple:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


# By (device, inode) of the file when the read started.
_reads: dict[tuple[int, int], _Read] = {}


def start(paths: list[str], digest: bool = False) -> None:
    """Start reading the first of ``paths`` when it names a regular graph or model file (not a
    directory to walk, standard input or a FIFO), and hashing it with ``digest``. Only the
    first: the bytes are held until they are taken, and a run over many files is not a run over
    one large one."""
    if not paths or not paths[0].lower().endswith(READ_WHOLE):
        return
    path = paths[0]
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return
    key = (status.st_dev, status.st_ino)
    if stat.S_ISREG(status.st_mode) and status.st_size <= MAX_FILE_BYTES and key not in _reads:
        _reads[key] = _Read(path, digest)


def peek(now: os.stat_result) -> bytes | None:
    """The bytes read ahead for the file whose status is ``now``, if it is unchanged since;
    they stay for :func:`take`."""
    read = _reads.get((now.st_dev, now.st_ino))
    return read.result(now) if read is not None else None


def digest(now: os.stat_result) -> str | None:
    """The SHA-256 (hex) of the file whose status is ``now``, if it was read ahead and hashed
    and is unchanged since."""
    read = _reads.get((now.st_dev, now.st_ino))
    return read.digest if read is not None and read.current(now) else None


def take(now: os.stat_result) -> bytes | None:
    """:func:`peek`, and forget them: a file's bytes are taken once."""
    read = _reads.pop((now.st_dev, now.st_ino), None)
    return read.result(now) if read is not None else None


def forget() -> None:
    """Drop whatever was read ahead and not taken (a file the run skipped)."""
    for read in _reads.values():
        read.thread.join()
    _reads.clear()
