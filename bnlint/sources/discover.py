"""Turn the paths on the command line into the files to lint.

A directory is walked (hidden entries are ignored). A SavedModel directory (one whose
``saved_model.pb``/``.pbtxt`` holds a SavedModel, by content) contributes that file and, from
Keras, its ``keras_metadata.pb``; an Estimator
``model_dir`` its newest ``model.ckpt-N.meta`` (its ``graph.pbtxt`` and older checkpoints hold
the same graph). Other files whose extension is not a graph or model format are skipped
quietly; ``--verbose`` lists them with the reason. Each file remembers the argument it was
found under, so a directory in which nothing turns out to be a model can be reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..errors import InputError
from .sniff import is_saved_model_head

MODEL_EXTENSIONS = (".pb", ".pbtxt", ".pbtext", ".meta", ".json", ".h5", ".hdf5", ".keras",
                    ".index")  # a checkpoint: linted with its graph, or alone without one
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
KERAS_METADATA = "keras_metadata.pb"
_CHECKPOINT_META = re.compile(r"model\.ckpt-(\d+)\.meta\Z")


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def to_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason}


@dataclass
class Discovery:
    files: list[str]
    skipped: list[Skipped]
    errors: list[InputError]
    roots: dict[str, str] = field(default_factory=dict)  # file -> directory argument
    directories: list[str] = field(default_factory=list)  # the directory arguments


def discover(paths: list[str]) -> Discovery:
    found = Discovery([], [], [])
    for path in paths:
        if os.path.isdir(path):
            found.directories.append(path)
            before = len(found.files)
            _walk(path, found)
            for file in found.files[before:]:
                found.roots[file] = path
        elif os.path.exists(path) or os.path.islink(path):
            path = _checkpoint_graph(path, found)
            if path not in found.files:  # a file given twice, or a model_dir's files one by one
                found.files.append(path)
        else:
            found.errors.append(InputError(path, "no such file or directory"))
    return found


def _checkpoint_graph(path: str, found: Discovery) -> str:
    """The file to lint for ``path`` given on its own: an Estimator ``model_dir``'s
    ``graph.pbtxt`` or older ``model.ckpt-N.meta`` stands for its newest ``.meta`` (the same
    graph, with the newest checkpoint), as when the directory is walked. pre-commit passes a
    model_dir's changed files one by one; the graph is linted once."""
    directory, name = os.path.split(path)
    if name != "graph.pbtxt" and not _CHECKPOINT_META.match(name):
        return path
    try:
        newest = _newest_checkpoint_meta(set(os.listdir(directory or ".")))
    except OSError:
        return path
    if newest is None or newest == name:
        return path
    found.skipped.append(Skipped(path, f"Estimator model_dir: linted {newest} instead"))
    return os.path.join(directory, newest) if directory else newest


def directory_without_models(directory: str, skipped: int) -> InputError:
    return InputError(directory, "no TensorFlow graph or Keras model in this directory "
                                 f"({skipped} other files skipped)")


def _join(directory: str, name: str) -> str:
    """``directory/name``, as ruff shows it: ``name`` alone in the working directory."""
    return name if directory == "." else os.path.join(directory, name)


def _walk(directory: str, found: Discovery) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        found.errors.append(InputError(directory, f"cannot list directory: {exc.strerror or exc}"))
        return
    names = {entry.name for entry in entries}
    saved_model = next((name for name in SAVED_MODEL_FILES
                        if name in names and _holds_saved_model(_join(directory, name))),
                       None)
    if saved_model:
        linted = [saved_model] + ([KERAS_METADATA] if KERAS_METADATA in names else [])
        found.files.extend(_join(directory, name) for name in linted)
        for entry in entries:
            if entry.name not in linted and not entry.name.startswith("."):
                found.skipped.append(Skipped(
                    _join(directory, entry.name), f"part of the SavedModel {saved_model}"
                ))
        return
    newest_meta = _newest_checkpoint_meta(names)
    for entry in entries:
        path = _join(directory, entry.name)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(path, found)
        elif newest_meta and _superseded(entry.name, newest_meta):
            found.skipped.append(Skipped(
                path, f"Estimator model_dir: linted {newest_meta} instead"))
        elif entry.name.endswith(".index") and entry.name[:-len(".index")] + ".meta" in names:
            found.skipped.append(Skipped(
                path, f"part of the checkpoint {entry.name[:-len('.index')]}: read with "
                      f"{_join(directory, entry.name[:-len('.index')] + '.meta')}"))
        elif entry.name.lower().endswith(MODEL_EXTENSIONS):
            found.files.append(path)
        else:
            found.skipped.append(Skipped(path, "not a graph or model file"))


def _holds_saved_model(path: str) -> bool:
    """Decided by content: a bare text GraphDef that happens to be named ``saved_model.pbtxt``
    is linted as a graph of its own, and its sibling files too. (An unreadable file is left
    to the loader, which reports why.)"""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return True
    return is_saved_model_head(head)


def _newest_checkpoint_meta(names: set[str]) -> str | None:
    steps = {}
    for name in names:
        match = _CHECKPOINT_META.match(name)
        if match:
            steps[name] = int(match.group(1))
    return max(steps, key=lambda name: (steps[name], name)) if steps else None


def _superseded(name: str, newest_meta: str) -> bool:
    return name != newest_meta and (name == "graph.pbtxt" or bool(_CHECKPOINT_META.match(name)))
