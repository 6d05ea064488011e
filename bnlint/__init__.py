"""bnlint: a static linter for batch-normalization bugs in TensorFlow graphs and Keras models.

The command line is ``bnlint``; from Python::

    import bnlint
    findings = bnlint.lint_path("model/train.meta")      # files or directories
    findings = bnlint.lint_graph(tf_graph)                # a live tf.Graph, a GraphDef ...
    findings = bnlint.lint_model(keras_model)             # a live Keras model
    bnlint.assert_clean(tf_graph)                         # in a test suite
"""

__version__ = "0.1.0"
__url__ = "https://github.com/bnlint/bnlint"


def lint_path(path, **options):
    """Findings for a file or directory (see :func:`bnlint.api.lint_path`)."""
    from .api import lint_path as run

    return run(path, **options)


def lint_graph(graph, **options):
    """Findings for a ``tf.Graph``, GraphDef or MetaGraphDef (see :func:`bnlint.api.lint_graph`)."""
    from .api import lint_graph as run

    return run(graph, **options)


def lint_model(model, **options):
    """Findings for a live Keras model, read in memory (see :func:`bnlint.api.lint_model`)."""
    from .api import lint_model as run

    return run(model, **options)


def assert_clean(graph, **options):
    """Raise AssertionError listing the findings, if any (see :func:`bnlint.api.assert_clean`)."""
    __tracebackhide__ = True
    from .api import assert_clean as run

    return run(graph, **options)


def __getattr__(name):
    """``bnlint.LintFailed`` without importing the lint machinery at ``import bnlint``."""
    if name == "LintFailed":
        from .api import LintFailed

        return LintFailed
    raise AttributeError(f"module 'bnlint' has no attribute {name!r}")
