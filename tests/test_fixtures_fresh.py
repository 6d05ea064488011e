"""The committed fixtures are what fixtures/generate.py writes: same files, same findings.

Regenerates every fixture with TensorFlow into a temporary directory (about a minute).
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, run_cli

pytest.importorskip("tensorflow")
pytestmark = [pytest.mark.slow, pytest.mark.tensorflow]


def _tree(root):
    found = set()
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != "variables"]
        for name in files:
            found.add(os.path.relpath(os.path.join(directory, name), root))
    return found


def _created_at(place):
    return os.path.basename(place["source_file"] or ""), place["source_line"] or 0


def _findings(root):
    """Each finding's place, and its Python lines: the debug info's stacks hold line numbers of
    fixtures/tfgen/, which go stale when the generator's code moves."""
    document = json.loads(run_cli(root, "--format", "json").out)
    assert document["errors"] == []
    return sorted((os.path.relpath(f["path"], root), f["rule"], f["node"], f["line"] or 0,
                   _created_at(f), [(p["node"], _created_at(p)) for p in f["locations"]])
                  for f in document["findings"])


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    subprocess.run([sys.executable, os.path.join(FIXTURES, "generate.py"), "--out", str(out)],
                   check=True, capture_output=True)
    return str(out)


TREES = ("tf", "keras")


@pytest.mark.parametrize("tree", TREES)
def test_same_files(regenerated, tree):
    assert _tree(os.path.join(regenerated, tree)) == _tree(os.path.join(FIXTURES, tree))


@pytest.mark.parametrize("tree", TREES)
def test_same_findings(regenerated, tree):
    assert _findings(os.path.join(regenerated, tree)) == _findings(os.path.join(FIXTURES, tree))
