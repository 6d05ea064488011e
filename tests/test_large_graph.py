"""A large, correct training graph gives no finding at all: tf.keras ResNet-50 in a TF1
training graph with control_dependencies(model.updates). Generated on demand (7 MB)."""

import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, lint

pytest.importorskip("tensorflow")
pytestmark = [pytest.mark.slow, pytest.mark.tensorflow]


@pytest.fixture(scope="module")
def resnet50(tmp_path_factory):
    out = tmp_path_factory.mktemp("large")
    subprocess.run([sys.executable, os.path.join(FIXTURES, "generate.py"), "--out", str(out),
                    "--mode", "v2", "--only", "resnet50_model_updates"],
                   check=True, capture_output=True)
    return str(out / "tf" / "v2" / "resnet50_model_updates.meta")


def test_resnet50_training_graph_is_clean(resnet50):
    assert lint(resnet50) == set()


def test_resnet50_layers_are_all_seen(resnet50):
    from bnlint.analyses import analyze
    from bnlint.graph.build import build_graph
    from bnlint.sources.tf_files import load_tf_file

    facts = analyze(build_graph(load_tf_file(resnet50)[0]))
    assert len(facts.layers) == 53
    assert all(layer.mode == "switched" and layer.updating_steps for layer in facts.layers)
