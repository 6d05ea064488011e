"""The ``bnlint`` command line."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .errors import RuleError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

DESCRIPTION = """\
Static linter for batch-normalization bugs in TensorFlow graphs.

Reads GraphDefs (.pb, .pbtxt), MetaGraphs (.meta), SavedModel directories and Estimator
model_dirs without running or importing TensorFlow, and reports BN layers whose moving
statistics are never updated, whose training flag is a constant, and more.
"""

EPILOG = """\
other commands:
  bnlint rule CODE        show a rule's documentation (e.g. bnlint rule BN101)

selectors (--select/--ignore) are codes (BN101), code prefixes (BN1), rule names
(missing-update-dependency) or ALL, separated by commas.

exit status: 0 no findings, 1 findings, 2 usage error or an input that could not be read.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bnlint", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="graph files or directories to lint (directories are walked)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="output format (default: text)")
    parser.add_argument("--select", metavar="RULES", action="append", default=[],
                        help="only run these rules")
    parser.add_argument("--ignore", metavar="RULES", action="append", default=[],
                        help="do not run these rules")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the YAML rules in DIR (repeatable)")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also list the files skipped and why")
    parser.add_argument("--version", action="version", version=f"bnlint {__version__}")
    return parser


def _rules(extra_dirs):
    from .lint import default_rules

    return default_rules(extra_dirs)


def _selectors(values: list[str]) -> list[str]:
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


def select_rules(rules, select: list[str], ignore: list[str]):
    """Filter rules by codes, code prefixes, names or ALL; raise ValueError on an unknown one."""

    def matching(token):
        if token == "ALL":
            return set(rule.code for rule in rules)
        found = {rule.code for rule in rules if rule.code.startswith(token) or rule.name == token}
        if not found:
            raise ValueError(f"unknown rule selector '{token}'")
        return found

    chosen = set().union(*(matching(t) for t in select)) if select else {r.code for r in rules}
    dropped = set().union(*(matching(t) for t in ignore)) if ignore else set()
    return [rule for rule in rules if rule.code in chosen - dropped]


def _write(stream, text: str) -> None:
    if text:
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            pass


def _rule_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bnlint rule",
                                     description="Show a rule's documentation.")
    parser.add_argument("code", metavar="CODE", help="rule code or name, e.g. BN101")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the YAML rules in DIR")
    args = parser.parse_args(argv)
    from .engine.docs import rule_markdown

    try:
        rules = _rules(args.rules)
    except RuleError as exc:
        _write(sys.stderr, f"bnlint: error: {exc}\n")
        return EXIT_ERROR
    for rule in rules:
        if args.code in (rule.code, rule.name):
            _write(sys.stdout, rule_markdown(rule))
            return EXIT_CLEAN
    _write(sys.stderr, f"bnlint: error: no rule '{args.code}' (see bnlint --list-rules)\n")
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["rule"]:
        return _rule_command(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        rules = select_rules(_rules(args.rules), _selectors(args.select), _selectors(args.ignore))
    except RuleError as exc:
        _write(sys.stderr, f"bnlint: error: {exc}\n")
        return EXIT_ERROR
    except ValueError as exc:
        parser.error(str(exc))
    if args.list_rules:
        width = max((len(rule.name) for rule in rules), default=0)
        _write(sys.stdout, "".join(
            f"{rule.code}  {rule.name:<{width}}  {rule.severity:<7}  {rule.summary}\n"
            for rule in rules))
        return EXIT_CLEAN
    if not args.paths:
        parser.error("no paths given (try: bnlint path/to/graph.pb)")
    from .lint import lint_paths
    from .report import RENDERERS

    result = lint_paths(args.paths, rules)
    out, err = RENDERERS[args.format](result, verbose=args.verbose)
    _write(sys.stdout, out)
    _write(sys.stderr, err)
    if result.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


def run() -> None:
    """Console entry point: ``main()``, then exit without tearing the interpreter down.

    Freeing a 50k-node graph and every module object by object only delays the exit of a
    process that is done; output is flushed first.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)
