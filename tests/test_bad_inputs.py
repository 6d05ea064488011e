"""Unreadable inputs: one clear line each on stderr, exit 2, and the other files still linted."""

import json
import os
import shutil

import pytest

from conftest import run_cli, run_process, tf_fixture

BUGGY = tf_fixture("v2", "layers_missing_deps.meta")


def _with_buggy(tmp_path):
    path = tmp_path / "good.meta"
    shutil.copy(BUGGY, path)
    return path


def _assert_one_error(result, path, *words):
    errors = [line for line in result.err.splitlines() if line.startswith("bnlint: ")]
    assert len(errors) == 1, result.err
    assert str(path) in errors[0]
    for word in words:
        assert word in errors[0]
    assert "Traceback" not in result.err
    assert result.code == 2


def _still_linted(result, good):
    assert f"{good}:1:1: BN101" in result.out


def _rejected_beside_a_good_file(tmp_path, bad, *words, where=None):
    """Lint ``bad`` with a good graph: one error line naming ``where`` (default: the bad
    file), exit 2, and the good graph still linted."""
    good = _with_buggy(tmp_path)
    result = run_cli(bad, good)
    _assert_one_error(result, where or bad, *words)
    _still_linted(result, good)


def test_empty_file(tmp_path):
    bad = tmp_path / "empty.pb"
    bad.write_bytes(b"")
    _rejected_beside_a_good_file(tmp_path, bad, "empty")


@pytest.mark.parametrize("name", ["model.pb", "graph.pbtxt", "model.h5", "model.keras",
                                  "model.json", "model.ckpt-10.index"])
def test_git_lfs_pointer(tmp_path, name):
    """A checkout without Git LFS has pointers where the large files should be."""
    bad = tmp_path / name
    bad.write_text("version https://git-lfs.github.com/spec/v1\n"
                   "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
                   "size 12345\n")
    _rejected_beside_a_good_file(tmp_path, bad, "a Git LFS pointer, not the file itself",
                                 "git lfs pull")


def test_truncated_protobuf(tmp_path):
    data = open(tf_fixture("v2", "layers_missing_deps.graph.pb"), "rb").read()
    bad = tmp_path / "truncated.pb"
    bad.write_bytes(data[: len(data) * 2 // 3])
    _rejected_beside_a_good_file(tmp_path, bad, "truncated")


def test_corrupt_protobuf(tmp_path):
    bad = tmp_path / "corrupt.meta"
    bad.write_bytes(bytes([0x0F, 0xFF, 0xFE, 0x07, 0x00, 0x01]) * 50)
    _rejected_beside_a_good_file(tmp_path, bad, "not a valid protocol buffer")


def test_corrupt_nested_message(tmp_path):
    """Valid top-level framing, garbage inside a node."""
    data = bytearray(open(tf_fixture("v1", "layers_missing_deps.graph.pb"), "rb").read())
    data[2:40] = b"\xff" * 38
    bad = tmp_path / "garbled.pb"
    bad.write_bytes(bytes(data))
    result = run_cli(bad)
    _assert_one_error(result, bad, "corrupt")


def test_pbtxt_syntax_error_reports_its_line(tmp_path):
    lines = open(tf_fixture("v1", "layers_missing_deps.graph.pbtxt")).read().splitlines()
    lines[9] = lines[9] + " {{"
    bad = tmp_path / "broken.pbtxt"
    bad.write_text("\n".join(lines) + "\n")
    _rejected_beside_a_good_file(tmp_path, bad, "syntax error", where=f"{bad}:10:")


def test_pbtxt_unknown_field_reports_its_line(tmp_path):
    bad = tmp_path / "typo.pbtxt"
    bad.write_text('node {\n  name: "a"\n  opp: "Const"\n}\n')
    result = run_cli(bad)
    _assert_one_error(result, f"{bad}:3:", "no field named \"opp\"")
    assert "tensorboard" not in result.err


def test_directory_without_graph(tmp_path):
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    _rejected_beside_a_good_file(tmp_path, empty, "no TensorFlow graph")


def test_missing_path(tmp_path):
    result = run_cli(tmp_path / "nope.pb", _with_buggy(tmp_path))
    _assert_one_error(result, tmp_path / "nope.pb", "no such file")


def test_unreadable_file(tmp_path, monkeypatch):
    bad = tmp_path / "secret.pb"
    shutil.copy(BUGGY, bad)
    good = _with_buggy(tmp_path)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if str(path) == str(bad):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    result = run_cli(bad, good)
    _assert_one_error(result, bad, "cannot read file", "Permission denied")
    _still_linted(result, good)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_mode(tmp_path):
    bad = tmp_path / "secret.pb"
    shutil.copy(BUGGY, bad)
    os.chmod(bad, 0)
    try:
        result = run_process(bad)
    finally:
        os.chmod(bad, 0o644)
    assert result.returncode == 2
    assert "cannot read file" in result.stderr


def test_two_gigabyte_file_is_refused_without_reading_it(tmp_path):
    bad = tmp_path / "huge.pb"
    with open(bad, "wb") as handle:
        handle.truncate(2**31 + 10)  # sparse: costs no disk
    _rejected_beside_a_good_file(tmp_path, bad, "2 GiB")


def test_errors_in_json_output(tmp_path):
    bad = tmp_path / "empty.pb"
    bad.write_bytes(b"")
    result = run_cli(bad, _with_buggy(tmp_path), "--format", "json")
    document = json.loads(result.out)
    assert [e["path"] for e in document["errors"]] == [str(bad)]
    assert {f["rule"] for f in document["findings"]} == {"BN101"}
    assert result.code == 2
    assert result.err == ""


def test_non_graph_protobuf_is_skipped_not_an_error(tmp_path):
    """A .pb of another schema (a SavedModel fingerprint) is not a graph: skipped quietly."""
    other = tmp_path / "fingerprint.pb"
    other.write_bytes(bytes([0x08, 0x96, 0x01, 0x10, 0x2A]))
    result = run_cli(other, "--format", "json")
    document = json.loads(result.out)
    assert document["errors"] == []
    assert [s["path"] for s in document["skipped"]] == [str(other)]
    assert result.code == 0


def test_no_traceback_even_from_a_subprocess(tmp_path):
    bad = tmp_path / "empty.pbtxt"
    bad.write_text("")
    result = run_process(bad)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
