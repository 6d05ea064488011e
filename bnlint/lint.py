"""The lint pipeline: files -> graphs and models -> DAG -> facts -> rules -> findings.

Each input is linted on its own: one that cannot be read becomes an error entry and the others
are still linted. TensorFlow graphs and Keras models go through their own loader, DAG builder
and analyses, and the same rule engine.
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .analyses import analyze
from .engine.rules import Rule
from .engine.run import run_rules
from .errors import CorruptAttribute, InputError, one_line
from .findings import Finding, Note
from .graph.build import build_graph, op_origin
from .policy import Options, Policy
from .results import FileResult
from .sources.checkpoint import read_checkpoint
from .sources.debug_info import resolve_source_file
from .sources.discover import Skipped, directory_without_models, discover
from .sources.files import Skip, load_file
from .sources.graph_input import GraphInput

if TYPE_CHECKING:
    from .sources.keras_files import KerasInput


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    linted: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def add(self, path: str, file: FileResult) -> None:
        """Merge the result of the file at ``path`` (linted when it could be read)."""
        self.findings.extend(file.findings)
        self.notes.extend(file.notes)
        self.errors.extend(file.errors)
        self.skipped.extend(file.skipped)
        if file.linted:
            self.linted.append(path)

    def sort(self) -> None:
        self.findings.sort(key=Finding.sort_key)
        self.notes.sort(key=lambda note: (note.path, note.line or 0, note.node))
        self.errors.sort(key=lambda error: (error.path, error.line or 0))
        self.skipped.sort(key=lambda item: item.path)


def builtin_rules_dir() -> str:
    """``bnlint/rules`` in an installed wheel, the repository's ``rules/`` in a checkout."""
    package = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(package, "rules")
    if os.path.isdir(installed):
        return installed
    return os.path.join(os.path.dirname(package), "rules")


def default_policy(options: Options | None = None) -> Policy:
    """Built-in rules, the given options and each file's closest configuration."""
    return Policy(builtin_rules_dir(), options)


@contextmanager
def _collector_paused():
    """Building a graph allocates millions of small dicts and tuples and frees none of them;
    the cyclic collector would rescan the growing heap over and over (a third of the build
    time on a 50k-node graph). It is switched back on afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# The console command ends with os._exit (see bnlint.cli.run): what was built for the last
# file need not be freed object by object, which costs a fifth of a second on a 50k-node
# training graph. bnlint.cli.run() sets this; each file frees the previous file's.
KEEP_LAST_FILE = False
_kept: list = []


def _keep(*objects) -> None:
    if KEEP_LAST_FILE:
        _kept.extend(objects)


def lint_graph_input(source: GraphInput | KerasInput, rules: list[Rule],
                     checkpoint=None) -> tuple[list[Finding], list[Note]]:
    """The findings for one graph or model, and notes on what bnlint could not look into.
    ``checkpoint`` is the one saved with a graph (see :func:`read_checkpoints`)."""
    with _collector_paused():
        if not isinstance(source, GraphInput):  # a Keras model: its modules, imported now
            from .analyses.keras import analyze_keras
            from .graph.keras_build import build_keras_graph

            graph = build_keras_graph(source)
            facts = analyze_keras(graph, source)
            notes = [Note(source.path, graph._node[node]["name"], why, graph._node[node]["line"])
                     for node, why in facts.opaque]
            return run_rules(rules, graph, facts), notes
        graph = build_graph(source)
        facts = analyze(graph, checkpoint)
        _keep(graph, facts)
        source.errors.extend(facts.errors)
        return run_rules(rules, graph, facts, _locator(graph, source.debug)), []


def read_checkpoints(sources) -> dict[str, object]:
    """The checkpoint saved with each graph, by prefix, each index read once (a SavedModel's
    graphs share its variables/); an unreadable one is an error of its own (on the first graph
    that has it) and its graphs are linted without it."""
    found: dict[str, object] = {}
    for source in sources:
        prefix = getattr(source, "checkpoint", None)
        if prefix is None or prefix in found:
            continue
        try:
            found[prefix] = read_checkpoint(prefix)
        except InputError as exc:
            source.errors.append(exc)
            found[prefix] = None
    return found


def _locator(graph, debug):
    """``locate(ops)``: the Python ``(file, line)`` that created the first of ``ops`` the
    graph's debug info knows, or None. The debug info is read on the first call."""
    if debug is None:
        return None

    def locate(nodes):
        traces = debug.traces()
        if traces is None:
            return None
        for node in nodes:
            site = traces.creation_site(*op_origin(graph, node))
            if site is not None:
                return resolve_source_file(site[0]), site[1]
        return None

    return locate


def lint_sources(sources, rules: list[Rule], policy: Policy,
                 path: str) -> tuple[list[Finding], list[Note]]:
    """The findings for the graphs and models read from ``path`` that its configuration keeps
    (with its severities), and the notes."""
    findings, notes = [], []
    checkpoints = read_checkpoints(sources)
    for source in sources:
        found, noted = lint_graph_input(
            source, rules, checkpoints.get(getattr(source, "checkpoint", None)))
        findings.extend(kept for finding in found
                        if (kept := policy.keep(finding, path)) is not None)
        notes.extend(noted)
    return findings, notes


