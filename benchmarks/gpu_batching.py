"""Where the time of a batched L-BFGS iteration goes, for S = 1, 4, 16 members.

For each problem and S, after ``--warmup`` iterations (line searches need more trials past the
first few hundred): the S-member objective value+gradient (ms), the S-member L-BFGS direction
update (ms), and a chunk of iterations in each schedule of ``make_chunk``: *lockstep* (a batched
line search runs until its slowest member is done) and *decoupled* (one trial per member per
step; a member starts its next iteration as soon as its search ends). Per schedule: ms per
iteration, aggregate iterations/s, the trials a member needs per iteration, and the trials the
batch pays per iteration (decoupled: counted exactly, the most any member did; lockstep:
estimated as (iteration - update) / value+gradient); and the time and bandwidth of the update's
two passes over the S histories alone.

    python benchmarks/gpu_batching.py --out batching.json [--members 1 4 16] [--deadline 150]
"""
from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import pinnfail  # noqa: F401
from pinnfail.numerics import lbfgs
from pinnfail.numerics.config import run_config
from pinnfail.numerics.lbfgs import compact_lbfgs_update
from pinnfail.numerics.schedule import Problem, make_chunk, stack

PROBLEMS = {
    "double_fp64_20x20": {"regularizer": "double", "lambda": 1e-4, "precision": "fp64"},
    "vanilla_fp32_20x20": {"precision": "fp32"},
}
BASE = {"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200}


def _ms_per_call(fn, *args, repeats=20) -> float:
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return 1e3 * (time.perf_counter() - start) / repeats


def _update_ms(state, params, repeats=20) -> float:
    """The L-BFGS direction update of every member, ``repeats`` times inside one jitted loop."""
    batched = params.ndim == 2
    update = jax.vmap(compact_lbfgs_update) if batched else compact_lbfgs_update

    def loop(state, params):
        def body(i, carry):
            state, x = carry
            direction, state = update(x, state, x)
            return state, x + 1e-6 * direction
        return jax.lax.fori_loop(0, repeats, body, (state, params))

    run = jax.jit(loop)
    jax.block_until_ready(run(state, params))
    start = time.perf_counter()
    jax.block_until_ready(run(state, params))
    return 1e3 * (time.perf_counter() - start) / repeats


def _history_streams(memory, repeats=20) -> dict:
    """ms and GB/s of the update's two passes over S (2m, n) histories, each form ``repeats``
    times in one jitted loop: products [S; Y] [y, g] as a matrix product and as a multiply-reduce,
    and the combination [b; a] [S; Y]."""
    members, rows, n = memory.shape
    vecs = jnp.ones((members, n, 2), memory.dtype)
    coeffs = jnp.ones((members, rows), memory.dtype)
    forms = {
        "products_matmul": lambda h, v, c: jnp.einsum("srn,snk->srk", h, v).sum(-1),
        "products_reduce": lambda h, v, c: (h * v[:, None, :, 0]).sum(-1) + (h * v[:, None, :, 1]).sum(-1),
        "combination": lambda h, v, c: jnp.einsum("sr,srn->sn", c, h)[:, :rows],
    }
    out = {}
    for name, form in forms.items():
        def loop(h, v, c, form=form):  # k makes every pass depend on the last: nothing is hoisted
            def body(i, k):
                return k + 1e-30 * form(h, v * (1 + k), c * (1 + k)).sum()
            return jax.lax.fori_loop(0, repeats, body, jnp.zeros([], h.dtype))
        run = jax.jit(loop)
        jax.block_until_ready(run(memory, vecs, coeffs))
        start = time.perf_counter()
        jax.block_until_ready(run(memory, vecs, coeffs))
        ms = 1e3 * (time.perf_counter() - start) / repeats
        out[f"{name}_ms"] = ms
        out[f"{name}_gb_per_s"] = memory.nbytes / 1e6 / ms
    return out


def measure(problem: Problem, members: int, iters: int, warmup: int = 0) -> list[dict]:
    """One row per schedule (``single`` for S = 1, else ``lockstep`` and ``decoupled``)."""
    pts, active = problem.train_points, jnp.ones(members, bool)
    carry = stack([problem.init_carry(s) for s in range(members)])
    if warmup:
        carry = make_chunk(problem, members, "while")(carry, pts, warmup, active)
    start_carry = jax.device_get(carry)
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(problem.objective.total), (0, None)))
    vg_ms = _ms_per_call(value_and_grad, carry.params, pts)
    history = lbfgs.history(carry.opt_state)
    compact = jax.tree.map(lambda a: a[0], history) if members == 1 else history
    update_ms = _update_ms(compact, carry.params[0] if members == 1 else carry.params)
    streams = _history_streams(history.memory)
    schedules = {"single": "while"} if members == 1 else {"lockstep": "lockstep", "decoupled": "while"}
    rows = []
    for schedule, kind in schedules.items():
        chunk = make_chunk(problem, members, kind)
        carry = chunk(jax.tree.map(jnp.asarray, start_carry), pts, 5, active)  # compile, warm
        jax.block_until_ready(carry.params)
        f0 = np.asarray(jax.device_get(carry.fevals))
        start = time.perf_counter()
        carry = chunk(carry, pts, iters, active)
        jax.block_until_ready(carry.params)
        it_ms = 1e3 * (time.perf_counter() - start) / iters
        trials = (np.asarray(jax.device_get(carry.fevals)) - f0) / iters
        paid = float(trials.max()) if schedule == "decoupled" else (it_ms - update_ms) / vg_ms
        rows.append({"members": members, "schedule": schedule, "warmup": warmup,
                     "value_grad_ms": vg_ms, "update_ms": update_ms, "iteration_ms": it_ms,
                     "aggregate_iters_per_s": 1e3 * members / it_ms,
                     "trials_per_member_iter": float(trials.mean()), "trials_paid_per_iter": paid,
                     **streams})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--members", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=1000, help="iterations before the timing")
    parser.add_argument("--deadline", type=float, default=150.0, help="skip what would start after this")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    args = parser.parse_args()
    start = time.perf_counter()
    summary = {"date": time.strftime("%Y-%m-%d %H:%M"), "device": jax.devices()[0].device_kind, "rows": []}
    for name in args.problems:
        problem = Problem.from_config(run_config({**BASE, **PROBLEMS[name]}))
        for members in args.members:
            if time.perf_counter() - start > args.deadline:
                break
            for row in measure(problem, members, args.iters, args.warmup):
                row = {"problem": name, **row}
                summary["rows"].append(row)
                print(json.dumps(row), flush=True)
            with open(args.out, "w") as f:
                json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
