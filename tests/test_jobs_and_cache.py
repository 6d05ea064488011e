"""-j lints files in worker processes with the same output as one process; the cache reuses a
file's result only while nothing that decides it has changed, and never trusts a bad entry."""

import gc
import json
import os
import shutil
import signal

import pytest

import bnlint.lint
from bnlint.parallel import can_fork, ordered_map
from conftest import FIXTURES, ROOT, run_cli, tf_fixture

BUGGY = tf_fixture("v1", "layers_missing_deps.meta")  # BN101
CLEAN = tf_fixture("v1", "layers_update_deps.meta")
KERAS = os.path.join(FIXTURES, "keras")


@pytest.mark.slow
@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
@pytest.mark.parametrize("output", ["json", "text", "sarif", "junit"])
def test_jobs_give_the_same_output_byte_for_byte(output):
    # Keras files (HDF5 read in a forked child of the worker) and TF graphs, with notes and
    # skipped files among them, and an unreadable file
    paths = [KERAS, tf_fixture("v1", "."), os.path.join(ROOT, "pyproject.toml") + ".pb"]
    one = run_cli(*paths, "--format", output, "-j", "1", "-v")
    two = run_cli(*paths, "--format", output, "-j", "2", "-v")
    assert one.code == two.code == 2
    assert one.out == two.out and one.err == two.err
    if output == "json":
        report = json.loads(one.out)
        assert len(report["findings"]) > 50 and report["notes"] and report["skipped"]
        assert len(report["errors"]) == 1


def test_jobs_must_be_a_positive_number():
    result = run_cli(BUGGY, "-j", "0")
    assert result.code == 2 and "'0' is not a positive number of processes" in result.err


@pytest.fixture
def counted(monkeypatch):
    """How many files were linted (not answered from the cache), in this process (-j 1)."""
    calls = []
    original = bnlint.lint.lint_file

    def lint_file(path, rules, policy):
        calls.append(os.path.basename(path))
        return original(path, rules, policy)

    monkeypatch.setattr(bnlint.lint, "lint_file", lint_file)
    return calls


def lint(project, cache, *args):
    result = run_cli(project, "--format", "json", "-j", "1", "--cache-dir", cache, *args)
    return result.code, json.loads(result.out)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(BUGGY, root / "model.meta")
    shutil.copy(CLEAN, root / "other.meta")
    return root


def test_a_second_run_is_answered_from_the_cache(project, tmp_path, counted):
    cache = tmp_path / "cache"
    first = lint(project, cache)
    assert sorted(counted) == ["model.meta", "other.meta"]
    assert (cache / ".gitignore").read_text().endswith("*\n") and (cache / "CACHEDIR.TAG").exists()
    counted.clear()
    second = lint(project, cache)
    assert counted == [] and second == first
    assert [f["rule"] for f in first[1]["findings"]] == ["BN101"]


def test_changed_content_is_linted_again(project, tmp_path, counted):
    cache = tmp_path / "cache"
    lint(project, cache)
    shutil.copy(CLEAN, project / "model.meta")  # the bug fixed
    counted.clear()
    code, report = lint(project, cache)
    assert "model.meta" in counted and code == 0 and report["findings"] == []


def test_a_changed_rule_file_is_linted_again(project, tmp_path, counted):
    rules = tmp_path / "rules"
    rules.mkdir()
    source = open(os.path.join(ROOT, "rules", "BN101-missing-update-dependency.yaml")).read()
    rule = rules / "XBN101-copy.yaml"
    source = source.replace("BN101", "XBN101").replace("name: missing-update-dependency",
                                                       "name: copied-update-dependency")
    rule.write_text(source)
    cache = tmp_path / "cache"
    lint(project, cache, "--rules", rules, "--select", "XBN101")
    rule.write_text(source.replace("severity: error", "severity: warning"))
    counted.clear()
    _, report = lint(project, cache, "--rules", rules, "--select", "XBN101")
    assert sorted(counted) == ["model.meta", "other.meta"]
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("XBN101", "warning")]


def test_a_changed_configuration_is_linted_again(project, tmp_path, counted):
    cache = tmp_path / "cache"
    lint(project, cache)
    (project / ".bnlint.yaml").write_text("severity: {BN101: warning}\n")
    counted.clear()
    _, report = lint(project, cache)
    assert sorted(counted) == ["model.meta", "other.meta"]
    assert [f["severity"] for f in report["findings"]] == ["warning"]
    counted.clear()
    lint(project, cache, "--ignore", "BN101")  # the command line is configuration too
    assert sorted(counted) == ["model.meta", "other.meta"]


def test_a_new_version_is_linted_again(project, tmp_path, counted, monkeypatch):
    cache = tmp_path / "cache"
    lint(project, cache)
    monkeypatch.setattr("bnlint.cache.__version__", "99.0")
    counted.clear()
    lint(project, cache)
    assert sorted(counted) == ["model.meta", "other.meta"]