def lint_paths(paths: list[str], policy: Policy | None = None, jobs: int = 1,
               cache=None) -> LintResult:
    """Lint files and directories; each file with the rules and overrides ``policy`` gives it
    (by default: every built-in rule and the file's closest configuration). ``jobs`` > 1 lints
    files in that many processes; ``cache`` (a :class:`bnlint.cache.Cache`) reuses the results
    of files linted before. Neither changes the result."""
    policy = policy or default_policy()
    found = discover(paths)
    result = LintResult(errors=list(found.errors), skipped=list(found.skipped))
    tasks = [(path, policy.rules_for(path)) for path in found.files]
    for (path, _), file_result in zip(tasks, _file_results(tasks, policy, jobs, cache),
                                      strict=True):
        result.add(path, file_result)
    _report_directories_without_models(found, result)
    result.sort()
    return result


def _file_results(tasks, policy: Policy, jobs: int, cache):
    """Each task's FileResult, in order: from the cache where it has one, the others linted
    (in worker processes when ``jobs`` > 1) and stored."""
    from .parallel import ordered_map

    keys = [cache.key(path, rules, policy) if cache else None for path, rules in tasks]
    results = [cache.load(key) if key else None for key in keys]
    missing = [index for index, found in enumerate(results) if found is None]

    def lint_task(index: int) -> dict:
        path, rules = tasks[index]
        return lint_file(path, rules, policy).to_data()  # plain data from a worker process

    def lost(index: int) -> dict:
        return FileResult(errors=[InputError(
            tasks[index][0], "the worker process linting this file died (killed, or out of "
                             "memory); rerun with -j 1 to see more")], cacheable=False).to_data()

    workers = 1 if policy.options.debug else jobs  # a traceback comes from this process
    def cost(index: int) -> float:  # text is parsed by Python, binary by C
        path = tasks[index][0]
        try:
            size = os.path.getsize(path)
        except OSError:
            return 0
        return size * (20 if path.endswith((".pbtxt", ".pbtext", ".json")) else 1)

    for index, data in zip(missing, ordered_map(lint_task, missing, workers, lost, cost),
                           strict=True):
        results[index] = linted = FileResult.from_data(data)
        if keys[index] and linted.cacheable:
            cache.store(keys[index], linted)
    return results


def lint_file(path: str, rules: list[Rule], policy: Policy) -> FileResult:
    """Load, analyse and lint one file. This is the boundary: whatever goes wrong with one
    input becomes that input's error, never the end of the run (``--debug`` excepted)."""
    _kept.clear()
    try:
        sources = load_file(path)
        _keep(sources)
        findings, notes = lint_sources(sources, rules, policy, path)
        return FileResult(findings=findings, notes=notes, errors=_input_errors(sources),
                          linted=True)
    except Skip as exc:
        return FileResult(skipped=[Skipped(path, str(exc))])
    except InputError as exc:
        return FileResult(errors=[exc])
    except CorruptAttribute as exc:  # parsed only when an analysis read it
        return FileResult(errors=[InputError(path, str(exc))])
    except (RecursionError, MemoryError) as exc:
        return FileResult(errors=[InputError(
            path, f"graph too large to analyse ({type(exc).__name__})")])
    except Exception as exc:  # the boundary: one input's failure is that input's error
        if policy.options.debug:
            raise
        return FileResult(errors=[internal_error(path, exc)], cacheable=False)


def internal_error(path: str, exc: Exception) -> InputError:
    """An exception no loader or analysis turned into a message: a bug in bnlint, reported as
    this input's error (one line; ``--debug`` shows the traceback)."""
    return InputError(path, f"bnlint could not lint this file ({type(exc).__name__}: "
                            f"{one_line(exc)});"
                            " rerun with --debug for the traceback and please report it")


def _input_errors(sources) -> list[InputError]:
    """What could not be read beside the graphs, each once: a GraphDebugInfo file (a
    SavedModel's graphs share theirs; findings then lack source lines), the checkpoint saved
    with them (findings then lack its evidence). The graphs themselves were linted."""
    errors = []
    for source in sources:
        debug_error = getattr(source, "debug", None) and source.debug.error
        for found in [debug_error, *getattr(source, "errors", ())]:
            if found is not None and str(found) not in map(str, errors):
                errors.append(found)
    return errors


def _report_directories_without_models(found, result: LintResult) -> None:
    """A directory argument in which nothing was a graph or model is an error."""
    linted = {found.roots.get(path) for path in result.linted}
    read = linted | {found.roots.get(error.path) for error in result.errors}
    for directory in found.directories:
        if directory not in read:
            skipped = sum(1 for item in result.skipped
                          if os.path.abspath(item.path).startswith(os.path.abspath(directory)))
            result.errors.append(directory_without_models(directory, skipped))
