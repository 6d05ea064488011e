"""Results of files linted before, reused when nothing that decides them has changed.

As in ruff: ``.bnlint_cache/`` beside the configuration that applies to the working directory
(the working directory when there is none), ``--cache-dir`` or ``BNLINT_CACHE_DIR`` for another
place, ``--no-cache`` or ``BNLINT_NO_CACHE=1`` for none. An entry is one JSON file named by its
key, a SHA-256 of everything the file's result depends on:

* bnlint's version and the bytes of its own code (a development checkout is never stale);
* the rules that run on the file (each rule file's bytes) and the effective configuration
  (the command line's options and the closest configuration file's settings);
* the limits read from the environment (``BNLINT_MAX_INLINED_NODES`` ...);
* the path as given and the file's content;
* the names, sizes and modification times of the files beside it (a graph's checkpoint,
  debug info and Keras weights are read from there) and, for a SavedModel, of everything below
  its directory.

An entry is used only when it parses, carries its own key and holds well-formed results; a
corrupt, truncated or foreign one is ignored and rewritten. A cache that cannot be written
(read-only file system) is no error: the run is simply not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile

from . import __version__
from .results import FileResult
from .sources import prefetch
from .sources.discover import SAVED_MODEL_FILES

CACHE_DIR_NAME = ".bnlint_cache"
FORMAT = 2  # of the entries; bump when FileResult's data changes shape (2: locations)
MAX_ENTRY_BYTES = 64 << 20
ENVIRONMENT = ("BNLINT_MAX_INLINED_NODES", "BNLINT_HDF5_SECONDS")


def default_directory(config_root: str | None) -> str:
    """``BNLINT_CACHE_DIR``, else ``.bnlint_cache`` in ``config_root`` (the directory of the
    configuration that applies to the working directory) or the working directory."""
    return os.environ.get("BNLINT_CACHE_DIR") or os.path.join(config_root or ".", CACHE_DIR_NAME)


def disabled_by_environment() -> bool:
    return os.environ.get("BNLINT_NO_CACHE", "").lower() not in ("", "0", "false", "no")


class Cache:
    """The entries under ``directory`` (created on the first write)."""

    def __init__(self, directory: str):
        self.directory = directory
        self.entries = os.path.join(directory, "entries")
        self._code = _code_digest()
        self._rules: dict[int, str] = {}  # by id() of a rule list the policy keeps
        self._directories: dict[str, str] = {}
        self._writable = True

    def key(self, path: str, rules, policy) -> str | None:
        """The key of ``path``'s result under ``rules`` and ``policy``; None when the file
        cannot be read (it is then linted, and the error reported, every time)."""
        digest = hashlib.sha256()
        config = policy.config_for(path)
        try:
            parts = [
                f"bnlint {__version__} format {FORMAT}", self._code, self._rule_digest(rules),
                repr(policy.options), repr(config),
                repr([(name, os.environ.get(name)) for name in ENVIRONMENT]),
                path, os.path.abspath(path), _file_digest(path), self._beside(path),
            ]
        except (OSError, ValueError):
            return None
        for part in parts:
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        return digest.hexdigest()

    def load(self, key: str) -> FileResult | None:
        """The stored result for ``key``, or None (none, or one not to be trusted)."""
        path = os.path.join(self.entries, key + ".json")
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
            if not isinstance(data, dict) or data.get("key") != key \
                    or data.get("format") != FORMAT:
                return None
            return FileResult.from_data(data.get("result"))
        except (OSError, ValueError, RecursionError):
            return None

    def store(self, key: str, result: FileResult) -> None:
        if not self._writable:
            return
        text = json.dumps({"format": FORMAT, "key": key, "result": result.to_data()})
        try:
            self._create()
            handle, temporary = tempfile.mkstemp(dir=self.entries, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, os.path.join(self.entries, key + ".json"))
        except OSError:
            self._writable = False  # a read-only checkout: lint on, uncached

    def _create(self) -> None:
        if os.path.isdir(self.entries):
            return
        os.makedirs(self.entries, exist_ok=True)
        # as ruff's cache: never committed, skipped by backup tools
        with open(os.path.join(self.directory, ".gitignore"), "w", encoding="utf-8") as out:
            out.write("# Automatically created by bnlint.\n*\n")
        with open(os.path.join(self.directory, "CACHEDIR.TAG"), "w", encoding="utf-8") as out:
            out.write("Signature: 8a477f597d28d172789f06886806bc55\n"
                      "# This file is a cache directory tag created by bnlint.\n")

    def _rule_digest(self, rules) -> str:
        if id(rules) not in self._rules:
            digest = hashlib.sha256()
            for rule in rules:
                digest.update(f"{rule.code}\0{rule.path}\0".encode("utf-8", "surrogateescape"))
                digest.update(_file_digest(rule.path).encode())
            self._rules[id(rules)] = digest.hexdigest()
        return self._rules[id(rules)]

    def _beside(self, path: str) -> str:
        """The names, sizes and modification times of what lies beside ``path`` (below it,
        for a SavedModel), hidden entries and the cache itself left out."""
        directory = os.path.dirname(os.path.abspath(path))
        deep = os.path.basename(path) in SAVED_MODEL_FILES
        key = ("deep:" if deep else "") + directory
        if key not in self._directories:
            cache = os.path.abspath(self.directory)
            listed = []
            for root, names, files in os.walk(directory):
                names[:] = sorted(name for name in names if not name.startswith(".")
                                  and os.path.join(root, name) != cache)
                for name in sorted(files + ([] if deep else names)):
                    if name.startswith("."):
                        continue
                    try:
                        info = os.stat(os.path.join(root, name))
                    except OSError:
                        continue  # a dangling link: nothing a loader could read
                    listed.append(f"{os.path.relpath(os.path.join(root, name), directory)}:"
                                  f"{info.st_size}:{info.st_mtime_ns}")
                if not deep:
                    break
            self._directories[key] = "\n".join(listed)
        return self._directories[key]


def _file_digest(path: str) -> str:
    """SHA-256 of a regular file's bytes; raises OSError for anything else (a FIFO is never
    opened here)."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"not a regular file: {path}")
    found = prefetch.digest(info)
    if found is not None:
        return found
    read_ahead = prefetch.peek(info)
    if read_ahead is not None:
        return hashlib.sha256(read_ahead).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _code_digest() -> str:
    """bnlint's own files: a changed analysis is a changed result, version bump or not."""
    package = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256()
    for root, names, files in os.walk(package):
        names[:] = sorted(name for name in names if name != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".binpb")):
                path = os.path.join(root, name)
                digest.update(os.path.relpath(path, package).encode() + b"\0")
                digest.update(_file_digest(path).encode())
    return digest.hexdigest()
