"""The ``bnlint`` command line."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from . import __version__
from .errors import BnlintError
from .report import FORMATS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}

DESCRIPTION = """\
Static linter for batch-normalization bugs in TensorFlow graphs and Keras models.

Reads GraphDefs (.pb, .pbtxt), MetaGraphs (.meta), SavedModel directories, Estimator
model_dirs and Keras models (JSON configs, HDF5 files, Keras v3 archives) without running or
importing TensorFlow or Keras, and reports BN layers whose moving statistics are never updated,
whose training flag is a constant, whose axis is not the channel axis, and more.
"""

EPILOG = """\
commands:
  bnlint [check] [PATH ...]   lint (check is optional, as in ruff; PATH defaults to .)
  bnlint rule CODE        show a rule's documentation (e.g. bnlint rule BN101; --output-format
                          json for JSON)
  bnlint server           a Language Server Protocol server over stdio (pip install
                          'bnlint[server]')

selectors (--select/--ignore ...) are codes (BN101), code prefixes (BN1), rule names
(missing-update-dependency) or ALL, separated by commas.

configuration: the closest .bnlint.yaml or [tool.bnlint] table in pyproject.toml above each
linted file (select, ignore, extend-select, severity, per-file-ignores, node-ignores, rules,
fail-on, baseline); command-line options override it.

exit status: 0 no findings (at or above --fail-on), 1 findings, 2 usage error, invalid rule or
configuration file, or an input that could not be read.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bnlint", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="graph or model files, or directories to walk (default: .)")
    output = parser.add_argument_group("output")
    output.add_argument("--output-format", "--format", dest="format", choices=FORMATS,
                        default="full", metavar="{" + ",".join(FORMATS) + "}",
                        help="output format: full (default: each finding with its fix and "
                             "locations), concise (one line each), json, sarif, github, junit")
    output.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the text formats (auto: in a terminal; NO_COLOR and "
                             "FORCE_COLOR are honoured)")
    output.add_argument("-q", "--quiet", action="store_true",
                        help="print the findings (and errors) only, no summary line")
    output.add_argument("-o", "--output-file", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    output.add_argument("--statistics", action="store_true",
                        help="show how many findings each rule has instead of the findings")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="also list skipped files and notes (Lambda layers ...)")
    output.add_argument("--debug", action="store_true",
                        help="let an internal error's traceback through (for bug reports)")
    rules = parser.add_argument_group("rule selection")
    rules.add_argument("--select", metavar="RULES", action="append",
                       help="only run these rules (replaces the configured selection)")
    rules.add_argument("--ignore", metavar="RULES", action="append", default=[],
                       help="do not run these rules")
    rules.add_argument("--extend-select", metavar="RULES", action="append", default=[],
                       help="run these rules too")
    rules.add_argument("--extend-ignore", metavar="RULES", action="append", default=[],
                       help="do not run these rules either")
    rules.add_argument("--rules", metavar="DIR", action="append", default=[],
                       help="also load the YAML rules in DIR (repeatable)")
    rules.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    inputs = parser.add_argument_group("inputs")
    inputs.add_argument("--stdin-filename", metavar="NAME",
                        help="the name of the file read from standard input (PATH -): shown "
                             "in the report, and its configuration applies")
    inputs.add_argument("--show-files", action="store_true",
                        help="list the files that would be linted, and exit")
    inputs.add_argument("--show-settings", action="store_true",
                        help="show the configuration the first file (or PATH) is linted with")
    status = parser.add_argument_group("exit status and configuration")
    status.add_argument("--fail-on", choices=("error", "warning", "info"),
                        help="the lowest severity that makes bnlint exit 1 (default: info)")
    status.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when there are findings")
    status.add_argument("--config", metavar="FILE",
                        help="use this .bnlint.yaml or pyproject.toml for every file")
    status.add_argument("--isolated", action="store_true", help="ignore configuration files")
    status.add_argument("--baseline", metavar="FILE",
                        help="do not report findings recorded in FILE (see --write-baseline)")
    status.add_argument("--write-baseline", metavar="FILE",
                        help="record the current findings in FILE and exit 0")
    speed = parser.add_argument_group("speed")
    speed.add_argument("-j", "--jobs", metavar="N", type=_jobs,
                       help="lint files in N processes (default: the number of CPUs; the "
                            "output is the same)")
    speed.add_argument("--no-cache", action="store_true",
                       help="do not read or write the cache (also BNLINT_NO_CACHE=1)")
    speed.add_argument("--cache-dir", metavar="DIR",
                       help="where results are cached (default: .bnlint_cache beside the "
                            "configuration, or here; also BNLINT_CACHE_DIR)")
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    return parser


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of processes")
    return value


