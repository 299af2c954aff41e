"""Committed runs as records, grouped into variants: the aggregation the claims ledger reads.

A *record* is one finished run (its ``eval.h5`` metrics and the ``run.h5`` history); a
*variant* is every seed of one setting at one budget. Two records belong to the same variant
when their run configs agree in everything but the seed and the bookkeeping keys
(``config.NO_EFFECT_KEYS``), wherever they were committed: a continuation of a run to a larger
cap is a variant of its own (its budget differs), and the same setting trained by two studies
is one variant. No JAX here: reading the committed evidence needs h5py and numpy only.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import h5py
import numpy as np

from pinnfail.numerics.config import NO_EFFECT_KEYS
from pinnfail.products.classes import CLASSES, flags_of
from pinnfail.artifacts.hdf5 import ArtifactError
from pinnfail.artifacts.formats import read_metrics
from pinnfail.products.study import first_crossing as _first_crossing
from pinnfail.products.study import median
from pinnfail.products.study import survival_median
from pinnfail.numerics import history as H



@dataclass(frozen=True)
class Record:
    """One finished run: where it was committed, its config, final metrics and history."""

    part: str  # the committed folder's name (docs/results/cpu/<part>) or the run's folder
    config: dict
    metrics: dict
    history: dict = field(repr=False)

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    def get(self, key: str, default=math.nan):
        value = self.metrics.get(key, default)
        return default if value is None or value == "" else value

    def flag(self, name: str):
        """A flag of ``classes.FLAGS`` (``classes.flags_of``)."""
        return self.flags[name]

    @property
    def flags(self) -> dict:
        return flags_of(self.metrics)

    @property
    def still_falling(self) -> bool:
        return bool(self.flag("still_falling"))

    def first_crossing(self, threshold: float) -> tuple[float, float]:
        """(iteration, seconds) when the test rMAE first fell below ``threshold`` (inf: never)."""
        it, seconds = _first_crossing(self.history, H.TEST_RMAE, threshold)
        return (math.inf, math.inf) if math.isnan(it) else (it, seconds)

    def fevals_to(self, threshold: float) -> float:
        """Objective evaluations when the test rMAE first fell below ``threshold`` (inf: never)."""
        it, _ = self.first_crossing(threshold)
        if not math.isfinite(it):
            return math.inf
        its = np.asarray(self.history[H.ITERATION], dtype=float)
        return float(np.asarray(self.history[H.FEVALS], dtype=float)[np.flatnonzero(its == it)[0]])

    def at_iteration(self, key: str, iteration: int) -> float:
        """A history column at the last entry not after ``iteration`` (nan before the first)."""
        its = np.asarray(self.history.get(H.ITERATION, ()), dtype=float)
        upto = np.flatnonzero(its <= iteration)
        return float(self.history[key][upto[-1]]) if upto.size else math.nan


def variant_key(config: dict) -> str:
    """A variant's identity: its run config without the seed and the keys of no effect."""
    kept = {k: v for k, v in config.items() if k != "seed" and k not in NO_EFFECT_KEYS}
    if kept.get("regularizer") != "double":
        kept.pop("double_form", None)
        kept.pop("double_coords", None)
    if kept.get("regularizer") == "none":
        kept["lambda"] = 0.0
    return json.dumps(kept, sort_keys=True)


def read_record(run_h5, eval_h5, part: str) -> Record:
    metrics = read_metrics(eval_h5)
    config = metrics["config"] if isinstance(metrics["config"], dict) else json.loads(metrics["config"])
    try:
        with h5py.File(run_h5, "r") as f:
            history = {k: np.asarray(v[()]) for k, v in f["history"].items()}
    except (OSError, KeyError) as err:
        raise ArtifactError(f"{run_h5}: not a readable run.h5 ({err})") from None
    return Record(part, config, metrics, history)


