"""``bnlint server``: a Language Server Protocol server over standard input and output.

It lints every graph and model artifact in the workspace when the client says it is ready, and
again whenever one changes on disk (``workspace/didChangeWatchedFiles``, and
``textDocument/didSave`` for text artifacts), and publishes each finding as a diagnostic:

* on the Python file and line that created the offending op, whenever the artifact's debug
  info or tracebacks are known, so the squiggle is under the user's ``batch_normalization(...)``
  call;
* otherwise on the artifact itself, at its line for text artifacts (``.pbtxt``, JSON) and on
  its first line for binary ones.

An artifact that cannot be read is one error diagnostic on it. Diagnostic codes link to the
rule's documentation. Configuration is discovered as on the command line. pygls (and its
protocol types) are imported by this module only: ``pip install 'bnlint[server]'``.
"""

from __future__ import annotations

import os
import pathlib
from collections import defaultdict
from urllib.parse import unquote, urlparse

from . import __url__, __version__


def serve() -> int:
    try:
        from lsprotocol import types
        from pygls.lsp.server import LanguageServer
    except ImportError:
        import sys

        print("bnlint server needs pygls: pip install 'bnlint[server]'", file=sys.stderr)
        return 2
    server = LanguageServer("bnlint", __version__)
    state = _State()

    @server.feature(types.INITIALIZED)
    def initialized(ls, params):
        _watch(ls, types)
        _publish(ls, types, state)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def changed(ls, params):
        _publish(ls, types, state)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def saved(ls, params):
        if params.text_document.uri.endswith((".pbtxt", ".pbtext", ".json")):
            _publish(ls, types, state)

    server.start_io()
    return 0


class _State:
    def __init__(self):
        self.published: set[str] = set()  # URIs that have diagnostics now


def _watch(ls, types) -> None:
    """Ask the client to report changes to artifacts (when it can register watchers)."""
    from .sources.discover import MODEL_EXTENSIONS

    capabilities = ls.client_capabilities.workspace
    watched = getattr(capabilities, "did_change_watched_files", None) if capabilities else None
    if not getattr(watched, "dynamic_registration", False):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[
        types.FileSystemWatcher(glob_pattern=f"**/*{extension}")
        for extension in (*MODEL_EXTENSIONS, ".debug")])  # and GraphDebugInfo beside graphs
    ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
        id="bnlint-artifacts", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options)]))


def _publish(ls, types, state: _State) -> None:
    root = _root(ls)
    if root is None:
        return
    diagnostics = lint_workspace(root, types)
    for uri in sorted(state.published - set(diagnostics)):  # fixed since last time: cleared
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri,
                                                                            diagnostics=[]))
    for uri, items in sorted(diagnostics.items()):
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri,
                                                                            diagnostics=items))
    state.published = set(diagnostics)


def _root(ls) -> str | None:
    uri = ls.workspace.root_uri
    if uri:
        return unquote(urlparse(uri).path)
    return ls.workspace.root_path


def lint_workspace(root: str, types) -> dict[str, list]:
    """Diagnostics by file URI for every artifact under ``root``."""
    from .lint import default_policy, lint_paths

    previous = os.getcwd()
    os.chdir(root)  # recorded source paths from other machines resolve below the workspace
    try:
        result = lint_paths([root], default_policy())
    finally:
        os.chdir(previous)
    found: dict[str, list] = defaultdict(list)
    for finding in result.findings:
        if finding.source_file:
            path, line = finding.source_file, finding.source_line
            where = f" (in {os.path.relpath(finding.path, root)}, node '{finding.node}')"
        else:
            path, line, where = finding.path, finding.line, f" (node '{finding.node}')"
        found[_uri(path, root)].append(types.Diagnostic(
            range=_line_range(line, types), severity=_severity(finding.severity, types),
            code=finding.rule, source="bnlint",
            code_description=types.CodeDescription(href=rule_url(finding)),
            message=f"{finding.message}{where}. Fix: {finding.fix}",
            related_information=_related(finding, root, types) or None))
    for error in result.errors:
        found[_uri(error.path, root)].append(types.Diagnostic(
            range=_line_range(error.line, types), severity=types.DiagnosticSeverity.Error,
            source="bnlint",
            message=error.message))
    return dict(found)


def _related(finding, root: str, types) -> list:
    """The places the rule points at (BN101's training step), on their creating Python line
    when known, else in the artifact."""
    related = []
    for place in finding.locations:
        if place.source_file:
            path, line = place.source_file, place.source_line
        else:
            path, line = finding.path, place.line
        related.append(types.DiagnosticRelatedInformation(
            location=types.Location(uri=_uri(path, root), range=_line_range(line, types)),
            message=f"{place.role} '{place.node}'"))
    return related


def _severity(severity: str, types):
    return {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}[severity]


def _uri(path: str, root: str) -> str:
    return pathlib.Path(os.path.join(root, path)).resolve().as_uri()


def _line_range(line: int | None, types):
    start = types.Position(line=max((line or 1) - 1, 0), character=0)
    return types.Range(start=start, end=types.Position(line=start.line + 1, character=0))


def rule_url(finding) -> str:
    """The rule's documentation, as SARIF's ``helpUri`` (the rule file: What it does, Why is
    this bad?, Example, Use instead; also ``bnlint rule CODE``)."""
    return f"{__url__}/blob/main/rules/{finding.rule}-{finding.name}.yaml"
