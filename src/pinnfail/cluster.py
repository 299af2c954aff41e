r"""Slurm cost model of the training jobs and the guard against GPU jobs that train on CPUs.

Pure functions of a run config (``pinnfail.config.run_config``) and of the workflow
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

import re
from typing import Any, Mapping

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
    """Training points of one run: the domain grid plus initial and boundary points."""
    nx, nt = cfg["grid"]
    return nx * nt + cfg["n_initial"] + cfg["n_boundary"]


def runtime_minutes(cfg: Mapping[str, Any], members: int = 1, cluster: Mapping | None = None) -> int:
    """Slurm time limit (sbatch -t, minutes) of a job training ``members`` runs of ``cfg``."""
    points = max(n_points(cfg), setting(cluster, "min_points"))
    work = cfg["max_iters"] * points * (3 if cfg["regularizer"] == "double" else 1) * members
    minutes = setting(cluster, "minutes_per_giga_point_iteration") * work / 1e9 * setting(cluster, "runtime_safety")
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
