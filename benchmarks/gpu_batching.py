"""Where the time of a batched (vmapped) L-BFGS iteration goes, for S = 1, 4, 16 members.

For each problem and S: the S-member objective value+gradient (ms), the S-member L-BFGS
direction update (ms), and a chunk of iterations (ms per iteration, aggregate iterations/s,
objective evaluations per member per iteration). A batched line search runs until its slowest
member is done, so (chunk - update) / value+gradient estimates the evaluations the batch pays
per iteration, against the mean a member needs.

    python benchmarks/gpu_batching.py --out batching.json [--members 1 4 16] [--deadline 150]
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp

import pinnfail  # noqa: F401
from pinnfail.config import run_config
from pinnfail.lbfgs import scale_by_compact_lbfgs
from pinnfail.train import Problem, make_chunk, stack

PROBLEMS = {
    "double_fp64_20x20": {"regularizer": "double", "lambda": 1e-4, "precision": "fp64"},
    "vanilla_fp32_20x20": {"precision": "fp32"},
}
BASE = {"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200}


def _ms(fn, *args, repeats=20):
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return 1e3 * (time.perf_counter() - start) / repeats


def measure(problem: Problem, members: int, iters: int) -> dict:
    carry = stack([problem.init_carry(s) for s in range(members)])
    pts = problem.train_points
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(problem.objective.total), (0, None)))
    vg_ms = _ms(value_and_grad, carry.params, pts)
    opt = scale_by_compact_lbfgs(problem.config["memory"])

    def batched_update(grads, state, params):  # as in make_chunk: one counter for all members
        count = state.count[0]
        return jax.vmap(lambda g, s, x: opt.update(g, s._replace(count=count), x))(grads, state, params)

    update = jax.jit(batched_update, donate_argnums=1)
    state = jax.vmap(opt.init)(carry.params)
    _, state = update(carry.params, state, carry.params)
    jax.block_until_ready(state)
    start = time.perf_counter()
    for _ in range(20):
        direction, state = update(carry.params, state, carry.params)
    jax.block_until_ready(direction)
    update_ms = 1e3 * (time.perf_counter() - start) / 20
    chunk = make_chunk(problem, members)
    active = jnp.ones(members, bool)
    carry = chunk(carry, pts, 20, active)
    jax.block_until_ready(carry.params)
    f0 = jax.device_get(carry.fevals)
    start = time.perf_counter()
    carry = chunk(carry, pts, iters, active)
    jax.block_until_ready(carry.params)
    it_ms = 1e3 * (time.perf_counter() - start) / iters
    return {"members": members, "value_grad_ms": vg_ms, "update_ms": update_ms, "iteration_ms": it_ms,
            "aggregate_iters_per_s": 1e3 * members / it_ms,
            "evals_per_member_iter": float((jax.device_get(carry.fevals) - f0).mean()) / iters,
            "evals_paid_per_iter": (it_ms - update_ms) / vg_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--deadline", type=float, default=150.0, help="skip what would start after this")
    args = parser.parse_args()
    start = time.perf_counter()
    summary = {"date": time.strftime("%Y-%m-%d %H:%M"), "device": jax.devices()[0].device_kind, "rows": []}
    for name, settings in PROBLEMS.items():
        problem = Problem.from_config(run_config({**BASE, **settings}))
        for members in args.members:
            if time.perf_counter() - start > args.deadline:
                break
            row = {"problem": name, **measure(problem, members, args.iters)}
            summary["rows"].append(row)
            print(json.dumps(row), flush=True)
            with open(args.out, "w") as f:
                json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
