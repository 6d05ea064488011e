"""bnlint from Python: lint files, live graphs and graph protos; assert they are clean.

    >>> import bnlint
    >>> findings = bnlint.lint_path("model/train.meta")                        # doctest: +SKIP
    >>> [(f.rule, f.node, f.source_file, f.source_line) for f in findings]      # doctest: +SKIP
    [('BN101', 'block1/bn', '/home/ada/project/model.py', 42)]

A live ``tf.Graph`` is exported with TensorFlow's own ``export_meta_graph`` (so its collections,
``train_op`` and ``UPDATE_OPS`` among them, are seen as in a ``.meta`` file) and each finding
carries the file and line of the user's code that created the offending op, taken from
``Operation.traceback``. This module never imports TensorFlow itself: a caller who passes a
``tf.Graph`` has already imported it.
"""

from __future__ import annotations

import sys

from .errors import BnlintError, InputError
from .findings import Finding
from .lint import default_policy, internal_error, lint_paths, lint_sources
from .policy import Options
from .sources.debug_info import DebugInfo, SourceTraces
from .sources.graph_input import GraphInput
from .sources.tf_files import NotAGraph, load_tf_bytes

__all__ = ["LintFailed", "assert_clean", "lint_graph", "lint_model", "lint_path"]

LIVE_GRAPH = "<tf.Graph>"


