"""Turn the paths on the command line into the files to lint.

A directory is walked (hidden entries are ignored). A SavedModel directory contributes its
``saved_model.pb``/``.pbtxt`` only; an Estimator ``model_dir`` its newest ``model.ckpt-N.meta``
(its ``graph.pbtxt`` and older checkpoints hold the same graph). Other files whose extension is
not a graph format are skipped quietly; ``--verbose`` lists them with the reason.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import InputError

GRAPH_EXTENSIONS = (".pb", ".pbtxt", ".pbtext", ".meta")
SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
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


def discover(paths: list[str]) -> Discovery:
    found = Discovery([], [], [])
    for path in paths:
        if os.path.isdir(path):
            before = len(found.files)
            _walk(path, found)
            if len(found.files) == before:
                skipped = sum(1 for item in found.skipped if _under(item.path, path))
                found.errors.append(InputError(
                    path, f"no TensorFlow graph in this directory ({skipped} other files skipped)"
                ))
        elif os.path.exists(path) or os.path.islink(path):
            found.files.append(path)
        else:
            found.errors.append(InputError(path, "no such file or directory"))
    return found


def _under(path: str, directory: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(directory)]) == \
        os.path.abspath(directory)


def _walk(directory: str, found: Discovery) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        found.errors.append(InputError(directory, f"cannot list directory: {exc.strerror or exc}"))
        return
    names = {entry.name for entry in entries}
    saved_model = next((name for name in SAVED_MODEL_FILES if name in names), None)
    if saved_model:
        found.files.append(os.path.join(directory, saved_model))
        for entry in entries:
            if entry.name != saved_model and not entry.name.startswith("."):
                found.skipped.append(Skipped(
                    os.path.join(directory, entry.name), f"part of the SavedModel {saved_model}"
                ))
        return
    newest_meta = _newest_checkpoint_meta(names)
    for entry in entries:
        path = os.path.join(directory, entry.name)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            _walk(path, found)
        elif newest_meta and _superseded(entry.name, newest_meta):
            found.skipped.append(Skipped(
                path, f"Estimator model_dir: linted {newest_meta} instead"))
        elif entry.name.lower().endswith(GRAPH_EXTENSIONS):
            found.files.append(path)
        else:
            found.skipped.append(Skipped(path, "not a graph file"))


def _newest_checkpoint_meta(names: set[str]) -> str | None:
    steps = {}
    for name in names:
        match = _CHECKPOINT_META.match(name)
        if match:
            steps[name] = int(match.group(1))
    return max(steps, key=lambda name: (steps[name], name)) if steps else None


def _superseded(name: str, newest_meta: str) -> bool:
    return name != newest_meta and (name == "graph.pbtxt" or bool(_CHECKPOINT_META.match(name)))
