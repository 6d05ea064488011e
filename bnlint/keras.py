"""``BNLintCallback``: lint a Keras model while it trains.

    from bnlint.keras import BNLintCallback
    model.fit(data, epochs=1, callbacks=[BNLintCallback()])

At ``on_train_begin`` the model's configuration is linted (a BN axis that is not the channel
axis, dropout feeding BN, a frozen backbone whose BN still trains ...); at ``on_train_end`` its
state too (moving statistics still at their initial values after the steps actually run, or
never updated). Findings are printed to standard error, or raised as :class:`BNLintFindings`
with ``on_findings="raise"``. This module imports Keras (Keras 3 when it is installed, else
tf-keras); nothing else in bnlint does.
"""

from __future__ import annotations

import sys

try:
    import keras as _keras

    _Callback = _keras.callbacks.Callback
except ImportError:  # tf-keras only
    import tf_keras as _keras

    _Callback = _keras.callbacks.Callback

from .api import lint_model
from .findings import Finding
from .report.text import finding_line

__all__ = ["BNLintCallback", "BNLintFindings"]


class BNLintFindings(Exception):
    """What the callback found, when it is told to raise: ``findings`` lists them."""

    def __init__(self, findings: list[Finding]):
        super().__init__("bnlint: " + "; ".join(f"{f.rule} '{f.node}': {f.message}"
                                                for f in findings))
        self.findings = findings


class BNLintCallback(_Callback):
    """Lint the model at the start and at the end of ``fit``.

    ``on_findings``: ``"print"`` (to standard error, the default) or ``"raise"``;
    ``options``: those of :func:`bnlint.lint_path` (``select``, ``ignore`` ...).
    """

    def __init__(self, on_findings: str = "print", **options):
        super().__init__()
        if on_findings not in ("print", "raise"):
            raise ValueError("on_findings is 'print' or 'raise'")
        self.on_findings = on_findings
        self.options = options
        self.findings: list[Finding] = []  # everything reported so far

    def on_train_begin(self, logs=None):
        self._lint()

    def on_train_end(self, logs=None):
        self._lint()

    def _lint(self) -> None:
        seen = {(f.rule, f.node) for f in self.findings}
        new = [f for f in lint_model(self.model, **self.options) if (f.rule, f.node) not in seen]
        if not new:
            return
        self.findings.extend(new)
        if self.on_findings == "raise":
            raise BNLintFindings(new)
        for finding in new:
            print(finding_line(finding), file=sys.stderr)
