"""Standard input (the path ``-``) for the command line: spooled to a temporary file, since
readers want a file (HDF5, zip archives), and reported under ``--stdin-filename``."""

from __future__ import annotations

import os
import sys


class StandardInput:
    """``-`` among the paths: standard input spooled to a temporary file (readers want a file:
    HDF5, zip archives), linted under ``--stdin-filename`` (or ``-``) with that name's
    configuration, and the temporary file removed afterwards."""

    def __init__(self, args, policy):
        self.args, self.policy = args, policy
        self.paths, self.path, self.directory = list(args.paths), None, None
        self.display = args.stdin_filename or "-"

    def __enter__(self):
        if "-" not in self.paths:
            return self
        import tempfile

        from .limits import MAX_FILE_BYTES

        self.directory = tempfile.mkdtemp(prefix="bnlint-stdin-")
        name = os.path.basename(self.args.stdin_filename or "") or "stdin"
        self.path = os.path.join(self.directory, name)
        with open(self.path, "wb") as out:
            out.write(sys.stdin.buffer.read(MAX_FILE_BYTES + 1))
        self.paths = [self.path if path == "-" else path for path in self.paths]
        self.policy.alias(self.path, os.path.abspath(self.args.stdin_filename or "stdin"))
        return self

    def rename(self, result) -> None:
        """The temporary file's name in the result becomes the name standard input goes by."""
        if self.path is None:
            return
        import dataclasses

        def renamed(item):
            return dataclasses.replace(item, path=self.display) if item.path == self.path \
                else item

        result.findings = [renamed(finding) for finding in result.findings]
        result.notes = [renamed(note) for note in result.notes]
        result.skipped = [renamed(item) for item in result.skipped]
        result.linted = [self.display if path == self.path else path for path in result.linted]
        for error in result.errors:
            if error.path == self.path:
                error.path = self.display

    def __exit__(self, *exc_info):
        if self.directory is not None:
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)