def load(folders: Iterable[str | Path]) -> list[Record]:
    """Every finished run (``*/seed*/run.h5`` with its ``eval.h5``) under ``folders`` (each a
    committed ``runs`` folder, as ``archive:`` names them); the part is the folder's parent."""
    records = []
    for folder in sorted(map(Path, folders)):
        for run_h5 in sorted(folder.glob("*/seed*/run.h5")):
            eval_h5 = run_h5.with_name("eval.h5")
            if eval_h5.exists():
                part = folder.parent.name if folder.name == "runs" else folder.name
                records.append(read_record(run_h5, eval_h5, part))
    return records


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a fraction k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def fraction_vote(k: int, n: int) -> bool | None:
    """Do k of n seeds make a yes? All: True, none: False; otherwise True only if the 95 %
    Wilson interval of k/n lies above one half, False only if below, else None."""
    if n and k == n:
        return True
    if k == 0:
        return False
    lo, hi = wilson(k, n)
    return True if lo > 0.5 else False if hi < 0.5 else None


def share_text(k: int, n: int) -> str:
    """``k/n``, with the 95 % Wilson interval where the seeds disagree."""
    if k in (0, n):
        return f"{k}/{n}"
    lo, hi = wilson(k, n)
    return f"{k}/{n} (95 % interval {lo:.2f}-{hi:.2f})"


@dataclass(frozen=True)
class Variant:
    """Every seed of one setting at one budget (records deduplicated by seed); ``feval_seconds``:
    the cost of one objective evaluation of this setting, measured side by side with the other
    settings of its part on one idle machine (``FEVAL_COST``), where committed."""

    key: str
    records: tuple[Record, ...]
    feval_seconds: float | None = None

    @property
    def config(self) -> dict:
        return self.records[0].config

    def __getitem__(self, key: str):
        return self.config[key]

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(r.seed for r in self.records)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(sorted({r.part for r in self.records}))

    @property
    def budget(self) -> tuple[int, str]:
        """(iteration cap, stop rule): the paper's ``rule``, a ``standstill`` (tolerance 0) or
        ``tolerance <t>``."""
        tol = self.config.get("stop_tolerance")
        rule = "rule" if tol is None else "standstill" if tol == 0 else f"tolerance {tol:g}"
        return int(self.config["max_iters"]), rule

    def budget_text(self) -> str:
        cap, rule = self.budget
        rule = {"rule": "stop rule", "standstill": "standstill rule"}.get(rule, rule)
        capped = sum(r.get("stop_reason", "") == "max_iters" for r in self.records)
        return f"{rule}, cap {cap} ({capped}/{len(self.records)} at the cap)"

    def median(self, key: str) -> float:
        return median(r.get(key) for r in self.records)

    def spread(self, key: str) -> tuple[float, float]:
        v = [float(r.get(key)) for r in self.records if np.isfinite(float(r.get(key)))]
        return (min(v), max(v)) if v else (math.nan, math.nan)

    def count(self, cls: str) -> int:
        return sum(r.get("classification", "") == cls for r in self.records)

    def majority(self) -> str | None:
        """The class of more than half of the seeds, if any."""
        for cls in CLASSES:
            if 2 * self.count(cls) > len(self.records):
                return cls
        return None

    def vote(self, *classes: str) -> bool | None:
        """Are the seeds of one of ``classes``? True if all are, False if none is; where they
        disagree, True only if the 95 % Wilson interval of the fraction lies above one half,
        False only if below it, else None (not decided by these seeds)."""
        return fraction_vote(sum(self.count(c) for c in classes), len(self.records))

    def share_text(self, *classes: str) -> str:
        """``k/n`` of the seeds in ``classes``, with the 95 % interval where the seeds disagree."""
        return share_text(sum(self.count(c) for c in classes), len(self.records))

    def falling(self) -> tuple[Record, ...]:
        """The seeds the cap ended with the objective still falling (``classes.still_falling``)."""
        return tuple(r for r in self.records if r.still_falling)

    def falling_text(self) -> str:
        """Which seeds are still falling at the cap, and by how much per stop window."""
        runs = self.falling()
        changes = [float(r.flag("objective_change")) for r in runs]
        tolerance = float(runs[0].flag("stop_tolerance")) if runs else math.nan
        spread = f"{min(changes):.2g}" + (f"..{max(changes):.2g}" if f"{max(changes):.2g}" != f"{min(changes):.2g}" else "")
        return (f"{self.label()}: seeds {' '.join(str(r.seed) for r in runs)} of {len(self.records)} at the cap of "
                f"{self.budget[0]} with the objective still falling (relative change {spread} per stop window, "
                f"tolerance {tolerance:.2g})")

    def flags_text(self) -> str:
        """The flags that the classes hide: still falling at the cap, over the overfit ratio."""
        n = len(self.records)
        over = [r for r in self.records if r.flag("above_overfit_ratio")]
        text = f"still falling {len(self.falling())}/{n}"
        if over:
            text += (f", test/train above the overfit ratio {len(over)}/{n} ("
                     + ", ".join(f"seed {r.seed} {r.flag('worst_term')} {float(r.flag('max_term_test_train_ratio')):.3g}"
                                 for r in over) + ")")
        return text

    def classes_text(self) -> str:
        n = len(self.records)
        return ", ".join(f"{c} {self.count(c)}/{n}" for c in CLASSES if self.count(c))

    def to_threshold(self, threshold: float) -> tuple[float, float]:
        """Median (iterations, seconds) to an rMAE threshold, a seed that never got there slowest."""
        crossings = [r.first_crossing(threshold) for r in self.records]
        return (survival_median([c[0] for c in crossings], math.inf),
                survival_median([c[1] for c in crossings], math.inf))

    def fevals_to(self, threshold: float) -> float:
        """Median objective evaluations to an rMAE threshold, a seed that never got there slowest."""
        return survival_median([r.fevals_to(threshold) for r in self.records], math.inf)

    def seeds_below(self, threshold: float) -> int:
        return sum(math.isfinite(r.first_crossing(threshold)[0]) for r in self.records)

    def label(self) -> str:
        c = self.config
        reg = c["regularizer"]
        name = {"none": "unregularized", "l2": "L2", "l1": "L1", "double": "double PINN"}[reg]
        if reg == "double" and c.get("double_form", "residual") != "residual":
            name += f" ({c['double_form']} form)"
        if reg != "none":
            name += f" {c['lambda']:.0e}".replace("e-0", "e-")
        grid = "x".join(map(str, c["grid"]))
        return f"{c['pde']} {c['precision'].upper()} {name}, {grid} + {c['n_initial']} + {c['n_boundary']}"


