"""The pre-commit hook, run by the real pre-commit against this checkout (``try-repo``).

pre-commit installs bnlint from this repository into a virtual environment of its own (from the
package index, so it takes a minute), in a throwaway git repository holding a buggy graph, a
clean graph, an unrelated JSON file and a text file.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, tf_fixture

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not os.path.isdir(os.path.join(ROOT, ".git")):
        pytest.skip("not a git checkout: pre-commit try-repo needs one")
    root = tmp_path_factory.mktemp("project")
    (root / "models").mkdir()
    shutil.copy(tf_fixture("v2", "layers_missing_deps.meta"), root / "models" / "buggy.meta")
    shutil.copy(tf_fixture("v2", "layers_update_deps.graph.pbtxt"),
                root / "models" / "clean.pbtxt")
    shutil.copytree(tf_fixture("v2", "layers_missing_deps_model_dir"), root / "model_dir")
    (root / "package.json").write_text('{"name": "web", "version": "1.0.0"}\n')
    (root / "notes.txt").write_text("not a model\n")
    git = ["git", "-c", "user.name=bnlint", "-c", "user.email=bnlint@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    return root


def try_repo(project, *files):
    pre_commit = shutil.which("pre-commit")
    assert pre_commit, "pre-commit is a test dependency: pip install '.[test]'"
    env = dict(os.environ, PRE_COMMIT_HOME=str(project.parent / "pre-commit-home"),
               PRE_COMMIT_COLOR="never")
    env.pop("PYTHONPATH", None)
    return subprocess.run([pre_commit, "try-repo", ROOT, "bnlint", "--files", *files],
                          cwd=project, capture_output=True, text=True, env=env)


def test_hook_fails_on_the_buggy_graph(project):
    result = try_repo(project, "models/buggy.meta", "models/clean.pbtxt", "package.json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^bnlint\.+Failed$", result.stdout, re.MULTILINE), result.stdout
    assert ("models/buggy.meta:1:1: BN101 training step 'train_op' runs 2 BN layer(s) in "
            "training mode ('block1/bn', 'block2/bn')") in result.stdout
    assert "clean.pbtxt:" not in result.stdout and "package.json:" not in result.stdout


def test_hook_passes_on_the_clean_graph_and_ignores_other_json(project):
    result = try_repo(project, "models/clean.pbtxt", "package.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_hook_does_not_run_on_other_files(project):
    result = try_repo(project, "notes.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)" in result.stdout and "Skipped" in result.stdout


def test_a_model_dirs_files_passed_one_by_one_are_linted_once(project):
    """pre-commit passes each staged file; an Estimator model_dir's graph.pbtxt and its
    checkpoints' .meta files hold one graph."""
    files = ["model_dir/graph.pbtxt", "model_dir/model.ckpt-0.meta",
             "model_dir/model.ckpt-600.meta", "model_dir/model.ckpt-600.index"]
    result = try_repo(project, *files)
    assert result.returncode == 1, result.stdout + result.stderr
    findings = [line for line in result.stdout.splitlines() if " BN101 " in line]
    assert len(findings) == 1 and findings[0].startswith("model_dir/model.ckpt-600.meta:1:1:")
