"""Run a reader that may never return in a child process, with a time limit.

libhdf5 can loop forever inside one C call on a damaged file (a corrupt global-heap reference
behind a variable-length string attribute is enough), where no signal or exception reaches it.
So HDF5-based inputs are read in a forked child: it runs the reader and writes the result back
as JSON (plain data: lists, dicts, strings and numbers, never pickles); the parent waits at
most ``HDF5_SECONDS`` (``BNLINT_HDF5_SECONDS`` to change it) and reports a child that does
not finish as that file's error, and the other inputs are still linted. Where ``os.fork``
does not exist (Windows) the reader runs in this process.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from ..errors import InputError, one_line
from ..limits import positive_number

# Reading a Keras file's config and its BN vectors takes milliseconds, even for large models;
# BNLINT_HDF5_SECONDS gives more where files sit on a slow network file system.
HDF5_SECONDS = 30.0


def time_limit() -> float:
    """``HDF5_SECONDS``, or the positive number of seconds ``BNLINT_HDF5_SECONDS`` says."""
    return positive_number("BNLINT_HDF5_SECONDS", HDF5_SECONDS)


class Skipped(Exception):
    """The child's reader raised a skip (not a model): the parent raises ``skip(message)``."""


def run_isolated(reader: Callable[[], Any], encode: Callable[[Any], Any],
                 decode: Callable[[Any], Any], display: str, skip: type[Exception],
                 seconds: float | None = None) -> Any:
    """``decode(encode(reader()))`` computed in a child process; the reader's InputError and
    ``skip`` exceptions are raised here, anything else it raises becomes an InputError."""
    if not hasattr(os, "fork"):
        return reader()
    seconds = time_limit() if seconds is None else seconds
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(reader, encode, write_end, skip)
    os.close(write_end)
    try:
        payload = _collect(read_end, pid, seconds, display)
    finally:
        os.close(read_end)
        _reap(pid)  # whatever happened here (an interrupt too), no child is left running
    if "error" in payload:
        error = payload["error"]
        raise InputError(display, error["message"], error.get("line"), error.get("column"))
    if "skip" in payload:
        raise skip(payload["skip"])
    return decode(payload["value"])


def _child(reader, encode, write_end: int, skip) -> None:
    code = 0
    try:
        try:
            payload = {"value": encode(reader())}
        except InputError as exc:
            payload = {"error": exc.to_dict()}
        except skip as exc:
            payload = {"skip": str(exc)}
        except Exception as exc:  # noqa: BLE001 - reported to the parent as this file's error
            payload = {"error": {"message": f"unreadable file ({type(exc).__name__}: "
                                            f"{one_line(exc)})"}}
        data = json.dumps(payload).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view):]
    except BaseException:  # noqa: BLE001 - a child must never run the parent's code onward
        code = 1
    finally:
        os._exit(code)


def _reap(pid: int) -> None:
    """Wait for the child, killing it first if it has not ended."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:  # already reaped
        pass


def _collect(read_end: int, pid: int, seconds: float, display: str) -> dict:
    chunks = []
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        ready = select.select([read_end], [], [], max(remaining, 0))[0] if remaining > 0 else []
        if not ready:
            raise InputError(display, f"reading the file did not finish in {seconds:g} s: the "
                                      "HDF5 library is stuck on damaged data")
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        raise InputError(display, "the HDF5 reader ended without a result (the file is "
                                  "damaged)") from None
