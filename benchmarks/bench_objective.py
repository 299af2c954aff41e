"""Objective speed against an earlier revision, side by side in one run.

For each case: the objective+gradient time (best of ``--reps`` after compiling) and L-BFGS
iterations/s (``--iters`` timed iterations after ``--warmup``, the training loop as a run uses
it), measured in fresh processes that alternate between this checkout and a git worktree of
``--baseline`` (default: HEAD~1), ``--rounds`` times; the best of each is reported, with the
objective values of both revisions at the same initial parameters (they agree to round-off).

    python benchmarks/bench_objective.py --baseline 09f9d6e --json benchmarks/results/cpu_objective.json

Cases: the Table 1 double-PINN FP64 setups of Allen-Cahn (64x64 + 100 + 100), wave (12x12 +
100 + 100) and convection (20x20 + 200 + 200), vanilla FP32 convection (20x20 + 200 + 200) and
vanilla FP32 Allen-Cahn (Fig. 4's FP32 runs). The machine's load average is recorded before and
after: timings on a shared machine are comparable only within one run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "allen_cahn_double_fp64": {"pde": "allen_cahn", "precision": "fp64", "grid": [64, 64], "n_initial": 100,
                               "n_boundary": 100, "regularizer": "double", "lambda": 1e-4},
    "wave_double_fp64": {"pde": "wave", "precision": "fp64", "grid": [12, 12], "n_initial": 100,
                         "n_boundary": 100, "regularizer": "double", "lambda": 1e-4},
    "convection_double_fp64": {"pde": "convection", "precision": "fp64", "grid": [20, 20], "n_initial": 200,
                               "n_boundary": 200, "regularizer": "double", "lambda": 1e-4},
    "convection_none_fp32": {"pde": "convection", "precision": "fp32", "grid": [20, 20], "n_initial": 200,
                             "n_boundary": 200},
    "allen_cahn_none_fp32": {"pde": "allen_cahn", "precision": "fp32", "grid": [64, 64], "n_initial": 100,
                             "n_boundary": 100},
}
# timed L-BFGS iterations per case (about 10-20 s each on a 2-core CPU)
ITERS = {"allen_cahn_double_fp64": 40, "wave_double_fp64": 300, "convection_double_fp64": 600,
         "convection_none_fp32": 2000, "allen_cahn_none_fp32": 150}
ROOT = Path(__file__).resolve().parents[1]


def worker(case: str, reps: int, iters: int, warmup: int) -> dict:
    """One revision, one case, in this process (pinnfail from PYTHONPATH)."""
    import jax
    import jax.numpy as jnp

    import pinnfail
    from pinnfail.numerics.config import run_config
    from pinnfail.numerics.schedule import Problem, make_chunk, stack

    problem = Problem.from_config(run_config({**CASES[case], "seed": 0}))
    x0, pts = problem.network.flat_init, problem.train_points
    vg = problem.value_and_grad
    value, _ = jax.block_until_ready(vg(x0, pts))
    seconds = []
    for _ in range(reps):
        start = time.perf_counter()
        jax.block_until_ready(vg(x0, pts))
        seconds.append(time.perf_counter() - start)
    chunk = make_chunk(problem, 1)
    carry, active = stack([problem.init_carry(0)]), jnp.asarray([True])
    carry = chunk(carry, pts, warmup, active)
    jax.block_until_ready(carry.params)
    start = time.perf_counter()
    carry = chunk(carry, pts, iters, active)
    jax.block_until_ready(carry.params)
    elapsed = time.perf_counter() - start
    return {"objective_grad_ms": 1e3 * min(seconds), "iters_per_s": iters / elapsed,
            "objective_at_init": float(value), "source": str(Path(pinnfail.__file__).parent)}


def run_worker(src: Path, case: str, args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, __file__, "--worker", case, "--reps", str(args.reps),
                          "--iters", str(args.iters or ITERS[case]), "--warmup", str(args.warmup)],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="HEAD~1", help="the earlier revision (a git worktree of it is made)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--iters", type=int, default=0, help="timed iterations (0: per case)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.reps, args.iters, args.warmup)))
        return
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    baseline = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline],
                              capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"],
                                capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), baseline], check=True)
        try:
            sources = {"baseline": tree / "src", "current": ROOT / "src"}
            results = {case: {rev: [] for rev in sources} for case in args.cases}
            load_before = load()
            for _ in range(args.rounds):
                for case in args.cases:
                    for rev, src in sources.items():
                        results[case][rev].append(run_worker(src, case, args))
                        print(case, rev, json.dumps(results[case][rev][-1]), file=sys.stderr, flush=True)
            load_after = load()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    summary = {}
    for case, revs in results.items():
        best = {rev: {"objective_grad_ms": min(r["objective_grad_ms"] for r in runs),
                      "iters_per_s": max(r["iters_per_s"] for r in runs),
                      "objective_at_init": runs[0]["objective_at_init"]} for rev, runs in revs.items()}
        b, c = best["baseline"], best["current"]
        summary[case] = {**{f"{rev}_{k}": v for rev, d in best.items() for k, v in d.items()},
                         "objective_grad_speedup": b["objective_grad_ms"] / c["objective_grad_ms"],
                         "iters_per_s_speedup": c["iters_per_s"] / b["iters_per_s"],
                         "objective_relative_difference": abs(c["objective_at_init"] - b["objective_at_init"])
                         / abs(b["objective_at_init"])}
    report = {"baseline": baseline, "current": revision + ("+uncommitted" if dirty else ""),
              "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or platform.platform()}",
              "date": time.strftime("%Y-%m-%d"), "load_average_before": load_before, "load_average_after": load_after,
              "rounds": args.rounds, "reps": args.reps, "warmup": args.warmup, "summary": summary, "raw": results}
    print("| case | objective+grad ms (baseline -> current) | speed-up | L-BFGS it/s (baseline -> current) | speed-up |")
    print("|---|---|---|---|---|")
    for case, s in summary.items():
        print(f"| {case} | {s['baseline_objective_grad_ms']:.1f} -> {s['current_objective_grad_ms']:.1f} | "
              f"{s['objective_grad_speedup']:.2f}x | {s['baseline_iters_per_s']:.1f} -> {s['current_iters_per_s']:.1f} | "
              f"{s['iters_per_s_speedup']:.2f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
