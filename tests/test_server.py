"""bnlint server, end to end: a real LSP client (pytest-lsp) talks to ``python -m bnlint server``
over stdio in a workspace holding a buggy MetaGraph with its debug info and a clean graph."""

import asyncio
import os
import pathlib
import shutil
import sys

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from conftest import BN_CALL, MINIMIZE_CALL, tf_fixture  # noqa: E402

WORKSPACE = pathlib.Path(os.environ.get("BNLINT_TEST_WORKSPACE", "/tmp")) / \
    f"bnlint-server-test-{os.getpid()}"


def _fill_workspace():
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    for name in ("debug_info_missing_deps.meta", "debug_info_missing_deps.debug"):
        shutil.copy(tf_fixture("v1", name), WORKSPACE / name.replace("debug_info_missing_deps",
                                                                      "train"))
    shutil.copy(tf_fixture("v1", "layers_update_deps.graph.pbtxt"), WORKSPACE / "clean.pbtxt")


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "bnlint", "server"]))
async def client(lsp_client: LanguageClient):
    _fill_workspace()
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=WORKSPACE.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=WORKSPACE.as_uri(), name="models")]))
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(WORKSPACE, ignore_errors=True)


async def _diagnostics_after(client, notify):
    """Send ``notify`` (or nothing), then wait until the server has published again."""
    if notify:
        notify()
    await asyncio.wait_for(
        client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=60)
    await asyncio.sleep(0.5)  # the rest of that round of notifications
    return client.diagnostics


def _changed(client, *paths):
    def notify():
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=path.as_uri(), type=types.FileChangeType.Changed)
            for path in paths]))
    return notify


@pytest.mark.slow
@pytest.mark.asyncio
async def test_diagnostics_on_the_python_line_cleared_by_a_fix_and_a_corrupt_file(client):
    diagnostics = await _diagnostics_after(client, None)
    # the path the debug info recorded (the checkout that generated the fixtures)
    (blocks,) = [uri for uri in diagnostics if uri.endswith("/fixtures/tfgen/blocks.py")]
    (finding,) = diagnostics[blocks]
    assert finding.code == "BN101" and finding.source == "bnlint"
    assert finding.range.start.line == BN_CALL - 1
    assert finding.severity == types.DiagnosticSeverity.Error
    assert "train.meta" in finding.message and "Fix:" in finding.message
    assert finding.code_description.href.endswith("/rules/BN101-missing-update-dependency.yaml")
    (step,) = finding.related_information  # the minimize() call, where the fix goes
    assert step.message == "training step 'train_op'"
    assert step.location.uri.endswith("/fixtures/tfgen/updates.py")
    assert step.location.range.start.line == MINIMIZE_CALL - 1
    assert not diagnostics.get((WORKSPACE / "clean.pbtxt").as_uri())

    # the fix: the graph rebuilt with its update ops wired
    for name in ("meta", "debug"):
        shutil.copy(tf_fixture("v1", f"debug_info_update_deps.{name}"), WORKSPACE / f"train.{name}")
    diagnostics = await _diagnostics_after(client, _changed(client, WORKSPACE / "train.meta"))
    assert list(diagnostics[blocks]) == []

    # a corrupt artifact: one diagnostic on it, and the server carries on
    broken = WORKSPACE / "broken.pb"
    broken.write_bytes(b"\x0a\xff\xff\xff\xff\x0f")
    diagnostics = await _diagnostics_after(client, _changed(client, broken))
    (error,) = diagnostics[broken.as_uri()]
    assert error.severity == types.DiagnosticSeverity.Error and "protocol buffer" in error.message
    assert list(diagnostics[blocks]) == []
