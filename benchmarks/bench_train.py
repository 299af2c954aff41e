"""L-BFGS training speed: pinnfail (JAX) vs the same PINN in PyTorch, side by side in one run.

Cases (convection, beta = 50, 4 x 128 tanh, L-BFGS history 100):
  a: vanilla FP64 on 101 x 101 + 101 + 101 (the baselines' setup)
  b: vanilla FP32 on 20 x 20 + 200 + 200
  c: double PINN (residual form, lambda 1e-4) FP32 on 20 x 20 + 200 + 200
  d: as c in FP64 (the Table 1 setup); w: the same for the wave equation (third derivatives)
PyTorch runs (a)-(c).

For each case: L-BFGS iterations/s and objective evaluations/s after warm-up, bare
loss+gradient evaluations/s, the loss after the same number of iterations, and the
per-iteration overhead beyond the objective evaluations compared with the time to
stream the L-BFGS history twice. Also optax.lbfgs itself (case b only by default), and
loss+gradient evaluations/s with the network's one-pass Taylor-mode input derivatives (the
default) against nested forward-mode autodiff, one pass per derivative (the previous engine).

    python benchmarks/bench_train.py --iters 300 --json benchmarks/cpu.json
Needs torch for the comparison (pip install torch==2.13.0); without it, JAX numbers only.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import optax

import pinnfail  # noqa: F401
from pinnfail.numerics import jets
from pinnfail.numerics.config import run_config
from pinnfail.numerics.lbfgs import history_products
from pinnfail.numerics.losses import make_objective
from pinnfail.numerics.schedule import Problem, make_chunk, stack

CASES = {
    "a": {"precision": "fp64", "grid": [101, 101], "n_initial": 101, "n_boundary": 101},
    "b": {"precision": "fp32", "grid": [20, 20], "n_initial": 200, "n_boundary": 200},
    "c": {"precision": "fp32", "grid": [20, 20], "n_initial": 200, "n_boundary": 200,
          "regularizer": "double", "lambda": 1e-4},
    "d": {"precision": "fp64", "grid": [20, 20], "n_initial": 200, "n_boundary": 200,
          "regularizer": "double", "lambda": 1e-4},
    "w": {"pde": "wave", "precision": "fp64", "grid": [20, 20], "n_initial": 200, "n_boundary": 200,
          "regularizer": "double", "lambda": 1e-4},
}
TORCH_CASES = ("a", "b", "c")


def case_config(case: str, **overrides) -> dict:
    return run_config({"pde": "convection", **CASES[case], **overrides})


def _timed(fn, repeats):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def stream_time(n_params: int, memory: int, dtype) -> float:
    """Seconds to stream a (2 m, n) history twice, as the update does (products, combination)."""
    hist = jnp.ones((2 * memory, n_params), dtype)
    vec = jnp.ones((n_params,), dtype)
    coeffs = jnp.ones((2 * memory,), dtype)
    f = jax.jit(lambda h, v, c: (history_products(h, v, v), c @ h))
    return _timed(lambda: jax.block_until_ready(f(hist, vec, coeffs)), 20)


def loss_grad_flops(value_and_grad, x0, pts) -> float:
    """Floating-point operations of one loss+gradient evaluation, from XLA's cost analysis."""
    cost = value_and_grad.lower(x0, pts).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost.get("flops", float("nan")))


def bench_jax(case: str, iters: int, linesearch: str = "strong_wolfe", optimizer: str = "pinnfail") -> dict:
    config = case_config(case, linesearch=linesearch, seed=0)
    problem = Problem.from_config(config)
    pts, total = problem.train_points, problem.objective.total
    x0 = problem.network.flat_init
    value_and_grad = problem.value_and_grad
    eval_s = _timed(lambda: jax.block_until_ready(value_and_grad(x0, pts)), 20)
    flops = loss_grad_flops(value_and_grad, x0, pts)
    if optimizer == "optax":
        opt = optax.lbfgs(memory_size=config["memory"])
        vg = optax.value_and_grad_from_state(total)

        def step(_, carry):
            x, state, fevals = carry
            v, g = vg(x, pts, state=state)
            u, state = opt.update(g, state, x, value=v, grad=g, value_fn=lambda p: total(p, pts))
            steps = optax.tree.get(state, "num_linesearch_steps")
            return optax.apply_updates(x, u), state, fevals + steps

        run = jax.jit(lambda c, n: jax.lax.fori_loop(0, n, step, c))
        carry = run((x0, opt.init(x0), jnp.zeros([], jnp.int64)), 10)  # warm-up: compile
        jax.block_until_ready(carry)
        f0 = int(carry[2])
        start = time.perf_counter()
        carry = run(carry, iters)
        jax.block_until_ready(carry)
        seconds = time.perf_counter() - start
        fevals = int(carry[2]) - f0
        loss = float(total(carry[0], pts))
    else:
        chunk = make_chunk(problem, 1)
        carry = stack([problem.init_carry(0)])
        active = jnp.asarray([True])
        carry = chunk(carry, pts, 10, active)  # warm-up: compile and the first 10 iterations
        jax.block_until_ready(carry.params)
        f0 = int(carry.fevals[0])
        start = time.perf_counter()
        carry = chunk(carry, pts, iters, active)
        jax.block_until_ready(carry.params)
        seconds = time.perf_counter() - start
        fevals = int(carry.fevals[0]) - f0
        loss = float(total(carry.params[0], pts))
    per_iter = seconds / iters
    overhead = per_iter - fevals / iters * eval_s
    streams = stream_time(x0.size, config["memory"], x0.dtype)
    return {
        "impl": f"jax-{optimizer}" + ("" if optimizer == "optax" else f"-{linesearch}"),
        "case": case, "iterations": iters, "func_evals": fevals, "seconds": seconds,
        "iters_per_s": iters / seconds, "evals_per_s": fevals / seconds, "loss_grad_per_s": 1 / eval_s,
        "final_loss": loss, "gflop_per_loss_grad": flops / 1e9, "loss_grad_gflops": flops / eval_s / 1e9,
        "overhead_ms_per_iter": 1e3 * overhead,
        "history_two_streams_ms": 1e3 * streams, "overhead_over_streams": overhead / streams,
    }


