"""Run one function over many items in forked worker processes, results in the items' order.

Workers are forked, so they inherit the function and everything it needs (the rules, the
policy) without serializing any of it. Work goes out as item numbers and results come back as
JSON, so the function must return plain data (dicts, lists, strings, numbers); nothing is ever
unpickled, here as anywhere in bnlint. A worker that dies (killed, out of memory) costs only
the item it was on: ``lost(item)`` stands in for that result. Where ``fork`` is not available
(Windows, and macOS where it is unsafe) or one worker is enough, the function runs here.

>>> list(ordered_map(lambda n: {"square": n * n}, [3, 1, 2], jobs=2))
[{'square': 9}, {'square': 1}, {'square': 4}]
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_LENGTH = struct.Struct("<Q")  # every message: its length, then that many bytes of JSON


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin"


def ordered_map(function: Callable[[Any], Any], items: Sequence, jobs: int,
                lost: Callable[[Any], Any] | None = None,
                cost: Callable[[Any], float] | None = None) -> Iterator:
    """``map(function, items)``, in up to ``jobs`` forked processes. With ``cost``, the
    costliest items are handed out first, so that no worker is left with a long one at the
    end while the others idle; results still come in the items' order."""
    workers = min(jobs, len(items))
    if workers <= 1 or not can_fork():
        return map(function, items)
    order = list(range(len(items)))
    if cost is not None:
        order.sort(key=lambda index: -cost(items[index]))
    return _forked_map(function, items, workers, lost or _worker_died, order)


def _worker_died(item):
    raise RuntimeError(f"a worker process died on {item!r}")


class _Worker:
    def __init__(self, function, items: Sequence, others: list[_Worker]):
        task_read, self.tasks = os.pipe()
        self.results, result_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            # What the parent had not yet collected is left alone here: its finalizers must
            # not run in a copy of the process without the parent's threads (a caller's
            # TensorFlow objects: the collector's first pass in a worker crashed on them).
            gc.freeze()
            for other in others:  # or their pipes would never see end-of-file
                other.close()
            os.close(self.tasks)
            os.close(self.results)
            _work(function, items, task_read, result_write)
        os.close(task_read)
        os.close(result_write)
        self.item: int | None = None  # the item it is working on

    def give(self, index: int | None) -> None:
        self.item = index
        _send(self.tasks, index)

    def close(self) -> None:
        for fd in (self.tasks, self.results):
            try:
                os.close(fd)
            except OSError:
                pass

    def reap(self) -> None:
        """Kill the worker if it is still running, and wait for it."""
        try:
            if os.waitpid(self.pid, os.WNOHANG)[0] == 0:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _work(function, items: Sequence, tasks: int, results: int) -> None:
    code = 0
    try:
        while (index := _receive(tasks)) is not None:
            _send(results, function(items[index]))
    except BaseException:  # noqa: BLE001 - a worker must never run the parent's code onward
        code = 1
    finally:
        os._exit(code)


def _forked_map(function, items: Sequence, workers: int, lost, order: list[int]) -> Iterator:
    pool: list[_Worker] = []
    try:
        for _ in range(workers):
            pool.append(_Worker(function, items, pool))
        results: dict[int, Any] = {}
        waiting = iter(order)
        for worker in pool:
            worker.give(next(waiting))
        emitted = 0
        while emitted < len(items):
            if emitted in results:
                yield results.pop(emitted)
                emitted += 1
                continue
            busy = [worker for worker in pool if worker.item is not None]
            if not busy:  # every worker died: the rest here
                for index in waiting:
                    results[index] = function(items[index])
                continue
            for ready in select.select([worker.results for worker in busy], [], [])[0]:
                worker = next(worker for worker in busy if worker.results == ready)
                try:
                    results[worker.item] = _receive(worker.results, expected=True)
                except EOFError:
                    results[worker.item] = lost(items[worker.item])
                    worker.item = None
                    pool.remove(worker)
                    worker.close()
                    worker.reap()
                    continue
                worker.give(next(waiting, None))
    finally:
        for worker in pool:
            if worker.item is None:
                try:
                    _send(worker.tasks, None)  # done: the worker exits
                except OSError:
                    pass
            worker.close()
        for worker in pool:
            _wait_briefly(worker)


def _wait_briefly(worker: _Worker) -> None:
    """A worker told to stop exits at once; one still busy (an interrupt) is killed."""
    if worker.item is None:
        try:
            os.waitpid(worker.pid, 0)
            return
        except ChildProcessError:
            return
    worker.reap()


def _send(fd: int, value) -> None:
    data = json.dumps(value).encode()
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int, expected: bool = False):
    """The next message; None at end of file, or EOFError when ``expected``."""
    header = _read_exactly(fd, _LENGTH.size)
    if header is None:
        if expected:
            raise EOFError
        return None
    data = _read_exactly(fd, _LENGTH.unpack(header)[0])
    if data is None:
        raise EOFError
    return json.loads(data)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
