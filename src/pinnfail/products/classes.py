"""The run classes and the flags kept beside them (no JAX: tables, claims and the workflow read
them).

A run's *class* is one word; ``evaluate.classify`` decides it, the first rule that applies wins:

1. ``solved``: rMAE below ``solved_rmae`` (a right solution is no failure mode);
2. ``overfit``: some loss term's test/train ratio above ``overfit_ratio``: the paper's failure
   mode, and the only one;
3. ``plateau``: the stop rule ended the run, or the objective no longer falls, at a high rMAE;
4. ``not converged``: the iteration cap (or an interruption) ended it with the objective still
   falling: the budget decided, not the method.

The precedence hides facts a verdict may need (a *solved* run may still be falling at the cap,
or have a test/train ratio above the overfit threshold), so every run also carries its *flags*
(``run_flags``), decided apart from its class:

- ``still_falling``: the cap (or an interruption) ended it while the objective still changed by
  more than the stop tolerance over the last stop window: more iterations could change it;
- ``worst_term`` and ``max_term_test_train_ratio``: the loss term with the largest test/train
  ratio, and that ratio;
- ``above_overfit_ratio``: that ratio is above ``overfit_ratio``, whatever the class.

``CLASSES`` is the classes' display order.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

CLASSES = ("overfit", "not converged", "plateau", "solved")
FLAGS = ("still_falling", "objective_change", "stop_tolerance", "worst_term", "max_term_test_train_ratio",
         "above_overfit_ratio")
CAPPED = ("max_iters", "interrupted")  # stop reasons that are not the method's own end


def still_falling(stop_reason: str, objective_change: float, stop_tolerance: float) -> bool:
    """Ended by the cap or an interruption with the relative objective change over the last stop
    window above the stop tolerance."""
    return stop_reason in CAPPED and objective_change > stop_tolerance


def run_flags(metrics: Mapping[str, Any], overfit_ratio: float) -> dict:
    """The flags (module docstring) of a run from its evaluation's metrics: ``stop_reason``,
    ``objective_change``, ``stop_tolerance`` and ``term_test_train_ratios``."""
    ratios = metrics["term_test_train_ratios"]
    worst = max(ratios, key=lambda k: ratios[k])
    change, tolerance = float(metrics["objective_change"]), float(metrics["stop_tolerance"])
    return {
        "still_falling": still_falling(metrics["stop_reason"], change, tolerance),
        "objective_change": change,
        "stop_tolerance": tolerance,
        "worst_term": worst,
        "max_term_test_train_ratio": float(ratios[worst]),
        "above_overfit_ratio": bool(ratios[worst] > overfit_ratio) and not math.isnan(ratios[worst]),
    }


def flags_of(metrics: Mapping[str, Any]) -> dict:
    """The flags of an evaluation: stored in it, or decided by ``run_flags`` from its metrics
    and its own overfit threshold (an eval.h5 made before flags existed)."""
    if all(k in metrics for k in FLAGS):
        return {k: metrics[k] for k in FLAGS}
    thresholds = metrics.get("thresholds") or {}
    return run_flags(metrics, float(thresholds.get("overfit_ratio", 100.0)))
