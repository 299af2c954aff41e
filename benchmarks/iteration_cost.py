"""Seconds per L-BFGS iteration of each Fig. 6 setting, measured side by side on one machine:
what the claims ledger multiplies the runs' iteration counts by to compare regularizers in
seconds (the runs' own wall times were measured at different loads, so they are not comparable).

    python3 benchmarks/iteration_cost.py --part docs/results/cpu/fig6 [--rounds 5 --iterations 100]

For each selected strength of the part (the unregularized network, L2 1e-5, L1 1e-5, double
PINN 1e-3: the settings read from the committed runs of seed 0), one training chunk is compiled
and warmed up, then chunks of ``--iterations`` iterations run in turn, setting after setting,
``--rounds`` times, from where the previous chunk of the same setting ended; the median over
rounds is the cost. Writes FEVAL_COST (``feval_cost.json``) beside the part's runs/: seconds per
iteration and per objective evaluation of each setting, the machine, its load before and after,
and the revision. Run it on an idle machine (pause every other job): the ledger trusts it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

EXPERIMENTS = ("fig6_cpu__convection_none_fp32", "fig6_cpu__convection_l2_1em05_fp32",
               "fig6_cpu__convection_l1_1em05_fp32", "fig6_cpu__convection_double_residual_1em03_fp32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=Path, default=Path("docs/results/cpu/fig6"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp
    import numpy as np

    from pinnfail.artifacts.formats import Run
    from pinnfail.artifacts.provenance import git_revision
    from pinnfail.numerics.schedule import Problem, make_chunk, stack
    from pinnfail.products.records import FEVAL_COST

    load_before = os.getloadavg()
    cases = []
    for name in EXPERIMENTS:
        config = Run.read(args.part / "runs" / name / "seed0" / "run.h5").config
        problem = Problem.from_config(config)
        chunk = make_chunk(problem, 1)
        carry = stack([problem.init_carry(0, config["lambda"])])
        lams = problem.lambdas(None, 1)
        carry = chunk(carry, problem.train_points, args.iterations, jnp.asarray([True]), lams)  # compile, warm up
        jax.block_until_ready(carry)
        cases.append({"name": name, "config": config, "problem": problem, "chunk": chunk, "carry": carry,
                      "lams": lams, "seconds": [], "fevals": []})
    for _ in range(args.rounds):
        for case in cases:
            before = int(case["carry"].fevals[0])
            began = time.perf_counter()
            case["carry"] = case["chunk"](case["carry"], case["problem"].train_points, args.iterations,
                                          jnp.asarray([True]), case["lams"])
            jax.block_until_ready(case["carry"])
            case["seconds"].append((time.perf_counter() - began) / args.iterations)
            case["fevals"].append((int(case["carry"].fevals[0]) - before) / args.iterations)
    settings = [{"experiment": c["name"], "config": c["config"],
                 "seconds_per_iteration": float(np.median(c["seconds"])),
                 "fevals_per_iteration": float(np.median(c["fevals"])),
                 "seconds_per_feval": float(np.median(np.divide(c["seconds"], c["fevals"]))),
                 "rounds_seconds_per_iteration": c["seconds"]} for c in cases]
    result = {"measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git_revision": git_revision(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.node()}",
              "load_before": load_before, "load_after": os.getloadavg(),
              "rounds": args.rounds, "iterations_per_chunk": args.iterations, "settings": settings,
              "command": f"python3 benchmarks/iteration_cost.py --part {args.part} --rounds {args.rounds} "
                         f"--iterations {args.iterations}"}
    (args.part / FEVAL_COST).write_text(json.dumps(result, indent=1) + "\n")
    for s in settings:
        print(f"{s['experiment']}: {s['seconds_per_iteration'] * 1e3:.2f} ms/iteration, "
              f"{s['fevals_per_iteration']:.2f} evaluations/iteration, {s['seconds_per_feval'] * 1e3:.2f} ms/evaluation")


if __name__ == "__main__":
    main()
