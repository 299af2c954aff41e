"""Workflow planning: the run config of every experiment and the training jobs they make.

The Snakemake rules (workflow/rules/common.smk) and ``pinnfail cost`` both plan from here.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple

from .config import ConfigError, run_config
from .study import expand_study


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
            studies[study] = expand_study(spec)
        except ConfigError as err:
            raise ConfigError(f"study.{study}: {err}") from None
        for variant, settings in studies[study].items():
            name = f"{study}__{variant}"
            experiments[name] = experiment_config(config, name, {**settings, "seeds": spec["seeds"]})
            seeds[name] = list(spec["seeds"])
    return Plan(experiments, seeds, studies)


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

