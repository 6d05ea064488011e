"""How far a BN layer's moving averages have come from their initial values (0 and 1).

Each training step moves them by ``1 - momentum`` toward the batch statistics, so after ``n``
steps the initial values still weigh ``momentum ** n``.

>>> warmup(0.99, 5)
{'steps_taken': 5, 'initial_weight': 0.951, 'initial_percent': 95, 'steps_needed': 459}
"""

from __future__ import annotations

import math

FORGOTTEN = 0.01  # the initial values' weight below which they no longer matter


def warmup(momentum: float | None, steps: int | None) -> dict:
    remaining = initial_weight(momentum, steps)
    return {
        "steps_taken": steps if remaining is not None or _is_count(steps) else None,
        "initial_weight": round(remaining, 4) if remaining is not None else None,
        "initial_percent": round(100 * remaining) if remaining is not None else None,
        "steps_needed": steps_to_forget(momentum),
    }


def initial_weight(momentum, steps) -> float | None:
    """``momentum ** steps`` in floating point, for the numbers a file says, whatever they are:
    None unless the momentum is a real number in [0, 1] and the steps a count.

    >>> initial_weight(0.99, 10**30), initial_weight(2, 10**10), initial_weight("0.9", 3)
    (0.0, None, None)
    """
    if not _is_count(steps) or not _is_fraction(momentum):
        return None
    if momentum in (0, 1):
        return float(momentum) if steps else 1.0
    try:
        return math.pow(float(momentum), steps)
    except OverflowError:  # a count too large for a float: nothing of the start is left
        return 0.0


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_fraction(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0.0 <= value <= 1.0)


def steps_to_forget(momentum: float | None) -> int | None:
    """Training steps until the initial values weigh less than 1%."""
    if not _is_fraction(momentum) or not 0.0 < momentum < 1.0:
        return None
    return math.ceil(math.log(FORGOTTEN) / math.log(momentum))
