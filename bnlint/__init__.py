"""bnlint: a static linter for batch-normalization bugs in TensorFlow graphs."""

__version__ = "0.1.0"
