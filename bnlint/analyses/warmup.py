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
    remaining = momentum ** steps if momentum and steps is not None else None
    return {
        "steps_taken": steps,
        "initial_weight": round(remaining, 4) if remaining is not None else None,
        "initial_percent": round(100 * remaining) if remaining is not None else None,
        "steps_needed": steps_to_forget(momentum),
    }


def steps_to_forget(momentum: float | None) -> int | None:
    """Training steps until the initial values weigh less than 1%."""
    if not momentum or not 0.0 < momentum < 1.0:
        return None
    return math.ceil(math.log(FORGOTTEN) / math.log(momentum))
