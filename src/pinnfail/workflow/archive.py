"""Committed runs (``archive:`` folders) read instead of trained, and the committed runs a larger
``max_iters`` continues: matched by their stored configs (attributes only; no JAX).
"""
from __future__ import annotations


import glob
import json
from typing import Any, Mapping

from pathlib import Path

from pinnfail.numerics.config import CONTINUABLE, NO_EFFECT_KEYS, RESUMABLE_KEYS, ConfigError, run_config
from pinnfail.artifacts.hdf5 import ArtifactError
from pinnfail.artifacts.formats import Run, evaluation_shape, read_metrics, read_run_attrs


def same_test_set(stored: Mapping[str, Any] | None, planned: Mapping[str, Any] | None) -> bool:
    """Was an evaluation's test loss measured as planned: on the training history's test points
    (``planned`` None; an evaluation that records nothing did so), or on a fresh set of the
    planned size and seed?"""
    if planned is None:
        return stored is None or stored.get("source") == "training history"
    return (stored is not None and stored.get("source") == "evaluation"
            and [stored.get(k) for k in ("domain", "line", "seed")]
            == [planned.get("domain"), planned.get("line"), planned.get("seed", 0)])


def archived(folders, experiment: str, seed: int, config: Mapping[str, Any], evaluation: Mapping[str, Any],
             reference: Mapping[str, Any] | None = None) -> tuple[str | None, str | None]:
    """(run.h5, eval.h5) of a committed run of ``experiment``'s ``seed`` in one of ``folders``
    (each laid out like results/runs: EXPERIMENT/seedK/run.h5 and eval.h5; a glob pattern names
    every folder it matches, in sorted order), or None for either.

    A run counts only if its stored config equals the planned one but for settings that never
    change a result (``NO_EFFECT_KEYS``; settings added to the run schema since are compared at
    their defaults), so editing an experiment trains it anew; its
    evaluation only if it was made with the current thresholds, residual grid and reference grid.
    A damaged file counts as absent.
    """
    def result_settings(cfg):
        return {k: v for k, v in cfg.items() if k not in NO_EFFECT_KEYS}

    planned = {**config, "seed": int(seed)}
    for folder in (f for pattern in folders or [] for f in sorted(glob.glob(str(pattern))) or [pattern]):
        run = Path(folder) / experiment / f"seed{seed}" / "run.h5"
        if not run.is_file():
            continue
        try:
            if result_settings(Run.read(run).config) != result_settings(planned):
                continue
        except ArtifactError:
            continue
        evaluation_path = run.with_name("eval.h5")
        try:
            metrics, shape = read_metrics(evaluation_path), evaluation_shape(evaluation_path)
        except ArtifactError:
            return str(run), None
        thresholds = {k: v for k, v in evaluation.items() if k not in ("residual_grid", "test_set")}
        grid = list(evaluation.get("residual_grid", [256, 256]))
        same = (result_settings(metrics.get("config") or {}) == result_settings(planned)
                and metrics.get("thresholds") == {**metrics.get("thresholds", {}), **thresholds}
                and [shape["residual_x"], shape["residual_t"]] == grid
                and all(shape[k] == (reference or {}).get(f"n{k}", shape[k]) for k in ("x", "t"))
                and same_test_set(metrics.get("test_set"), evaluation.get("test_set")))
        return str(run), str(evaluation_path) if same else None
    return None, None


def resume_key(config: Mapping[str, Any], seed: int) -> str:
    """What a run and the run that continues it share: every setting but ``RESUMABLE_KEYS``."""
    return json.dumps({**{k: v for k, v in config.items() if k not in RESUMABLE_KEYS}, "seed": int(seed)},
                      sort_keys=True)


def committed_runs(folders) -> dict[str, list[tuple[int, str]]]:
    """{resume_key: [(iterations, run.h5)]} of the finished runs in ``folders`` (each laid out like
    results/runs; glob patterns as in ``archived``) that a run with a larger ``max_iters`` may
    continue: ended by the cap or the stop rule. Reads attributes only; a damaged file is left
    out."""
    index: dict[str, list[tuple[int, str]]] = {}
    for folder in (f for pattern in folders or [] for f in sorted(glob.glob(str(pattern)))):
        for run in sorted(Path(folder).glob("*/seed*/run.h5")):
            try:
                attrs = read_run_attrs(run)
                config = run_config(json.loads(attrs["config"]))
            except (ArtifactError, ConfigError, ValueError):
                continue
            if attrs.get("stop_reason") in CONTINUABLE:
                index.setdefault(resume_key(config, config["seed"]), []).append((int(attrs["iterations"]), str(run)))
    return index


def continuable(index: Mapping[str, list[tuple[int, str]]], config: Mapping[str, Any], seed: int) -> str | None:
    """The committed run (``committed_runs``) that the run of ``config`` and ``seed`` continues:
    its settings but ``RESUMABLE_KEYS``, at most ``max_iters`` iterations, the most of them."""
    found = [(n, path) for n, path in index.get(resume_key(config, seed), []) if n <= config["max_iters"]]
    return max(found)[1] if found else None
