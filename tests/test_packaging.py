"""A plain, non-editable install from a wheel ships the YAML rules with the package, and the
lint path never imports TensorFlow or Keras."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT, tf_fixture


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"),
                    ROOT], check=True, capture_output=True)
    wheels = list((work / "dist").glob("bnlint-*.whl"))
    assert len(wheels) == 1
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--target", str(target), str(wheels[0])], check=True, capture_output=True)
    return target


def test_wheel_ships_rules_and_lints(installed_wheel, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(installed_wheel))
    code = (
        "import bnlint, bnlint.lint as l, sys;"
        "print(bnlint.__file__); print(l.builtin_rules_dir());"
        "from bnlint.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    fixture = tf_fixture("v1", "layers_missing_deps.meta")
    result = subprocess.run([sys.executable, "-c", code, fixture],
                            capture_output=True, text=True, cwd=tmp_path, env=env)
    module, rules_dir, *findings = result.stdout.splitlines()
    assert module.startswith(str(installed_wheel))
    assert rules_dir == os.path.join(str(installed_wheel), "bnlint", "rules")
    assert os.path.exists(os.path.join(rules_dir, "BN101-missing-update-dependency.yaml"))
    assert result.returncode == 1, result.stderr
    assert any(" BN101 " in line for line in findings)


def test_lint_path_never_imports_tensorflow_or_keras():
    code = (
        "import sys; from bnlint.cli import main;"
        f"code = main([{tf_fixture('v2', 'layers_missing_deps.meta')!r},"
        f" {tf_fixture('v1', 'layers_missing_deps_savedmodel')!r}, '--format', 'json']);"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('tensorflow', 'tensorboard', 'keras', 'tf_keras', 'numpy'));"
        "print('IMPORTED', bad); sys.exit(0 if code == 1 else 3)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("IMPORTED []")


@pytest.mark.parametrize("fixture,keras_loaded", [
    (tf_fixture("v2", "layers_missing_deps.meta"), False),
    (os.path.join(ROOT, "fixtures", "keras", "keras2", "dropout_before_bn.json"), True),
])
def test_keras_modules_are_imported_for_keras_files_only(fixture, keras_loaded):
    """A TensorFlow graph is linted without importing bnlint's Keras loader and analyses."""
    code = (
        "import sys; from bnlint.cli import main;"
        f"main([{fixture!r}, '--no-cache', '--format', 'json']);"
        "print(sorted(m for m in sys.modules if m.startswith('bnlint') and 'keras' in m))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT)
    loaded = result.stdout.strip().splitlines()[-1]
    assert ("bnlint.sources.keras_files" in loaded) is keras_loaded, result.stderr
    assert ("bnlint.analyses.keras" in loaded) is keras_loaded


def test_importtime_shows_no_tensorflow():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bnlint", "--help"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    assert "tensorflow" not in result.stderr and "keras" not in result.stderr


def test_minimum_versions_are_the_declared_lower_bounds():
    """.ci/run tests the TensorFlow-free suite at .ci/minimum-versions.txt: those must be the
    lower bounds pyproject.toml declares, for every runtime dependency."""
    import re

    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        declared = tomllib.load(handle)["project"]["dependencies"]
    bounds = {}
    for requirement in declared:
        if ";" in requirement:  # tomli: only for Pythons without tomllib
            continue
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
        bounds[name.lower()] = version
    pinned = {}
    with open(os.path.join(ROOT, ".ci", "minimum-versions.txt"), encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                name, version = line.strip().split("==")
                pinned[name.lower()] = version
    assert set(pinned) == set(bounds)
    for name, version in bounds.items():
        assert pinned[name].split(".")[:len(version.split("."))] == version.split("."), name