def derivative_engines(case: str, repeats: int = 10) -> dict:
    """Loss+gradient evaluations/s: Taylor-mode jets (default) vs nested autodiff of u."""
    problem = Problem.from_config(case_config(case))
    network = problem.network

    def nested_jet(flat, x, t, order):
        return jets.of_callable(lambda a, b: network.apply(flat, a, b), x, t, order)

    nested = dataclasses.replace(network, jet=nested_jet)
    variants = {
        "taylor": problem,
        "nested": dataclasses.replace(
            problem, network=nested, objective=make_objective(problem.pde, nested, problem.config)),
    }
    x0, pts = network.flat_init, problem.train_points
    seconds = {mode: [] for mode in variants}
    for _ in range(2):  # alternate, keep the best of each
        for mode, p in variants.items():
            seconds[mode].append(_timed(lambda: jax.block_until_ready(p.value_and_grad(x0, pts)), repeats))
    out = {"case": case}
    for mode, p in variants.items():
        out[f"loss_grad_per_s_{mode}"] = 1 / min(seconds[mode])
        out[f"gflop_per_loss_grad_{mode}"] = loss_grad_flops(p.value_and_grad, x0, pts) / 1e9
    out["taylor_over_nested"] = out["loss_grad_per_s_taylor"] / out["loss_grad_per_s_nested"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(TORCH_CASES), choices=list(CASES))
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--optax-cases", nargs="*", default=["b"], choices=list(CASES))
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", help="write all results here")
    parser.add_argument("--derivative-cases", nargs="*", default=["b", "c", "d", "w"], choices=list(CASES),
                        help="cases for the Taylor-mode vs nested-autodiff comparison")
    args = parser.parse_args()
    results = []
    torch_bench = None
    if not args.no_torch:
        try:
            sys.path.insert(0, os.path.dirname(__file__))
            from torch_pinn import benchmark as torch_bench  # noqa: N813
        except ImportError:
            print("torch not installed: JAX numbers only", file=sys.stderr)
    for case in args.cases:
        rows = [bench_jax(case, args.iters)]
        if case in args.optax_cases:
            rows.append(bench_jax(case, args.iters, optimizer="optax"))
        if torch_bench is not None and case in TORCH_CASES:
            t = torch_bench(case, args.iters)
            rows.append({"impl": "torch", **t})
            for r in rows[:-1]:
                r["speedup_vs_torch_iters"] = r["iters_per_s"] / t["iters_per_s"]
                r["speedup_vs_torch_loss_grad"] = r["loss_grad_per_s"] / t["loss_grad_per_s"]
        results += rows
        for r in rows:
            extra = f"  x{r['speedup_vs_torch_iters']:.2f} torch it/s" if "speedup_vs_torch_iters" in r else ""
            print(f"case {case} {r['impl']:28s} {r['iters_per_s']:8.1f} it/s  {r['evals_per_s']:8.1f} evals/s  "
                  f"{r['loss_grad_per_s']:8.1f} loss+grad/s  loss {r['final_loss']:.3e}{extra}", flush=True)
            if "loss_grad_gflops" in r:
                print(f"         {r['gflop_per_loss_grad']:.2f} GFLOP per loss+grad, {r['loss_grad_gflops']:.1f} GFLOP/s")
            if "overhead_over_streams" in r:
                print(f"         overhead {r['overhead_ms_per_iter']:.2f} ms/it = "
                      f"{r['overhead_over_streams']:.2f} x two history streams ({r['history_two_streams_ms']:.2f} ms)")
    modes = []
    for case in args.derivative_cases:
        m = derivative_engines(case)
        modes.append(m)
        print(f"case {case} input derivatives: Taylor {m['loss_grad_per_s_taylor']:.1f} loss+grad/s "
              f"({m['gflop_per_loss_grad_taylor']:.2f} GFLOP), nested {m['loss_grad_per_s_nested']:.1f} "
              f"({m['gflop_per_loss_grad_nested']:.2f} GFLOP): Taylor/nested {m['taylor_over_nested']:.2f}x",
              flush=True)
    if args.json:
        meta = {"date": time.strftime("%Y-%m-%d"), "device": str(jax.devices()[0]), "host": platform.node(),
                "cpu_count": os.cpu_count(), "iters": args.iters}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "input_derivatives": modes}, f, indent=2)


if __name__ == "__main__":
    main()
