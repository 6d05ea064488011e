"""What a checkpoint saved beside the graph says each BN layer's training did.

The graph says what *would* happen; the checkpoint says what *did*: after N steps whose
updates ran, a layer's moving mean and variance have left their initial 0 and 1; if they are
still exactly 0 and 1 while its gamma/beta moved, the updates never ran. NaN, Inf or a negative
variance make every inference through the layer garbage.

Checkpoint keys are the graph's variable names (``tf.compat.v1.train.Saver``, Estimator and
Supervisor checkpoints, a SavedModel's ``variables/``). Only the BN variables' bytes and the
step counter are read.

>>> summarize([0.0, 0.0], [1.0, 1.0], [1.0, 1.1], None, 600)["saved_statistics"]
'untrained'
>>> summarize([0.2, float("nan")], [0.5, -1.0], None, None, 600)["saved_corruption"]
'moving_mean is NaN or Inf in 1 of 2 channels; moving_variance is negative in 1 of 2 channels'
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    from .batchnorm import BNLayer

# A channel whose moving statistics are this close to 0 and 1 still holds mostly its
# initial values (measured, unlike momentum ** steps, which needs the data's statistics).
NEAR_MEAN, NEAR_VARIANCE = 0.1, 0.1
EMPTY = {"saved_statistics": None, "saved_evidence": "", "saved_corruption": None,
         "saved_initial_share": None, "saved_step": None}


def saved_facts(graph, layers: list[BNLayer], checkpoint) -> tuple[dict[int, dict], list]:
    """``({id(layer): facts}, errors)``: each layer's saved-state facts, and the checkpoint's
    read errors (the graph is still linted without them)."""
    if checkpoint is None:
        return {}, []
    nodes = graph._node
    result, errors = {}, []
    try:
        step = checkpoint.step()
        step = graph.graph.get("checkpoint_step") if step is None else step
        for layer in layers:
            names = {role: nodes[variable]["name"] for role, variable in (
                ("gamma", layer.gamma), ("beta", layer.beta), ("mean", layer.moving_mean),
                ("variance", layer.moving_variance)) if variable is not None}
            if "mean" not in names or "variance" not in names:
                continue
            values = {role: checkpoint.read(key) if (key := checkpoint.key_of(name)) else None
                      for role, name in names.items()}
            if values["mean"] is None or values["variance"] is None:
                continue
            result[id(layer)] = summarize(values["mean"], values["variance"],
                                          values.get("gamma"), values.get("beta"), step,
                                          checkpoint.prefix)
    except InputError as exc:
        errors.append(exc)
        return {}, errors
    return result, errors


def summarize(mean, variance, gamma, beta, step, prefix: str = "the checkpoint") -> dict[str, Any]:
    """The facts rules read about one layer's saved statistics."""
    channels = len(mean)
    facts = dict(EMPTY, saved_step=step)
    corruption = _corruption(mean, variance)
    if corruption:
        facts.update(saved_statistics="corrupt", saved_corruption=corruption)
        return facts
    untouched = all(v == 0.0 for v in mean) and all(v == 1.0 for v in variance)
    moved = any(v != 1.0 for v in gamma or ()) or any(v != 0.0 for v in beta or ())
    near = sum(1 for m, v in zip(mean, variance, strict=False)
               if abs(m) <= NEAR_MEAN and abs(v - 1.0) <= NEAR_VARIANCE)
    facts["saved_initial_share"] = round(near / channels, 3) if channels else None
    where = f"{prefix.rsplit('/', 1)[-1]}" + (f", {step:,} steps" if step is not None else "")
    if untouched and moved:
        facts["saved_statistics"] = "untrained"
        facts["saved_evidence"] = (f"; the checkpoint confirms it ({where}): moving_mean is "
                                   f"exactly 0.0 and moving_variance exactly 1.0 in all "
                                   f"{channels} channels while gamma/beta moved")
    elif untouched:
        facts["saved_statistics"] = "initial"
    else:
        facts["saved_statistics"] = "trained"
    return facts


def _corruption(mean, variance) -> str | None:
    problems = []
    bad_mean = sum(1 for v in mean if not math.isfinite(v))
    bad_variance = sum(1 for v in variance if not math.isfinite(v))
    negative = sum(1 for v in variance if math.isfinite(v) and v < 0)
    if bad_mean:
        problems.append(f"moving_mean is NaN or Inf in {bad_mean} of {len(mean)} channels")
    if bad_variance:
        problems.append(f"moving_variance is NaN or Inf in {bad_variance} of {len(variance)} "
                        "channels")
    if negative:
        problems.append(f"moving_variance is negative in {negative} of {len(variance)} "
                        "channels")
    return "; ".join(problems) or None
