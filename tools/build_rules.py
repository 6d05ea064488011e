"""Write rules/parsed.json: the built-in rule files' texts with their parsed mappings.

bnlint reads a rule file's text and, when the text is one of these, takes its mapping from here
instead of parsing YAML: a run that reads no other YAML never imports PyYAML (15-20 ms). The
YAML files stay the source; an edited file no longer matches its entry and is parsed as usual.

    python tools/build_rules.py          # rewrite the file
    python tools/build_rules.py --check  # exit 1 when the committed file differs

tests/test_rule_engine.py runs --check.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bnlint.engine.rules import PARSED_RULES, rule_files  # noqa: E402
from bnlint.errors import RuleError  # noqa: E402
from bnlint.yaml_files import write_parsed_texts  # noqa: E402

RULES = os.path.join(ROOT, "rules")
OUTPUT = os.path.join(RULES, PARSED_RULES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the committed file differs from a fresh build")
    args = parser.parse_args(argv)
    document = write_parsed_texts(rule_files(RULES), RuleError,
                                  None if args.check else OUTPUT)
    if args.check:
        try:
            with open(OUTPUT, encoding="utf-8") as handle:
                current = handle.read()
        except OSError:
            current = None
        if current != document:
            print(f"{OUTPUT} is stale: run python tools/build_rules.py", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
