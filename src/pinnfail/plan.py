"""Workflow planning: the run config of every experiment and the training jobs they make.

The Snakemake rules (workflow/rules/common.smk) and ``pinnfail cost`` both plan from here.
"""
from __future__ import annotations

import glob
import json
from typing import Any, Mapping, NamedTuple

from pathlib import Path

from .config import NO_EFFECT_KEYS, ConfigError, run_config
from .io import ArtifactError, Run, evaluation_shape, read_metrics
from .study import expand_study

CONTINUED = "__continued"  # <study>__<variant>__continued: a variant's run continued past the stop rule


class Plan(NamedTuple):
    experiments: dict[str, dict]  # name -> complete run config (without seed)
    seeds: dict[str, list[int]]
    studies: dict[str, dict[str, dict]]  # study -> variant -> settings


class Member(NamedTuple):
    experiment: str
    seed: int
    lam: float


class TrainJob(NamedTuple):
    """One batched training job: runs that share every setting but seed and lambda."""

    name: str  # the first member's experiment
    config: dict  # the shared run config, with the first member's lambda
    members: tuple[Member, ...]

    @property
    def lambdas(self) -> list[float]:
        return [m.lam for m in self.members]


def experiment_config(config: Mapping[str, Any], name: str, spec: Mapping[str, Any]) -> dict:
    """The validated run config of one experiment: run_defaults, its pde's parameters, its spec."""
    values = {**config.get("run_defaults", {}), **spec}
    values.pop("seeds")
    values["pde_params"] = {**config["pdes"].get(spec["pde"], {}), **values.get("pde_params", {})}
    return run_config(values, prefix=f"experiments.{name}")


def plan(config: Mapping[str, Any]) -> Plan:
    """Experiments of the workflow config; every study variant becomes ``<study>__<variant>``.

    Raises ConfigError naming the experiment and field of an invalid setting.
    """
    experiments = {name: experiment_config(config, name, spec) for name, spec in config["experiments"].items()}
    seeds = {name: list(spec["seeds"]) for name, spec in config["experiments"].items()}
    studies = {}
    for study, spec in (config.get("study") or {}).items():
        try:
            studies[study] = expand_study(spec, config.get("run_defaults"))
        except ConfigError as err:
            raise ConfigError(f"study.{study}: {err}") from None
        continued = spec.get("continue_plateaus")
        for variant, settings in studies[study].items():
            name = f"{study}__{variant}"
            experiments[name] = experiment_config(config, name, {**settings, "seeds": spec["seeds"]})
            seeds[name] = list(spec["seeds"])
            if continued:  # which seeds is decided after the sweep (workflow/rules/study.smk)
                # the paper's rule replaced by a standstill test: L-BFGS whose line search finds
                # no decrease keeps its parameters and state, so an objective unchanged to the
                # last bit over the window never changes again
                experiments[name + CONTINUED] = {**experiments[name], "stop_tolerance": 0.0,
                                                 "max_iters": int(continued["max_iters"])}
                seeds[name + CONTINUED] = []
    return Plan(experiments, seeds, studies)


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
        thresholds = {k: v for k, v in evaluation.items() if k != "residual_grid"}
        grid = list(evaluation.get("residual_grid", [256, 256]))
        same = (result_settings(metrics.get("config") or {}) == result_settings(planned) and metrics.get("thresholds") == {**metrics.get("thresholds", {}), **thresholds}
                and [shape["residual_x"], shape["residual_t"]] == grid
                and all(shape[k] == (reference or {}).get(f"n{k}", shape[k]) for k in ("x", "t")))
        return str(run), str(evaluation_path) if same else None
    return None, None


def batch_jobs(experiments: Mapping[str, dict], seeds: Mapping[str, list[int]]) -> list[TrainJob]:
    """Training jobs with ``batch_seeds``: experiments whose configs differ only in lambda
    (a sweep) train in one job whose members differ in seed and lambda. Jobs and members
    keep the experiments' order."""
    groups: dict[str, list[str]] = {}
    for name, cfg in experiments.items():
        key = json.dumps({k: v for k, v in cfg.items() if k != "lambda"}, sort_keys=True)
        groups.setdefault(key, []).append(name)
    return [
        TrainJob(names[0], experiments[names[0]],
                 tuple(Member(n, int(s), float(experiments[n]["lambda"])) for n in names for s in seeds[n]))
        for names in groups.values()
    ]