def _selectors(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


def _write(stream, text: str) -> None:
    if text:
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            pass


def _json(data) -> str:
    import json

    return json.dumps(data, indent=2) + "\n"


def _rule_summary(rule) -> dict:
    """A rule as ``--list-rules --output-format json`` and ``bnlint rule`` give it."""
    return {"code": rule.code, "name": rule.name, "severity": rule.severity,
            "summary": rule.summary, "subject": rule.subject}


def _rule_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bnlint rule", allow_abbrev=False,
                                     description="Show a rule's documentation.")
    parser.add_argument("code", metavar="CODE", help="rule code or name, e.g. BN101")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the YAML rules in DIR")
    parser.add_argument("--output-format", "--format", dest="format", default="text",
                        choices=("text", "json"), help="text (Markdown) or json")
    args = parser.parse_args(argv)
    from .engine.docs import rule_markdown
    from .engine.rules import load_rules
    from .lint import builtin_rules_dir

    try:
        rules = load_rules([builtin_rules_dir(), *args.rules])
    except BnlintError as exc:
        _write(sys.stderr, f"bnlint: error: {exc}\n")
        return EXIT_ERROR
    for rule in rules:
        if args.code in (rule.code, rule.name):
            _write(sys.stdout, _json({**_rule_summary(rule), "explanation": rule_markdown(rule)})
                   if args.format == "json" else rule_markdown(rule))
            return EXIT_CLEAN
    _write(sys.stderr, f"bnlint: error: no rule '{args.code}' (see bnlint --list-rules)\n")
    return EXIT_ERROR


