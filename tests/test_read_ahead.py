"""The command line reads its first file in a background thread while it imports; the loader
uses those bytes only while the file is unchanged."""

import json
import os
import shutil

import pytest

import bnlint.cache
import bnlint.sources.prefetch as prefetch
from bnlint.cache import _file_digest
from bnlint.sources.files import read_limited
from conftest import run_cli, tf_fixture

BUGGY = tf_fixture("v1", "layers_missing_deps.meta")  # BN101


def test_read_ahead_bytes_are_taken_once(tmp_path):
    path = tmp_path / "graph.pb"
    path.write_bytes(b"first")
    prefetch.start([str(path)])
    assert prefetch.peek(os.stat(path)) == b"first"
    assert prefetch.take(os.stat(path)) == b"first"
    assert prefetch.take(os.stat(path)) is None


def test_a_file_changed_after_it_was_read_ahead_is_read_again(tmp_path):
    path = tmp_path / "graph.pb"
    path.write_bytes(b"first")
    prefetch.start([str(path)])
    assert prefetch.peek(os.stat(path)) == b"first"  # the read is done
    path.write_bytes(b"second, longer")
    assert prefetch.peek(os.stat(path)) is None
    assert read_limited(str(path), "graph.pb") == b"second, longer"
    prefetch.forget()


def test_only_the_first_graph_or_model_file_is_read_ahead(tmp_path):
    shard = tmp_path / "model.ckpt-1.data-00000-of-00001"
    graph = tmp_path / "graph.pb"
    for path in (shard, graph):
        path.write_bytes(b"bytes")
    for paths in ([str(shard)], [str(tmp_path)], ["-"], [str(tmp_path / "missing.pb")],
                  [str(shard), str(graph)], []):
        prefetch.start(paths)
        assert prefetch._reads == {}, paths
    prefetch.start([str(graph), str(shard)])
    assert list(prefetch._reads) == [(os.stat(graph).st_dev, os.stat(graph).st_ino)]
    prefetch.forget()
    assert prefetch._reads == {}


def test_the_command_line_lints_the_bytes_it_read_ahead(monkeypatch, tmp_path):
    taken = []
    original = prefetch.take

    def take(now):
        data = original(now)
        taken.append(data is not None)
        return data

    monkeypatch.setattr(prefetch, "take", take)
    copy = tmp_path / "graph.meta"
    shutil.copyfile(BUGGY, copy)
    result = run_cli(copy, "--format", "json", "--no-cache")
    assert taken == [True]
    assert [f["rule"] for f in json.loads(result.out)["findings"]] == ["BN101"]
    assert prefetch._reads == {}


def test_the_cache_key_hashes_the_bytes_read_ahead(tmp_path, monkeypatch):
    path = tmp_path / "graph.meta"
    shutil.copyfile(BUGGY, path)
    expected = _file_digest(str(path))
    prefetch.start([str(path)])
    prefetch.peek(os.stat(path))

    def unreadable(*args, **kwargs):
        raise PermissionError("only the bytes read ahead can give the digest")

    monkeypatch.setattr(bnlint.cache, "open", unreadable, raising=False)
    assert _file_digest(str(path)) == expected
    prefetch.forget()
    with pytest.raises(PermissionError):
        _file_digest(str(path))


def test_the_cache_key_takes_the_digest_computed_ahead(tmp_path, monkeypatch):
    path = tmp_path / "graph.meta"
    shutil.copyfile(BUGGY, path)
    expected = _file_digest(str(path))
    prefetch.start([str(path)], digest=True)
    assert prefetch.digest(os.stat(path)) == expected

    class Unhashable:
        @staticmethod
        def sha256(*args):
            raise AssertionError("hashed again")

    monkeypatch.setattr(bnlint.cache, "hashlib", Unhashable)
    assert _file_digest(str(path)) == expected
    prefetch.forget()


def test_the_file_is_hashed_ahead_only_when_results_are_cached(monkeypatch, tmp_path):
    started = []
    original = prefetch.start

    def start(paths, digest=False):
        started.append(digest)
        original(paths, digest)

    monkeypatch.setattr(prefetch, "start", start)
    copy = tmp_path / "graph.meta"
    shutil.copyfile(BUGGY, copy)
    run_cli(copy, "--format", "json", "--cache-dir", tmp_path / "cache")
    run_cli(copy, "--format", "json", "--no-cache")
    monkeypatch.setenv("BNLINT_NO_CACHE", "1")
    run_cli(copy, "--format", "json")
    assert started == [True, False, False]
