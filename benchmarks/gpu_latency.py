"""One seed on one device: L-BFGS iterations/s and the loop structure behind them, per lever.

For each problem (``double_fp64_convection``: Table 1 convection, double PINN FP64, 20x20 + 200 +
200; ``double_fp64_allen_cahn``: 64x64 + 100 + 100; ``vanilla_fp32``: bench_train's case b) and
each variant:

* ``baseline``: today's loop (``make_chunk(..., schedule="while")``: a ``fori_loop`` over
  iterations with a traced count, each line search a data-dependent ``while_loop``);
* ``fixed_trip``: the trial-by-trial loop in blocks of known trip count (``schedule="fixed_trip"``);
* ``command_buffer``, ``fixed_trip+command_buffer``: the same with
  ``XLA_FLAGS=--xla_gpu_enable_command_buffer=+WHILE,+CONDITIONAL`` (CUDA graphs with conditional
  nodes; ignored off GPUs);
* ``fixed_trip+unroll4``: the fixed-trip blocks unrolled 4 trials per loop trip.

Each variant runs in its own process (XLA flags are read once per process). Per record: it/s over
``--repeats`` chunks of ``--iters`` iterations after ``--warmup`` iterations (best chunk), trials
per iteration, and from the compiled chunk's HLO: while loops, those whose trip count is not known
at compile time (each trip copies its predicate to the host: a host sync), kernels
(fusions + custom calls, and other ops outside fusions) in each loop body, and from both the
per-iteration estimates of kernels launched and host syncs (see ``per_iteration``). Command
buffers change how launches are issued, not the HLO: their counts equal their base variant's.

    python benchmarks/gpu_latency.py --out benchmarks/results/gpu_latency_<device>.json \\
        [--problems ...] [--variants ...] [--iters 1000] [--warmup 1000] [--repeats 3]

Runs on CPU too (small budgets); every record carries the device it ran on.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

PROBLEMS = {
    "double_fp64_convection": {"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200,
                               "regularizer": "double", "lambda": 1e-4, "precision": "fp64"},
    "double_fp64_allen_cahn": {"pde": "allen_cahn", "grid": [64, 64], "n_initial": 100, "n_boundary": 100,
                               "regularizer": "double", "lambda": 1e-4, "precision": "fp64"},
    "vanilla_fp32": {"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200,
                     "precision": "fp32"},
}
COMMAND_BUFFER = "--xla_gpu_enable_command_buffer=+WHILE,+CONDITIONAL"
VARIANTS = {  # name: (schedule, unroll, XLA flags)
    "baseline": ("while", 1, ""),
    "fixed_trip": ("fixed_trip", 1, ""),
    "command_buffer": ("while", 1, COMMAND_BUFFER),
    "fixed_trip+command_buffer": ("fixed_trip", 1, COMMAND_BUFFER),
    "fixed_trip+unroll4": ("fixed_trip", 4, ""),
}
NOT_KERNELS = {"parameter", "constant", "get-tuple-element", "tuple", "bitcast", "while", "conditional",
               "call", "after-all", "partition-id", "replica-id"}


def _computations(hlo: str) -> dict[str, list[str]]:
    """Computation name -> its instruction lines (fusion bodies included, marked by name)."""
    out, name = {}, None
    for line in hlo.splitlines():
        head = re.match(r"^(ENTRY\s+)?%?([\w.\-]+)\s", line)  # instructions are indented
        if head and line.rstrip().endswith("{"):
            name = "ENTRY" if head.group(1) else head.group(2)
            out[name] = []
        elif name and line.strip() == "}":
            name = None
        elif name:
            out[name].append(line)
    return out


def _opcode(line: str) -> str | None:
    m = re.match(r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*.*?\s([a-z][\w\-]*)\(", line)
    return m.group(1) if m else None


def loop_structure(hlo: str) -> dict:
    """While loops of an optimized HLO module as a tree with kernels per body.

    A loop's trip count is known when XLA annotated it (``known_trip_count``, GPU) or when its
    condition compares the counter with a constant; otherwise each trip is a host sync on a GPU.
    """
    comps = _computations(hlo)

    def walk(name: str, depth: int) -> tuple[dict, list]:
        counts = {"fusions_custom_calls": 0, "other_ops": 0}
        loops = []
        for line in comps.get(name, []):
            op = _opcode(line)
            if op in ("fusion", "custom-call"):
                counts["fusions_custom_calls"] += 1
            elif op == "while":
                body = re.search(r"body=%?([\w.\-]+)", line).group(1)
                cond = re.search(r"condition=%?([\w.\-]+)", line).group(1)
                known = re.search(r'known_trip_count"?\s*:\s*\{\s*"n"\s*:\s*"(\d+)"', line)
                cond_lines = comps.get(cond, [])
                root = next((c for c in cond_lines if "ROOT" in c), "")
                static = known is not None or ("compare(" in root and any(
                    _opcode(c) == "constant" for c in cond_lines))
                inner, nested = walk(body, depth + 1)
                loops.append({"depth": depth, "known_trip_count": int(known.group(1)) if known else None,
                              "static_trip_count": static, "body": inner, "loops": nested})
            elif op in ("call", "conditional"):
                for callee in re.findall(r"(?:to_apply|branch_computations=\{|true_computation|"
                                         r"false_computation)=?%?([\w.\-]+)", line):
                    inner, nested = walk(callee, depth)
                    for k in counts:
                        counts[k] += inner[k]
                    loops += nested
            elif op is not None and op not in NOT_KERNELS:
                counts["other_ops"] += 1
        return counts, loops

    entry, loops = walk("ENTRY", 1)

    def flat(ls):
        for loop in ls:
            yield loop
            yield from flat(loop["loops"])

    every = list(flat(loops))
    return {"entry": entry, "loops": loops, "while_loops": len(every),
            "data_dependent_while_loops": sum(not loop["static_trip_count"] for loop in every)}


def _kernels(body: dict) -> int:
    return body["fusions_custom_calls"] + body["other_ops"]


def per_iteration(structure: dict, schedule: str, n: int, trials: int, block: int, tail: int) -> dict:
    """Kernels launched and host syncs per L-BFGS iteration, from the loop tree and the trials.

    ``while`` (one member): a loop over the n iterations (traced count: n trips, n + 1 predicate
    copies) around the line search (``trials`` trips and n + trials predicate copies per chunk).
    ``fixed_trip``: B blocks of ``block`` known trips while at least ``block`` iterations are owed,
    then T blocks of ``tail`` (B + 1 and T + 1 predicate copies). B and T are estimated from the
    trials per iteration r: a block finishes about block / r iterations, so
    B = ceil((n - block + 1) r / block), T = ceil((trials - B block) / tail).
    None where the compiled loop tree does not have the expected shape.
    """
    loops = structure["loops"]
    if schedule == "while" and len(loops) == 1 and len(loops[0]["loops"]) == 1:
        outer, search = loops[0], loops[0]["loops"][0]
        kernels = n * _kernels(outer["body"]) + trials * _kernels(search["body"])
        syncs = (n + 1) * (not outer["static_trip_count"]) + (n + trials) * (not search["static_trip_count"])
    elif schedule == "fixed_trip" and len(loops) == 2 and all(len(loop["loops"]) <= 1 for loop in loops):
        r = trials / n
        big = max(math.ceil((n - block + 1) * r / block), 0)
        small = max(math.ceil((trials - big * block) / tail), 0)
        kernels = syncs = 0
        for count, size, loop in ((big, block, loops[0]), (small, tail, loops[1])):
            kernels += count * _kernels(loop["body"])
            syncs += (count + 1) * (not loop["static_trip_count"])
            for inner in loop["loops"]:  # none where a block is unrolled entirely
                trips = inner["known_trip_count"] or size  # size / unroll (the body holds unroll steps)
                kernels += count * trips * _kernels(inner["body"])
                syncs += count * (not inner["static_trip_count"])
    else:
        return {"kernels_per_iteration": None, "host_syncs_per_iteration": None}
    kernels += _kernels(structure["entry"])
    return {"kernels_per_iteration": kernels / n, "host_syncs_per_iteration": syncs / n}


def measure(problem_name: str, variant: str, iters: int, warmup: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    import pinnfail  # noqa: F401
    from pinnfail.numerics.config import run_config
    from pinnfail.numerics.schedule import BLOCK, TAIL, Problem, make_chunk, stack

    schedule, unroll, _ = VARIANTS[variant]
    problem = Problem.from_config(run_config(PROBLEMS[problem_name]))
    chunk = make_chunk(problem, 1, schedule, BLOCK, TAIL, unroll)
    pts, active = problem.train_points, jnp.ones(1, bool)
    carry = stack([problem.init_carry(0)])
    compile_start = time.perf_counter()
    lams = problem.lambdas(None, 1)
    compiled = chunk.jitted.lower(carry, pts, iters, active, lams).compile()
    hlo = compiled.as_text()

    def run(c):
        return compiled(c, pts, iters, active, lams)

    for _ in range(max(warmup // iters, 1)):  # leaves the first iterations behind
        carry = run(carry)
    jax.block_until_ready(carry.params)
    compile_and_warmup_s = time.perf_counter() - compile_start
    best, trials = 0.0, []
    for _ in range(repeats):
        f0 = int(carry.fevals[0])
        start = time.perf_counter()
        carry = run(carry)
        jax.block_until_ready(carry.params)
        best = max(best, iters / (time.perf_counter() - start))
        trials.append(int(carry.fevals[0]) - f0)
    structure = loop_structure(hlo)
    device = jax.devices()[0]
    return {
        "problem": problem_name, "variant": variant, "device": f"{device.platform}:{device.device_kind}",
        "it_per_s": best, "iters_per_chunk": iters, "chunks": repeats, "warmup_iterations": warmup,
        "iteration": int(carry.iteration[0]), "diverged": bool(carry.diverged[0]),
        "trials_per_iteration": sum(trials) / (iters * repeats), "compile_and_warmup_s": compile_and_warmup_s,
        "schedule": chunk.schedule, "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "while_loops": structure["while_loops"],
        "data_dependent_while_loops": structure["data_dependent_while_loops"],
        **per_iteration(structure, chunk.schedule, iters, max(trials), BLOCK, TAIL),
        "hlo_loops": structure["loops"], "hlo_entry": structure["entry"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--iters", type=int, default=1000, help="iterations per timed chunk")
    parser.add_argument("--warmup", type=int, default=1000, help="iterations before the timing")
    parser.add_argument("--repeats", type=int, default=3, help="timed chunks (the best counts)")
    parser.add_argument("--deadline", type=float, default=480.0, help="start nothing after this many seconds")
    parser.add_argument("--worker", nargs=2, metavar=("PROBLEM", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        record = measure(*args.worker, args.iters, args.warmup, args.repeats)
        with open(args.out, "w") as f:
            json.dump(record, f)
        return
    start, records = time.perf_counter(), []
    for variant in args.variants:
        env = dict(os.environ)
        env["XLA_FLAGS"] = " ".join(filter(None, [env.get("XLA_FLAGS", ""), VARIANTS[variant][2]]))
        for problem in args.problems:
            if time.perf_counter() - start > args.deadline:
                print(f"deadline: skipping {problem} {variant}", flush=True)
                continue
            with tempfile.TemporaryDirectory() as tmp:
                part = os.path.join(tmp, "record.json")
                cmd = [sys.executable, __file__, "--out", part, "--worker", problem, variant, "--iters",
                       str(args.iters), "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if proc.returncode == 0:
                    with open(part) as f:
                        record = json.load(f)
                else:
                    record = {"problem": problem, "variant": variant, "error": proc.stderr[-2000:]}
            records.append(record)
            print(json.dumps({k: v for k, v in record.items() if not k.startswith("hlo_")}), flush=True)
            tmp_out = args.out + ".tmp"
            with open(tmp_out, "w") as f:
                json.dump(records, f, indent=1)
            os.replace(tmp_out, args.out)


if __name__ == "__main__":
    main()