def main(argv: list[str] | None = None, exiting: bool = False) -> int:
    """Run bnlint with ``argv``; ``exiting`` when the process ends right after (nothing built
    for the last file is freed then). ``bnlint check PATHS`` is ``bnlint PATHS``, as in ruff."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["rule"]:
        return _rule_command(argv[1:])
    if argv[:1] == ["check"]:
        argv = argv[1:]
    if argv[:1] == ["server"]:
        from .server import serve

        return serve()
    parser = _parser()
    args = parser.parse_args(argv)
    from .sources import prefetch

    if not (args.list_rules or args.show_files or args.show_settings):
        # while the linting machinery is imported
        prefetch.start(args.paths, digest=_caching(args))
    try:
        return _run(parser, args, exiting)
    except BnlintError as exc:
        _write(sys.stderr, f"bnlint: error: {exc}\n")
        return EXIT_ERROR
    finally:
        prefetch.forget()


def _run(parser, args, exiting: bool) -> int:
    from . import lint
    from .lint import default_policy
    from .policy import Options

    lint.KEEP_LAST_FILE = exiting
    options = Options(
        select=_selectors(args.select), ignore=_selectors(args.ignore),
        extend_select=_selectors(args.extend_select), extend_ignore=_selectors(args.extend_ignore),
        rules=args.rules, config=args.config, isolated=args.isolated, debug=args.debug,
    )
    policy = default_policy(options)
    here = policy.config_for(os.getcwd())
    try:
        listed = policy.rules_for(os.getcwd())
    except ValueError as exc:
        parser.error(str(exc))
    if args.list_rules:
        if args.format == "json":
            _write(sys.stdout, _json([_rule_summary(rule) for rule in listed]))
            return EXIT_CLEAN
        width = max((len(rule.name) for rule in listed), default=0)
        _write(sys.stdout, "".join(
            f"{rule.code}  {rule.name:<{width}}  {rule.severity:<7}  {rule.summary}\n"
            for rule in listed))
        return EXIT_CLEAN
    if not args.paths:
        args.paths = ["."]
    if args.show_files:
        from .show import show_files

        out, err, failed = show_files(args.paths)
        _write(sys.stdout, out)
        _write(sys.stderr, err)
        return EXIT_ERROR if failed else EXIT_CLEAN
    if args.show_settings:
        from .show import show_settings

        _write(sys.stdout, show_settings(args.paths, policy, args.format == "json"))
        return EXIT_CLEAN
    from .baseline import load_baseline, write_baseline
    from .lint import lint_paths
    from .parallel import default_jobs
    from .report import Report, render
    from .stdin import StandardInput

    with StandardInput(args, policy) as stdin:
        try:
            result = lint_paths(stdin.paths, policy, jobs=args.jobs or default_jobs(),
                                cache=None if stdin.path else _cache(args, here))
        except ValueError as exc:
            parser.error(str(exc))
        stdin.rename(result)
    if args.write_baseline:
        count = write_baseline(args.write_baseline, result.findings)
        from .report.text import count_noun

        _write(sys.stderr,
               f"bnlint: wrote {count_noun(count, 'finding')} to {args.write_baseline}\n")
        return EXIT_ERROR if result.errors else EXIT_CLEAN
    suppressed = 0
    baseline_path = args.baseline or here.baseline
    if baseline_path:
        baseline = load_baseline(baseline_path)
        kept = [finding for finding in result.findings if finding not in baseline]
        suppressed = len(result.findings) - len(kept)
        result.findings = kept
    ran = {rule.code: rule for rule in listed}
    for rules in policy.all_rule_sets():
        ran.update((rule.code, rule) for rule in rules)
    report = Report(result=result, rules=list(ran.values()), verbose=args.verbose,
                    statistics=args.statistics, suppressed=suppressed, root=os.getcwd(),
                    quiet=args.quiet, color=_use_color(args.color, args.output_file))
    out, err = render(args.format, report)
    if args.output_file:
        try:
            with open(args.output_file, "w", encoding="utf-8") as handle:
                handle.write(out)
        except OSError as exc:
            _write(sys.stderr, f"bnlint: error: cannot write {args.output_file}: "
                               f"{exc.strerror}\n")
            return EXIT_ERROR
    else:
        _write(sys.stdout, out)
    _write(sys.stderr, err)
    if result.errors:
        return EXIT_ERROR
    threshold = SEVERITY_RANK[args.fail_on or here.fail_on or "info"]
    failing = any(SEVERITY_RANK[f.severity] >= threshold for f in result.findings)
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_CLEAN


def _use_color(choice: str, output_file: str | None) -> bool:
    """As ruff: ``--color`` decides, else ``NO_COLOR`` turns colours off and ``FORCE_COLOR``
    on, else colours when standard output is a terminal."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return output_file is None and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _caching(args) -> bool:
    """Whether the options (and ``BNLINT_NO_CACHE``) leave results cached."""
    from .cache import disabled_by_environment

    return not (args.no_cache or (disabled_by_environment() and not args.cache_dir))


def _cache(args, config):
    """The cache the options ask for, or None."""
    from .cache import Cache, default_directory

    if not _caching(args):
        return None
    return Cache(args.cache_dir or default_directory(config.root if config.path else None))


def run() -> None:
    """Console entry point: ``main()``, then exit without tearing the interpreter down.

    Freeing a 50k-node graph and every module object by object only delays the exit of a
    process that is done; output is flushed first. The cyclic garbage collector stays off for
    the run: a graph is millions of small objects without reference cycles (each file's are
    freed by reference counting), and the collector's first pass over them after a graph is
    built costs a tenth of a second for nothing. Nor is the last file's graph freed.
    """
    gc.disable()
    code = main(exiting=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)
