"""A large, correct training graph gives no finding at all: tf.keras ResNet-50 in a TF1
training graph with control_dependencies(model.updates). Generated on demand (7 MB)."""

import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, lint, lint_findings

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


@pytest.fixture(scope="module")
def slim_resnet50(tmp_path_factory):
    """TF-Slim's resnet_v1_50 trained as train_image_classifier does: updates wired, and left
    out. Generated on demand (several MB each)."""
    out = tmp_path_factory.mktemp("slim")
    subprocess.run([sys.executable, os.path.join(FIXTURES, "generate.py"), "--out", str(out),
                    "--mode", "v2", "--only", "slim_resnet50_update_deps",
                    "slim_resnet50_missing_deps"], check=True, capture_output=True)
    return out / "tf" / "v2"


def test_slim_resnet50_with_its_updates_wired_is_clean(slim_resnet50):
    assert lint(str(slim_resnet50 / "slim_resnet50_update_deps.meta")) == set()


def test_slim_resnet50_without_its_updates_is_one_finding(slim_resnet50):
    (finding,) = lint_findings(str(slim_resnet50 / "slim_resnet50_missing_deps.meta"))
    assert finding["rule"] == "BN101"
    assert finding["message"].startswith("training step 'train_op' runs 53 BN layer(s)")
    layers = [finding["node"], *finding["related"]]
    assert len(layers) == len(set(layers)) == 53
    assert finding["node"] == "resnet_v1_50/conv1/BatchNorm"
    assert all(layer.startswith("resnet_v1_50/") and layer.endswith("/BatchNorm")
               for layer in layers)