class LintFailed(BnlintError):
    """Inputs that could not be linted; ``errors`` lists them (InputError objects)."""

    def __init__(self, errors: list[InputError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def _options(select=None, ignore=(), extend_select=(), extend_ignore=(), rules=(), config=None,
             isolated=False) -> Options:
    return Options(select=list(select) if select is not None else None, ignore=list(ignore),
                   extend_select=list(extend_select), extend_ignore=list(extend_ignore),
                   rules=list(rules), config=config, isolated=isolated)


def lint_path(path, **options) -> list[Finding]:
    """The findings for a graph or model file, or every one in a directory.

    ``options``: ``select``, ``ignore``, ``extend_select``, ``extend_ignore`` (lists of codes,
    prefixes, rule names or ALL), ``rules`` (more rule directories), ``config`` (a configuration
    file) and ``isolated`` (ignore configuration files); as on the command line, the closest
    ``.bnlint.yaml`` or ``[tool.bnlint]`` applies otherwise. Raises :class:`LintFailed` when an
    input cannot be read.
    """
    result = lint_paths([str(path)], default_policy(_options(**options)))
    if result.errors:
        raise LintFailed(result.errors)
    return result.findings


def lint_graph(graph, **options) -> list[Finding]:
    """The findings for a ``tf.Graph`` (or ``tf.compat.v1.Session.graph``), a GraphDef,
    MetaGraphDef or SavedModel message, or their serialized bytes.

    Takes the options of :func:`lint_path`; configuration files are looked for from the
    current directory. Findings for a live graph name where each op was created in Python.
    """
    sources = _graph_input(graph)
    policy = default_policy(_options(**options))
    rules = policy.rules_for(".")  # usage errors (unknown selectors) are raised as they are
    try:
        findings, _ = lint_sources(sources, rules, policy, ".")
    except InputError as exc:
        raise LintFailed([exc]) from None
    except (RecursionError, MemoryError) as exc:
        raise LintFailed([InputError(sources[0].path, "graph too large to analyse "
                                                      f"({type(exc).__name__})")]) from None
    except Exception as exc:  # the boundary, as for files (the cause stays chained)
        raise LintFailed([internal_error(sources[0].path, exc)]) from exc
    return sorted(findings, key=Finding.sort_key)


def lint_model(model, **options) -> list[Finding]:
    """The findings for a live Keras model (tf.keras, tf-keras or Keras 3): its
    ``to_json()`` configuration, its BN layers' weights and its optimizer's step count, read in
    memory, with the same rules and findings as its saved file; nothing is written.

    Takes the options of :func:`lint_path`; configuration files are looked for from the
    current directory.
    """
    from .sources.keras_live import model_input

    policy = default_policy(_options(**options))
    rules = policy.rules_for(".")
    try:
        source = model_input(model)
        findings, _ = lint_sources([source], rules, policy, ".")
    except InputError as exc:
        raise LintFailed([exc]) from None
    except Exception as exc:  # the boundary, as for files (the cause stays chained)
        raise LintFailed([internal_error(f"<{type(model).__name__}>", exc)]) from exc
    return sorted(findings, key=Finding.sort_key)


def assert_clean(graph, **options) -> None:
    """Raise AssertionError listing every finding, if ``graph`` (anything :func:`lint_graph`
    takes, a Keras model, or a path) has any; for a user's own test suite::

        def test_model_graph_is_bn_clean():
            bnlint.assert_clean(build_training_graph())
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    if isinstance(graph, str) or hasattr(graph, "__fspath__"):
        findings = lint_path(graph, **options)
    elif hasattr(graph, "to_json") and hasattr(graph, "layers"):  # a Keras model
        findings = lint_model(graph, **options)
    else:
        findings = lint_graph(graph, **options)
    if findings:
        lines = [f"bnlint found {len(findings)} batch-normalization problem"
                 f"{'s' if len(findings) != 1 else ''}:"]
        for finding in findings:
            where = f" (created at {finding.created_at})" if finding.created_at else ""
            lines.append(f"  {finding.rule} {finding.name} '{finding.node}'{where}: "
                         f"{finding.message}")
        raise AssertionError("\n".join(lines))


def _graph_input(graph) -> list[GraphInput]:
    if _is_live_graph(graph):
        return [_live_graph_input(graph)]
    if isinstance(graph, (bytes, bytearray)):
        data = bytes(graph)
    elif hasattr(graph, "SerializeToString"):
        data = graph.SerializeToString()
    else:
        raise TypeError(f"bnlint.lint_graph takes a tf.Graph, a GraphDef, MetaGraphDef or "
                        f"SavedModel message or its bytes, not {type(graph).__name__}")
    if not data:
        raise LintFailed([InputError(f"<{type(graph).__name__}>", "empty input: no graph")])
    try:
        return load_tf_bytes(data, f"<{type(graph).__name__}>", "")
    except NotAGraph as exc:
        raise TypeError(f"bnlint.lint_graph: {exc}") from None
    except InputError as exc:
        raise LintFailed([exc]) from None


def _is_live_graph(graph) -> bool:
    return all(hasattr(graph, name) for name in ("get_operations", "as_graph_def",
                                                 "get_all_collection_keys"))


def _live_graph_input(graph) -> GraphInput:
    tf = sys.modules.get("tensorflow")
    if tf is None:
        raise TypeError("bnlint.lint_graph: a graph object, but TensorFlow is not imported")
    with graph.as_default():  # also where eager execution is on: export works in graph mode
        meta = tf.compat.v1.train.export_meta_graph(graph=graph)
    (source,) = load_tf_bytes(meta.SerializeToString(), LIVE_GRAPH, "")
    source.debug = DebugInfo(traces=_traces(graph))
    return source


def _traces(graph) -> SourceTraces:
    """Each op's ``Operation.traceback``, for the graph's ops and those of the functions it
    holds (``tf.cond``/``tf.while_loop`` bodies in TF2's graph mode, ``tf.function``s)."""
    stacks = {}
    pending, seen = [("", graph)], set()
    while pending:
        function, current = pending.pop()
        for op in current.get_operations():
            stacks[(function, op.name)] = lambda op=op: _frames(op)
        # A graph's functions: private, but the only place their FuncGraphs are kept.
        for name, defined in getattr(current, "_functions", {}).items():
            body = getattr(defined, "graph", None)
            if body is not None and name not in seen:
                seen.add(name)
                pending.append((name, body))
    return SourceTraces(stacks)


def _frames(op) -> list[tuple[str, int]]:
    return [(frame.filename, frame.lineno) for frame in (op.traceback or ())]
