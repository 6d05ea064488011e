"""Where in Python each op was created: TensorFlow's GraphDebugInfo.

TensorFlow records the stack that created each op in a GraphDebugInfo when asked to:
``tf.saved_model.save(..., options=tf.saved_model.SaveOptions(save_debug_info=True))`` writes
``debug/saved_model_debug_info.pb`` into the SavedModel, ``export_meta_graph(...,
save_debug_info=True)`` writes ``<name>.debug`` beside the ``.meta`` (its docstring says
``<name>_debug<ext>``; both are looked for), and a GraphDef may carry one in its ``debug_info``
field. A live ``tf.Graph`` has the same stacks in ``Operation.traceback``.

Stacks are keyed by op name and the function the op belongs to (empty for the graph's own ops).
Two layouts exist: ``traces`` (name or ``name@function`` -> frames), and since TF 2.13 frames
and stacks stored once by id (``frames_by_id``, ``traces_by_id``, ``name_to_trace_id`` with
``name@function`` keys). From a stack bnlint reports the innermost frame that is not library
code (site-packages, the standard library): the user's line that created the op.
"""

from __future__ import annotations

import os
import re

from ..errors import InputError
from . import protos
from .discover import SAVED_MODEL_FILES

SAVED_MODEL_DEBUG_INFO = os.path.join("debug", "saved_model_debug_info.pb")
_STANDARD_LIBRARY = re.compile(r"[\\/]lib[\\/]python\d+(?:\.\d+)?[\\/]", re.IGNORECASE)
_LIBRARY_DIRECTORIES = ("site-packages", "dist-packages")

Frame = tuple[str, int]  # (file, line)


def is_library_frame(filename: str) -> bool:
    """True for code the user did not write: installed packages, the standard library,
    frozen import machinery.

    >>> is_library_frame("/venv/lib/python3.11/site-packages/tensorflow/python/ops/nn.py")
    True
    >>> is_library_frame("/usr/lib/python3.11/contextlib.py")
    True
    >>> is_library_frame("/home/ada/project/train.py")
    False
    """
    if filename.startswith("<frozen "):
        return True
    parts = re.split(r"[\\/]", filename)
    if any(part in _LIBRARY_DIRECTORIES for part in parts):
        return True
    return _STANDARD_LIBRARY.search(filename) is not None


def user_frame(frames) -> Frame | None:
    """The innermost ``(file, line)`` of a stack (listed outermost first) that is the user's.

    >>> user_frame([("train.py", 40), ("model.py", 12), ("/x/site-packages/tf/ops.py", 9)])
    ('model.py', 12)
    """
    for filename, line in reversed(list(frames)):
        if filename and not is_library_frame(filename):
            return filename, line
    return None


class SourceTraces:
    """The creation stack of each op, by ``(function, op name)``; ``function`` is ``""`` for
    the graph's own ops. ``stacks`` maps each key to a callable giving its frames, so a large
    debug file costs only the lookups that findings make."""

    def __init__(self, stacks: dict):
        self._stacks = stacks
        self._sites: dict = {}

    def creation_site(self, function: str, name: str) -> Frame | None:
        """The user's line that created op ``name`` of ``function`` (None when unknown)."""
        key = (function or "", name)
        if key not in self._sites:
            frames = self._stacks.get(key)
            self._sites[key] = user_frame(frames()) if frames is not None else None
        return self._sites[key]


def traces_from_message(message) -> SourceTraces:
    """A GraphDebugInfo message (either layout) as SourceTraces."""
    files = list(message.files)

    def frame(location) -> Frame:
        index = location.file_index
        return (files[index] if 0 <= index < len(files) else "", location.line)

    stacks = {}
    for key, trace in message.traces.items():
        stacks[_split(key)] = lambda trace=trace: [frame(f) for f in trace.file_line_cols]
    frames_by_id, traces_by_id = message.frames_by_id, message.traces_by_id
    for key, trace_id in message.name_to_trace_id.items():
        def frames(trace_id=trace_id):
            if trace_id not in traces_by_id:
                return []
            return [frame(frames_by_id[f]) for f in traces_by_id[trace_id].frame_id
                    if f in frames_by_id]
        stacks[_split(key)] = frames
    return SourceTraces(stacks)


def _split(key: str) -> tuple[str, str]:
    """``"name@function"`` (or a bare name) -> ``(function, name)``; op and function names
    cannot contain ``@``."""
    name, _, function = key.partition("@")
    return function, name


def companion_path(path: str) -> str | None:
    """The GraphDebugInfo file TensorFlow writes for the graph file at ``path``, if present."""
    directory, base = os.path.split(path)
    if base in SAVED_MODEL_FILES:
        candidates = [os.path.join(directory, SAVED_MODEL_DEBUG_INFO)]
    else:
        stem, extension = os.path.splitext(path)
        candidates = [stem + ".debug", f"{stem}_debug{extension}"]
    return next((candidate for candidate in candidates if os.path.isfile(candidate)), None)


def read_debug_info(path: str) -> SourceTraces:
    """The GraphDebugInfo file at ``path``, binary or text. Raises InputError."""
    from .files import read_limited

    data = read_limited(path, path)
    message = protos.GraphDebugInfo()
    try:
        message.ParseFromString(data)
        return traces_from_message(message)
    except (protos.DecodeError, RuntimeError, ValueError):
        pass
    text_format = protos.text_format()
    try:
        text_format.Parse(data.decode("utf-8"), message, descriptor_pool=protos.POOL)
    except (UnicodeDecodeError, text_format.ParseError):
        raise InputError(path, "not a GraphDebugInfo (the source lines of a graph's ops), "
                               "binary or text") from None
    return traces_from_message(message)


class DebugInfo:
    """A graph's creation stacks: read from ``path`` on first use (only graphs with findings
    pay for it), or given. A file that cannot be read leaves ``error`` set and no traces."""

    def __init__(self, path: str | None = None, traces: SourceTraces | None = None):
        self.path = path
        self._traces = traces
        self.error: InputError | None = None

    def traces(self) -> SourceTraces | None:
        if self._traces is None and self.path is not None and self.error is None:
            try:
                self._traces = read_debug_info(self.path)
            except InputError as exc:
                self.error = exc
        return self._traces


def resolve_source_file(filename: str) -> str:
    """``filename`` as recorded or, when it does not exist here (the graph was saved on another
    machine or in another checkout), the longest tail of it that exists below the current
    directory: ``/home/ada/project/nets/resnet.py`` linted in CI becomes ``nets/resnet.py``."""
    if os.path.exists(filename):
        return filename
    parts = [part for part in re.split(r"[\\/]", filename) if part]
    for start in range(1, len(parts)):
        tail = os.path.join(*parts[start:])
        if os.path.isfile(tail):
            return tail
    return filename
