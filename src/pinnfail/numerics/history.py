"""The columns of a run's history (run.h5 ``history/``), declared once.

Training appends one row per ``log_every`` iterations (``row``); evaluation, studies, claims
and figures read the columns by these names, never by a string of their own:

- ``iteration``, ``fevals``, ``wall_time`` (seconds of training so far);
- ``objective`` (loss plus penalty: what L-BFGS minimizes) and ``penalty``;
- ``train_total`` / ``test_total``: the loss (sum of the terms) on the training and test points;
- ``train_<term>`` / ``test_<term>`` for the domain and each condition (``train_term``);
- ``test_rmae`` where the PDE has an exact solution (monitoring only).
"""
from __future__ import annotations

from typing import Mapping

ITERATION = "iteration"
FEVALS = "fevals"
WALL_TIME = "wall_time"
OBJECTIVE = "objective"
PENALTY = "penalty"
TRAIN_TOTAL = "train_total"
TEST_TOTAL = "test_total"
TEST_RMAE = "test_rmae"


def train_term(name: str) -> str:
    """The column of one loss term on the training points."""
    return f"train_{name}"


def test_term(name: str) -> str:
    """The column of one loss term on the test points."""
    return f"test_{name}"


def row(*, iteration, fevals, wall_time, objective, penalty, train_terms: Mapping, test_terms: Mapping,
        test_rmae=None) -> dict:
    """One history row; the totals are the sums of the terms."""
    out = {ITERATION: iteration, FEVALS: fevals, WALL_TIME: wall_time, OBJECTIVE: objective, PENALTY: penalty,
           TRAIN_TOTAL: sum(train_terms.values()), TEST_TOTAL: sum(test_terms.values()),
           **{train_term(k): v for k, v in train_terms.items()},
           **{test_term(k): v for k, v in test_terms.items()}}
    if test_rmae is not None:
        out[TEST_RMAE] = test_rmae
    return out