def test_a_changed_file_beside_is_linted_again(project, tmp_path, counted):
    """A graph's checkpoint, debug info or weights lie beside it."""
    cache = tmp_path / "cache"
    lint(project, cache)
    (project / "model.meta.debug").write_bytes(b"")
    counted.clear()
    lint(project, cache)
    assert sorted(counted) == ["model.meta", "other.meta"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign key", "wrong types",
                                    "deep nesting", "a directory"])
def test_a_bad_entry_is_ignored_and_rewritten(project, tmp_path, counted, damage):
    cache = tmp_path / "cache"
    expected = lint(project, cache)
    entries = sorted((cache / "entries").iterdir())
    assert len(entries) == 2
    for entry in entries:
        good = entry.read_text()
        data = json.loads(good)
        entry.unlink()
        if damage == "garbage":
            entry.write_bytes(b"\xff\x00not json")
        elif damage == "truncated":
            entry.write_text(good[:len(good) // 2])
        elif damage == "foreign key":
            entry.write_text(json.dumps({**data, "key": "0" * 64}))
        elif damage == "wrong types":
            data["result"]["findings"] = [{"rule": 101}] if data["result"]["findings"] else 7
            entry.write_text(json.dumps(data))
        elif damage == "deep nesting":
            entry.write_text("[" * 100_000 + "]" * 100_000)
        else:
            entry.mkdir()
    counted.clear()
    assert lint(project, cache) == expected
    assert sorted(counted) == ["model.meta", "other.meta"]
    if damage != "a directory":
        counted.clear()
        assert lint(project, cache) == expected and counted == []


def test_an_unwritable_cache_is_no_error(project, tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory would be")
    code, report = lint(project, blocked)
    assert code == 1 and [f["rule"] for f in report["findings"]] == ["BN101"]


def test_no_cache_and_the_default_place(project, tmp_path, monkeypatch, counted):
    monkeypatch.delenv("BNLINT_NO_CACHE")
    monkeypatch.chdir(project)
    (project / ".bnlint.yaml").write_text("select: [ALL]\n")
    run_cli(".", "-j", "1", "--no-cache")
    assert not (project / ".bnlint_cache").exists()
    run_cli(".", "-j", "1")
    assert len(list((project / ".bnlint_cache" / "entries").iterdir())) == 2
    counted.clear()
    monkeypatch.setenv("BNLINT_CACHE_DIR", str(tmp_path / "elsewhere"))
    run_cli(".", "-j", "1")
    assert len(counted) == 2 and (tmp_path / "elsewhere" / "entries").is_dir()
    counted.clear()
    monkeypatch.setenv("BNLINT_NO_CACHE", "1")
    run_cli(".", "-j", "1")
    assert len(counted) == 2


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
def test_a_worker_that_dies_costs_only_its_file(monkeypatch):
    parent, original = os.getpid(), bnlint.lint.lint_file

    def lint_file(path, rules, policy):
        if os.getpid() != parent and path == BUGGY:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        return original(path, rules, policy)

    monkeypatch.setattr(bnlint.lint, "lint_file", lint_file)
    others = [tf_fixture("v1", name) for name in ("layers_update_deps.meta",
                                                  "adam_missing_deps.graph.pb")]
    result = run_cli(BUGGY, *others, "-j", "2", "--format", "json")
    report = json.loads(result.out)
    assert result.code == 2
    assert [(e["path"], e["message"].split(" (")[0]) for e in report["errors"]] == [
        (BUGGY, "the worker process linting this file died")]
    assert {f["path"] for f in report["findings"]} == {others[1]}


class _Finalized:
    """A cycle's member that writes the pid it is finalized in to ``fd``."""

    def __init__(self, fd):
        self.fd, self.cycle = fd, self

    def __del__(self):
        os.write(self.fd, f"{os.getpid()}\n".encode())


def _collect_then(item):
    gc.collect()  # as a worker's own allocations would, sooner or later
    return item


@pytest.mark.skipif(not can_fork(), reason="worker processes are forked")
def test_workers_leave_the_callers_uncollected_garbage_alone():
    """A caller with TensorFlow loaded has garbage the collector has not reached yet when
    bnlint forks; finalizing it in a worker crashed the worker (TensorFlow's functions)."""
    read, write = os.pipe()
    enabled = gc.isenabled()
    gc.disable()
    try:
        _Finalized(write)  # unreachable at once, collected only by the cyclic collector
        assert list(ordered_map(_collect_then, [1, 2, 3], jobs=2)) == [1, 2, 3]
        gc.collect()  # here, in the caller: where it belongs
    finally:
        if enabled:
            gc.enable()
    os.close(write)
    with os.fdopen(read) as finalized:
        assert finalized.read().split() == [str(os.getpid())]
