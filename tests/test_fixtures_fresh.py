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


def _findings(root):
    document = json.loads(run_cli(root, "--format", "json").out)
    assert document["errors"] == []
    return sorted((os.path.relpath(f["path"], root), f["rule"], f["node"], f["line"] or 0,
                   os.path.basename(f["source_file"] or ""), f["source_line"] or 0)
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
