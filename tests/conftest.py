import io
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import settings

# The fuzzing harness (tests/test_fuzz.py): a short run by default, a campaign on request
# (pytest -m fuzz --hypothesis-profile=long).
settings.register_profile("bnlint", max_examples=60, deadline=None)
settings.register_profile("long", deadline=None,
                          max_examples=int(os.environ.get("BNLINT_FUZZ_EXAMPLES", "20000")))
settings.load_profile("bnlint")

# Tests lint the checkout's fixtures over and over: no .bnlint_cache in the checkout (the
# cache's own tests name a directory with --cache-dir).
os.environ["BNLINT_NO_CACHE"] = "1"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
TF_FIXTURES = os.path.join(FIXTURES, "tf")
MODES = ("v1", "v2")


def line_of(path: str, text: str) -> int:
    """The 1-based line of the only line of ``path`` containing ``text``."""
    lines = [number for number, line in enumerate(open(path), 1) if text in line]
    assert len(lines) == 1, (path, text, lines)
    return lines[0]


def line_in_function(path: str, function: str, text: str) -> int:
    """The 1-based line of the first line containing ``text`` after ``def function(``."""
    lines = open(path).read().splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith(f"def {function}("))
    return next(number for number, line in enumerate(lines[start:], start + 1) if text in line)


# Where the debug-info fixtures' ops were made (fixtures/tfgen/source_lines.py): the BN layers,
# and the minimize() call that built the training step.
BLOCKS = os.path.join(FIXTURES, "tfgen", "blocks.py")
BN_CALL = line_of(BLOCKS, "tf.compat.v1.layers.batch_normalization(")
UPDATES = os.path.join(FIXTURES, "tfgen", "updates.py")
MINIMIZE_CALL = line_in_function(UPDATES, "layers_missing_deps", ".minimize(")


def tf_fixture(mode: str, name: str) -> str:
    return os.path.join(TF_FIXTURES, mode, name)


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err


def run_cli(*args) -> CliResult:
    """Run ``bnlint`` in-process and capture what it prints."""
    from bnlint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors and --help/--version
            code = exc.code
    return CliResult(code, out.getvalue(), err.getvalue())


def run_process(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """Run ``python -m bnlint`` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "bnlint", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env)


def lint(path: str, *args) -> set[tuple[str, str]]:
    """(rule, node) for every node bnlint's findings for ``path`` cover: a finding's own node
    and the related nodes reported with it (one finding covers every layer of one root cause;
    tests of how findings are grouped use :func:`lint_findings`)."""
    return {(f["rule"], node) for f in lint_findings(path, *args)
            for node in (f["node"], *f["related"])}


def lint_findings(path: str, *args) -> list[dict]:
    """The JSON findings bnlint reports for ``path`` (which must have no input errors)."""
    import json

    result = run_cli(path, "--format", "json", *args)
    document = json.loads(result.out)
    assert document["errors"] == [], document["errors"]
    return document["findings"]


@pytest.fixture
def fixture_copy(tmp_path):
    """Copy a fixture file or directory into tmp_path and return the copy's path."""

    def copy(mode: str, name: str) -> str:
        source = tf_fixture(mode, name)
        target = os.path.join(tmp_path, name)
        if os.path.isdir(source):
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        return target

    return copy
