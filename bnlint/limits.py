"""Resource limits: those a user may need to raise, read from the environment, and the size
of the largest file bnlint reads.

>>> import os
>>> os.environ["BNLINT_EXAMPLE"] = "120"
>>> positive_number("BNLINT_EXAMPLE", 30.0), positive_number("BNLINT_MISSING", 30.0)
(120.0, 30.0)
>>> os.environ["BNLINT_EXAMPLE"] = "soon"
>>> positive_number("BNLINT_EXAMPLE", 30.0)
30.0
"""

from __future__ import annotations

import math
import os

# Protocol buffers are limited to 2 GiB; TensorFlow cannot have written a larger graph file,
# and bnlint reads no larger Keras file either.
MAX_FILE_BYTES = 2**31 - 1


def positive_number(name: str, default, kind=float):
    """The positive, finite number the environment variable ``name`` holds (as ``kind``), or
    ``default`` when it is unset or anything else."""
    try:
        value = kind(os.environ.get(name, default))
    except (TypeError, ValueError, OverflowError):
        return default
    return value if value > 0 and math.isfinite(value) else default