FEVAL_COST = "feval_cost.json"  # beside a part's runs/: seconds per objective evaluation, side by side


def load_costs(folders: Iterable[str | Path]) -> dict[str, float]:
    """{variant key: seconds per objective evaluation} from the ``FEVAL_COST`` file of each
    committed part (the folder above its runs/), written by benchmarks/feval_cost.py."""
    costs = {}
    for folder in sorted(map(Path, folders)):
        path = (folder.parent if folder.name == "runs" else folder) / FEVAL_COST
        if path.is_file():
            for entry in json.loads(path.read_text())["settings"]:
                costs[variant_key(entry["config"])] = float(entry["seconds_per_feval"])
    return costs


def group(records: Iterable[Record], costs: dict[str, float] | None = None) -> list[Variant]:
    """Records into variants (with their measured per-evaluation cost, ``load_costs``, where
    one is committed); where two committed parts hold the same seed of a variant, the first
    part (by name) is kept."""
    found: dict[str, dict[int, Record]] = {}
    for r in sorted(records, key=lambda r: (r.part, r.seed)):
        found.setdefault(variant_key(r.config), {}).setdefault(r.seed, r)
    return [Variant(k, tuple(v[s] for s in sorted(v)), (costs or {}).get(k)) for k, v in sorted(found.items())]
