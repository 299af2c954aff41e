r"""Slurm cost model of the training jobs and the guard against GPU jobs that train on CPUs.

Pure functions of a run config (``pinnfail.numerics.config.run_config``) and of the workflow
config's ``cluster:`` block; the Snakemake rules and ``pinnfail cost`` call them, so the
resources a job asks for and the preview of what it costs cannot drift apart.

A training job holds ``members`` runs (seeds, and lambdas of a batched sweep) that train
together. With :math:`N` = training points floored at ``min_points``, :math:`I` =
``max_iters``, :math:`f` = 3 for double PINN (three objective evaluations per point) else 1:

.. math::

    \text{runtime [min]} = \operatorname{clip}\big(c \cdot I N f \cdot \text{members}
        / 10^9 \cdot s,\ \text{min\_runtime},\ \text{max\_runtime}\big)

    \text{mem\_mb} = b + m \cdot N_{\text{raw}} \cdot \text{width} \cdot \text{depth}
        \cdot \text{members} / 10^6

with :math:`c` = ``minutes_per_giga_point_iteration``, :math:`s` = ``runtime_safety``,
:math:`b` = ``mem_mb_base``, :math:`m` = ``mem_mb_per_mega_value`` and :math:`N_{raw}` the
unfloored point count.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping, NamedTuple

DEFAULTS = {
    "require_gpu": True,
    "minutes_per_giga_point_iteration": 10.0,
    "min_points": 2000,
    "runtime_safety": 2.0,
    "min_runtime": 10,
    "max_runtime": 2880,
    "mem_mb_base": 4000,
    "mem_mb_per_mega_value": 16,
}
PRECISIONS = ("fp32", "fp64")


def setting(cluster: Mapping[str, Any] | None, key: str):
    """A tunable of the ``cluster:`` block, its default where unset (or null)."""
    value = (cluster or {}).get(key)
    return DEFAULTS[key] if value is None else value


def n_points(cfg: Mapping[str, Any]) -> int:
    """Training points of one run (``collocation.n_points``: the grid and every condition's line)."""
    from pinnfail.numerics.collocation import n_points as count
    from pinnfail.numerics.pdes import get_pde

    return count(get_pde(cfg["pde"]), cfg)


def giga_point_iterations(cfg: Mapping[str, Any], members: int = 1, cluster: Mapping | None = None) -> float:
    r"""Work of a job training ``members`` runs of ``cfg``: :math:`I N f \cdot \text{members} / 10^9`.
    Also the job's Snakemake priority, so that the longest jobs start first."""
    points = max(n_points(cfg), setting(cluster, "min_points"))
    return cfg["max_iters"] * points * (3 if cfg["regularizer"] == "double" else 1) * members / 1e9


def runtime_minutes(cfg: Mapping[str, Any], members: int = 1, cluster: Mapping | None = None) -> int:
    """Slurm time limit (sbatch -t, minutes) of a job training ``members`` runs of ``cfg``."""
    work = giga_point_iterations(cfg, members, cluster)
    minutes = setting(cluster, "minutes_per_giga_point_iteration") * work * setting(cluster, "runtime_safety")
    return int(min(max(minutes, setting(cluster, "min_runtime")), setting(cluster, "max_runtime")))


def mem_mb(cfg: Mapping[str, Any], members: int = 1, cluster: Mapping | None = None) -> int:
    """Host memory (sbatch --mem, MB) of a job training ``members`` runs of ``cfg``."""
    values = n_points(cfg) * cfg["width"] * cfg["depth"] * members / 1e6
    return int(setting(cluster, "mem_mb_base") + setting(cluster, "mem_mb_per_mega_value") * values)


def slurm_keys(cfg: Mapping[str, Any], cluster: Mapping | None = None) -> dict:
    """Routing of a job: account and its precision's block; empty values ("" or null) left out,
    so they never reach sbatch (the Slurm plugin would pass an empty constraint as ``-C ''``)."""
    cluster = cluster or {}
    keys = {"slurm_account": cluster.get("account"), **(cluster.get(cfg["precision"]) or {})}
    return {k: v for k, v in keys.items() if v not in ("", None)}


CPU_DEFAULTS = {"runtime": 60, "mem_mb": 8000}  # per job of the cpu block, unless it sets them


def cpu_remote(cluster: Mapping | None = None) -> bool:
    """Do the computing jobs that are not training (references, evaluations with their residual
    maps, studies) go to Slurm? Yes when ``cluster.cpu`` is set; else they run where Snakemake
    runs, as the small aggregation and document jobs always do."""
    return bool((cluster or {}).get("cpu"))


def cpu_resources(cluster: Mapping | None = None) -> dict:
    """The Snakemake resources of those jobs: ``cluster.cpu``'s partition, constraint, qos, ...,
    its time limit (``runtime``, minutes) and memory (``mem_mb``), the account; {} without it."""
    cluster = cluster or {}
    block = cluster.get("cpu") or {}
    if not block:
        return {}
    keys = {"slurm_account": cluster.get("account"), **CPU_DEFAULTS, **block}
    return {k: v for k, v in keys.items() if v not in ("", None)}


def job_resources(cfg: Mapping[str, Any], members: int = 1, cluster: Mapping | None = None) -> dict:
    """Every Snakemake resource of one training job."""
    return {"runtime": runtime_minutes(cfg, members, cluster), "mem_mb": mem_mb(cfg, members, cluster),
            **slurm_keys(cfg, cluster)}


def resource_names(cluster: Mapping | None = None) -> list[str]:
    """Names a training rule may set: the model's, plus every key of the precision blocks."""
    blocks = [(cluster or {}).get(p) or {} for p in PRECISIONS]
    return list(dict.fromkeys(["runtime", "mem_mb", "slurm_account", *(k for b in blocks for k in b)]))


def gpus_requested(resources: Mapping[str, Any]) -> int:
    """GPUs a job asks Slurm for through ``gres`` (``gpu``, ``gpu:2``, ``gpu:a100``, ``gpu:a100:2``)."""
    gres = resources.get("gres") or ""
    parts = gres.split(":")
    if parts[0] != "gpu":
        return 0
    count = parts[-1] if len(parts) > 1 else "1"
    return int(count) if count.isdigit() else 1


# --------------------------------------------------------------------------- GPU guard

_DEVICE = re.compile(r"^(\d+|GPU-[0-9a-fA-F-]+|MIG-[0-9A-Za-z/-]+)$")


def assigned_gpus(cuda_visible_devices: str | None) -> list[str]:
    """The devices ``CUDA_VISIBLE_DEVICES`` names, as CUDA reads it: entries up to the first
    that names no device. Slurm sets indices ("0", "0,1") for a job given GPUs by gres and
    "NoDevFiles" where a node's gres has no device files; "-1" or "" hide every GPU."""
    devices = []
    for entry in (cuda_visible_devices or "").split(","):
        if not _DEVICE.match(entry.strip()):
            break
        devices.append(entry.strip())
    return devices


def gpu_guard() -> None:
    """Stop (ConfigError) before any training when the scheduler gave this job GPUs that JAX
    cannot see."""
    import os
    import socket

    import jax

    from pinnfail.numerics.config import ConfigError

    error = gpu_guard_error(os.environ.get("CUDA_VISIBLE_DEVICES"), jax.devices(), socket.gethostname())
    if error:
        raise ConfigError(error)


def gpu_guard_error(cuda_visible_devices: str | None, devices: list, host: str) -> str | None:
    """One line when the scheduler gave this process GPUs but JAX sees none of them, else None.

    ``devices`` are JAX's (``jax.devices()``); a process given no GPU is never stopped.
    """
    if not assigned_gpus(cuda_visible_devices) or any(d.platform == "gpu" for d in devices):
        return None
    seen = ", ".join(f"{d.platform}:{d.id}" for d in devices)
    return (f"GPU guard: host {host} has CUDA_VISIBLE_DEVICES={cuda_visible_devices} but JAX sees only [{seen}]: "
            "install the CUDA build of JAX (pip install -e '.[cuda]', or Snakemake's --sdm conda with "
            "workflow/envs/train-gpu.yaml), or set cluster.require_gpu: false to train on CPUs")


# --------------------------------------------------------------------------- cost preview


class Rate(NamedTuple):
    """Iterations/s of one run measured on a GPU, from a committed benchmark result."""

    pde: str
    regularizer: str
    precision: str
    iters_per_s: float
    device: str
    source: str


def load_rates(paths) -> list[Rate]:
    """Rates of ``benchmarks/gpu_check.py`` results: each section named after an equation is
    one double-PINN FP64 run at Table 1's points, timed over the whole run."""
    from pinnfail.numerics.pdes import PDES

    rates = []
    for path in paths:
        with open(path) as f:
            result = json.load(f)
        for pde in PDES:
            run = result.get(pde)
            if isinstance(run, dict) and run.get("iters_per_s"):
                rates.append(Rate(pde, "double", "fp64", float(run["iters_per_s"]), result["device_kind"], str(path)))
    return rates


def job_cost(cfg: Mapping[str, Any], members: int, resources: Mapping[str, Any], rates: list[Rate]) -> dict:
    """What one training job requests and, at a measured rate, would take (GPU-hours).

    The estimate runs the members one after another at one run's rate: an upper bound for a
    batched job (members that train together share the GPU's idle time)."""
    gpus = gpus_requested(resources)
    rate = next((r for r in rates if (r.pde, r.regularizer, r.precision)
                 == (cfg["pde"], cfg["regularizer"], cfg["precision"])), None)
    return {
        "pde": cfg["pde"], "regularizer": cfg["regularizer"], "precision": cfg["precision"],
        "members": members, "points": n_points(cfg), "max_iters": cfg["max_iters"],
        "runtime_min": int(resources["runtime"]), "gpus": gpus, "mem_mb": int(resources.get("mem_mb") or 0),
        "partition": resources.get("slurm_partition") or "", "gres": resources.get("gres") or "",
        "constraint": resources.get("constraint") or "",
        "requested_gpu_h": int(resources["runtime"]) * gpus / 60,
        "measured_gpu_h": None if rate is None else members * cfg["max_iters"] / rate.iters_per_s / 3600 * max(gpus, 1),
        "rate": None if rate is None else rate._asdict(),
    }


def cost_text(jobs: list[dict]) -> str:
    """The preview as a table, totals last."""
    w = max([len(job["name"]) for job in jobs] + [3])
    head = f"{'job':<{w}} {'runs':>4} {'pde':<10} {'method':<7} {'prec':<4} {'points':>6} {'max iters':>9} " \
           f"{'GPUs':>4} {'limit':>7} {'req. GPU-h':>10} {'meas. GPU-h':>11}"
    lines = [head, "-" * len(head)]
    for job in sorted(jobs, key=lambda j: j["name"]):
        measured = "-" if job["measured_gpu_h"] is None else f"{job['measured_gpu_h']:.3g}"
        lines.append(f"{job['name']:<{w}} {job['members']:>4} {job['pde']:<10} {job['regularizer']:<7} "
                     f"{job['precision']:<4} {job['points']:>6} {job['max_iters']:>9} {job['gpus']:>4} "
                     f"{job['runtime_min']:>5} m {job['requested_gpu_h']:>10.2f} {measured:>11}")
    lines += ["", "Where they go (per rule and precision: what sbatch is asked for):", *where_text(jobs), ""]
    totals = cost_totals(jobs)
    lines.append("-" * len(head))
    lines.append(f"{totals['jobs']} training jobs, {totals['runs']} runs, {totals['member_iterations']} run-iterations "
                 f"at most; Slurm time limits request {totals['requested_gpu_h']:.2f} GPU-hours.")
    devices = sorted({job["rate"]["device"] + " (" + job["rate"]["source"] + ")" for job in jobs if job["rate"]})
    if devices:
        lines.append(f"At the iterations/s measured on {'; '.join(devices)} (double PINN FP64, one run per GPU, "
                     f"compilation included): {totals['measured_gpu_h']:.3g} GPU-hours for the "
                     f"{totals['measured_jobs']} jobs with such a measurement, if every run uses all its iterations.")
    if totals["measured_jobs"] < totals["jobs"]:
        lines.append(f"{totals['jobs'] - totals['measured_jobs']} jobs have no GPU measurement of their kind "
                     "(equation, regularizer, precision): no estimate.")
    return "\n".join(lines)


def where_groups(jobs: list[dict]) -> list[dict]:
    """The jobs grouped by (rule, precision): their count and what each asks Slurm for (partition,
    gres, constraint; the range of time limits and memory), and the GPU-hours the limits request."""
    groups: dict[tuple, list[dict]] = {}
    for job in jobs:
        rule = "train_batch" if not job["name"].count("/") else "train"
        groups.setdefault((rule, job["precision"]), []).append(job)
    out = []
    for (rule, precision), members in sorted(groups.items()):
        def span(key, unit):
            lo, hi = min(j[key] for j in members), max(j[key] for j in members)
            return f"{lo}{unit}" if lo == hi else f"{lo}-{hi}{unit}"
        out.append({"rule": rule, "precision": precision, "jobs": len(members),
                    "partition": ",".join(sorted({j["partition"] or "(default)" for j in members})),
                    "gres": ",".join(sorted({j["gres"] or "-" for j in members})),
                    "constraint": ",".join(sorted({j["constraint"] or "-" for j in members})),
                    "time_limit": span("runtime_min", " min"), "mem": span("mem_mb", " MB"),
                    "requested_gpu_h": sum(j["requested_gpu_h"] for j in members)})
    return out


def where_text(jobs: list[dict]) -> list[str]:
    rows = where_groups(jobs)
    head = (f"{'rule':<11} {'prec':<4} {'jobs':>4} {'partition':<14} {'gres':<14} {'constraint':<12} "
            f"{'time limit':>14} {'memory':>14} {'req. GPU-h':>10}")
    return [head] + [f"{r['rule']:<11} {r['precision']:<4} {r['jobs']:>4} {r['partition']:<14} {r['gres']:<14} "
                     f"{r['constraint']:<12} {r['time_limit']:>14} {r['mem']:>14} {r['requested_gpu_h']:>10.2f}"
                     for r in rows]


def cost_totals(jobs: list[dict]) -> dict:
    measured = [job for job in jobs if job["measured_gpu_h"] is not None]
    return {"jobs": len(jobs), "runs": sum(job["members"] for job in jobs),
            "member_iterations": sum(job["members"] * job["max_iters"] for job in jobs),
            "requested_gpu_h": sum(job["requested_gpu_h"] for job in jobs),
            "measured_jobs": len(measured), "measured_gpu_h": sum(job["measured_gpu_h"] for job in measured)}
