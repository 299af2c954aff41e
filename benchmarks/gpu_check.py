"""Device check for one GPU (fits in about 8 minutes); writes a JSON summary.

(i)   L-BFGS iterations/s of the training benchmark's cases a/b/c, JAX vs PyTorch on this device,
      and loss+gradient evaluations/s with Taylor-mode input derivatives vs nested autodiff (c, d);
(ii)  batched-seed throughput: aggregate iterations/s for S = 1, 4, 16 seeds in one process,
      lockstep and decoupled line searches, after --warmup iterations (convection double PINN FP64,
      the Table 1 setup 20x20 + 200 + 200);
(iii) convection double PINN FP64 (20x20 + 200 + 200) trained for as long as the time budget
      allows (up to --minutes), with its rMAE against the exact solution on a 256 x 101 grid and
      a trace of test-point rMAE vs iterations; then the same for reaction (16x16 + 100 + 100).

    python benchmarks/gpu_check.py --out gpu_check.json [--deadline 480] [--minutes 4]

Every section is guarded: an error is recorded in the JSON and the next section still runs, and
the JSON is rewritten after each section, so a run cut short keeps what it measured. Runs on CPU
too (small budgets make sense there); it records the device it saw and never claims another.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from importlib import metadata

import jax
import jax.numpy as jnp
import numpy as np

import pinnfail  # noqa: F401
from pinnfail.numerics.config import run_config
from pinnfail.products.evaluate import field_functions, on_grid, relative_errors
from pinnfail.numerics.schedule import Problem, make_chunk, make_metrics, stack

sys.path.insert(0, os.path.dirname(__file__))
from bench_train import bench_jax, derivative_engines  # noqa: E402
from gpu_batching import measure as batched_measure  # noqa: E402

TABLE1 = {
    "convection": {"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200},
    "reaction": {"pde": "reaction", "grid": [16, 16], "n_initial": 100, "n_boundary": 100},
}
DOUBLE_FP64 = {"regularizer": "double", "lambda": 1e-4, "precision": "fp64"}
START = time.perf_counter()


def elapsed() -> float:
    return time.perf_counter() - START


def versions() -> dict:
    found = {}
    for name in ("jax", "jaxlib", "flax", "optax", "numpy", "torch"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def timed_run(name: str, seconds_budget: float, chunk_iters: int = 1000) -> dict:
    """Double PINN FP64 in chunks until the budget is spent (no stop rule); rMAE vs exact."""
    config = run_config({**TABLE1[name], **DOUBLE_FP64, "stop_window": 0})
    problem = Problem.from_config(config)
    chunk = make_chunk(problem, 1)
    metrics = make_metrics(problem)
    test_pts = stack([problem.test_points(1)])
    carry = stack([problem.init_carry(0)])
    active = jnp.ones(1, bool)
    trace = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds_budget and not bool(carry.diverged[0]):
        carry = chunk(carry, problem.train_points, chunk_iters, active)
        m = metrics(carry.params, problem.train_points, test_pts)
        trace.append({"iteration": int(carry.iteration[0]), "seconds": time.perf_counter() - start,
                      "objective": float(m["objective"][0]), "test_rmae": float(m["test_rmae"][0])})
    seconds = time.perf_counter() - start
    pde, params = problem.pde, problem.pde.params(config["pde_params"])
    x = np.linspace(pde.x0, pde.x1, 256)
    t = np.linspace(pde.t0, pde.t1, 101)
    predict, _ = field_functions(config, carry.params[0])
    exact = np.asarray(pde.exact(*np.meshgrid(x, t), params))
    first_below = {f"iters_to_test_rmae_{k}": next((r["iteration"] for r in trace if r["test_rmae"] < v), None)
                   for k, v in (("1e-2", 1e-2), ("1e-3", 1e-3))}
    return {"pde": name, "iterations": int(carry.iteration[0]), "seconds": seconds,
            "iters_per_s": int(carry.iteration[0]) / seconds, "diverged": bool(carry.diverged[0]),
            **relative_errors(on_grid(predict, x, t), exact), **first_below, "trace": trace}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--iters", type=int, default=300, help="timed iterations per training case")
    parser.add_argument("--deadline", type=float, default=480.0, help="seconds for the whole check")
    parser.add_argument("--minutes", type=float, default=4.0, help="at most this long for the convection run")
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--warmup", type=int, default=1000, help="iterations before the batched timing")
    args = parser.parse_args()
    device = jax.devices()[0]
    summary = {"date": time.strftime("%Y-%m-%d %H:%M"), "device": str(device),
               "device_kind": device.device_kind, "platform": device.platform,
               "versions": versions(), "errors": {}}

    def save():
        with open(args.out + ".tmp", "w") as f:
            json.dump(summary, f, indent=2, default=float)
        os.replace(args.out + ".tmp", args.out)

    def section(name, fn):
        print(f"[{elapsed():6.1f} s] {name} ...", flush=True)
        try:
            summary[name] = fn()
        except Exception:  # record and go on: the other sections still measure something
            summary["errors"][name] = traceback.format_exc()
            print(summary["errors"][name], file=sys.stderr, flush=True)
        summary["elapsed_s"] = elapsed()
        save()
        print(json.dumps(summary.get(name), default=float)[:2000], flush=True)

    def training():
        try:
            import torch
            from torch_pinn import benchmark as torch_bench
            torch_device = "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            torch_bench, torch_device = None, None
        rows = []
        for case in ("a", "b", "c"):
            row = {"case": case, "jax": bench_jax(case, args.iters)}
            if torch_bench is not None:
                row["torch"] = torch_bench(case, args.iters, device=torch_device)
                row["speedup_iters"] = row["jax"]["iters_per_s"] / row["torch"]["iters_per_s"]
            rows.append(row)
            summary["training"] = rows
            save()
        return rows

    def batched():
        problem = Problem.from_config(run_config({**TABLE1["convection"], **DOUBLE_FP64}))
        rows = [row for s in args.members for row in batched_measure(problem, s, max(args.iters // 3, 50), args.warmup)]
        for row in rows:
            row["vs_single"] = row["aggregate_iters_per_s"] / rows[0]["aggregate_iters_per_s"]
        return rows

    section("training", training)
    section("derivatives", lambda: [derivative_engines(case) for case in ("c", "d")])
    section("batched", batched)
    left = args.deadline - elapsed() - 20
    convection_s = max(min(60 * args.minutes, 0.75 * left), 10)
    section("convection", lambda: timed_run("convection", convection_s))
    section("reaction", lambda: timed_run("reaction", max(args.deadline - elapsed() - 15, 10)))


if __name__ == "__main__":
    main()
