"""The examples in the analyses' and graph modules' docstrings run."""

import doctest
import importlib

import pytest

MODULES = ["bnlint.graph.attrs", "bnlint.graph.build", "bnlint.graph.query", "bnlint.graph.wire",
           "bnlint.analyses.batchnorm",
           "bnlint.analyses.context", "bnlint.analyses.evaluation", "bnlint.analyses.warmup",
           "bnlint.sources.keras_config", "bnlint.sources.checkpoint",
           "bnlint.analyses.saved_state",
           "bnlint.sources.debug_info", "bnlint.sources.sniff", "bnlint.selectors", "bnlint.limits",
           "bnlint.results", "bnlint.parallel"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
