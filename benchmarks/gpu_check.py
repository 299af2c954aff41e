"""Device check for one GPU (fits in about 8 minutes); writes a JSON summary.

(i)   L-BFGS iterations/s of the training benchmark's cases a/b/c, JAX vs PyTorch on this device;
(ii)  batched-seed throughput: aggregate iterations/s for S = 1, 4, 16 seeds in one process
      (convection double PINN FP64, the Table 1 setup 20x20 + 200 + 200);
(iii) convection double PINN FP64 (20x20 + 200 + 200) trained for --minutes, with its rMAE
      against the exact solution; the same for reaction (16x16 + 100 + 100).

    python benchmarks/gpu_check.py --out gpu_check.json [--minutes 4] [--iters 300]
Runs on CPU too (smaller budgets make sense there); never claims a device it did not see.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import pinnfail  # noqa: F401
from pinnfail.config import run_config
from pinnfail.evaluate import field_functions, on_grid, relative_errors
from pinnfail.pdes import get_pde
from pinnfail.train import Problem, make_chunk, stack

sys.path.insert(0, os.path.dirname(__file__))
from bench_train import bench_jax  # noqa: E402

TABLE1 = {
    "convection": {"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200},
    "reaction": {"pde": "reaction", "grid": [16, 16], "n_initial": 100, "n_boundary": 100},
}
DOUBLE_FP64 = {"regularizer": "double", "lambda": 1e-4, "precision": "fp64"}


def batched_throughput(members: int, iters: int) -> dict:
    problem = Problem.from_config(run_config({**TABLE1["convection"], **DOUBLE_FP64}))
    chunk = make_chunk(problem, members)
    carry = stack([problem.init_carry(s) for s in range(members)])
    active = jnp.ones(members, bool)
    carry = chunk(carry, problem.train_points, 20, active)  # compile + warm-up
    jax.block_until_ready(carry.params)
    start = time.perf_counter()
    carry = chunk(carry, problem.train_points, iters, active)
    jax.block_until_ready(carry.params)
    seconds = time.perf_counter() - start
    return {"members": members, "iterations": iters, "seconds": seconds,
            "aggregate_iters_per_s": members * iters / seconds}


def timed_run(name: str, minutes: float) -> dict:
    """Train double PINN FP64 in chunks of 1000 iterations until the time is up; rMAE vs exact."""
    config = run_config({**TABLE1[name], **DOUBLE_FP64, "stop_window": 0})
    problem = Problem.from_config(config)
    chunk = make_chunk(problem, 1)
    carry = stack([problem.init_carry(0)])
    active = jnp.ones(1, bool)
    start = time.perf_counter()
    while time.perf_counter() - start < 60 * minutes and not bool(carry.diverged[0]):
        carry = chunk(carry, problem.train_points, 1000, active)
        jax.block_until_ready(carry.params)
    seconds = time.perf_counter() - start
    pde = get_pde(name)
    params = pde.params(config["pde_params"])
    x = np.linspace(pde.x0, pde.x1, 256)
    t = np.linspace(pde.t0, pde.t1, 101)
    predict, _ = field_functions(config, carry.params[0])
    u = on_grid(predict, x, t)
    exact = np.asarray(pde.exact(*np.meshgrid(x, t), params))
    return {"pde": name, "iterations": int(carry.iteration[0]), "seconds": seconds,
            "objective": float(problem.objective.total(carry.params[0], problem.train_points)),
            **relative_errors(u, exact)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=4.0, help="for the two timed runs together")
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    summary = {"date": time.strftime("%Y-%m-%d %H:%M"), "device": str(jax.devices()[0]),
               "device_kind": jax.devices()[0].device_kind, "jax": jax.__version__}

    def save():
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=2)

    summary["training"] = []
    try:
        from torch_pinn import benchmark as torch_bench
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        torch_bench, device = None, None
    for case in ("a", "b", "c"):
        row = {"jax": bench_jax(case, args.iters)}
        if torch_bench is not None:
            row["torch"] = torch_bench(case, args.iters, device=device)
            row["speedup_iters"] = row["jax"]["iters_per_s"] / row["torch"]["iters_per_s"]
        summary["training"].append(row)
        print(json.dumps(row, default=float), flush=True)
        save()
    summary["batched"] = [batched_throughput(s, max(args.iters // 3, 50)) for s in args.members]
    base = summary["batched"][0]["aggregate_iters_per_s"]
    for row in summary["batched"]:
        row["vs_single"] = row["aggregate_iters_per_s"] / base
    print(json.dumps(summary["batched"]), flush=True)
    save()
    summary["timed_runs"] = [timed_run(name, args.minutes / 2) for name in ("convection", "reaction")]
    print(json.dumps(summary["timed_runs"]), flush=True)
    save()


if __name__ == "__main__":
    main()
