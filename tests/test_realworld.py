"""Real third-party artifacts: every label of ../shared/realworld holds.

``labels.json`` lists, for each artifact (checkpoint graphs, model_dir graphs, exports and Keras
files from public repositories), the rules that must fire and the rules that would be false
alarms, with the evidence from the source that wrote it. Skipped where ../shared is absent (a
plain clone): the artifacts are not the project's to redistribute.
"""

import json
import os

import pytest

from conftest import ROOT, run_cli

REALWORLD = os.path.join(os.path.dirname(ROOT), "shared", "realworld")
LABELS = os.path.join(REALWORLD, "labels.json")

if not os.path.isfile(LABELS):
    pytest.skip("../shared/realworld is not here (a plain clone)", allow_module_level=True)

with open(LABELS, encoding="utf-8") as handle:
    ARTIFACTS = json.load(handle)


def _report(path):
    result = run_cli(path, "--isolated", "--format", "json")
    return result, json.loads(result.out)


@pytest.mark.parametrize("artifact", sorted(ARTIFACTS))
def test_labels(artifact):
    label = ARTIFACTS[artifact]
    result, document = _report(os.path.join(REALWORLD, artifact))
    assert document["errors"] == [], document["errors"]
    fired = {finding["rule"] for finding in document["findings"]}
    missing = set(label["want"]) - fired
    forbidden = set(label["forbid"]) & fired
    assert not missing and not forbidden, (missing, forbidden, label["note"])
    assert result.code == (1 if fired else 0)


def test_every_artifact_is_linted():
    """The whole directory at once: each labelled file is linted (none skipped or failing)."""
    _, document = _report(REALWORLD)
    linted = {os.path.relpath(finding["path"], REALWORLD) for finding in document["findings"]}
    expected_findings = {artifact for artifact, label in ARTIFACTS.items() if label["want"]}
    assert expected_findings <= linted
    assert document["errors"] == []
    skipped = {os.path.relpath(item["path"], REALWORLD) for item in document["skipped"]}
    assert not skipped & set(ARTIFACTS)
