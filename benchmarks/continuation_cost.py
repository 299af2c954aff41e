"""What continuing a finished run costs: the L-BFGS memory restarted at iteration N against an
uninterrupted run, on one seed of a committed run.

    python benchmarks/continuation_cost.py [--json benchmarks/results/continuation_cost.json]

The committed run (convection double PINN FP64, lambda 1e-3, 20x20 + 200 + 200, seed 0, 50,000
iterations: docs/results/cpu/conv_double_lambda) is trained here to ``--at`` (20,000) iterations
with its final checkpoint kept, then continued to its cap twice: from its run.h5 (the L-BFGS
memory restarted: what a fresh clone does with a committed run) and from the checkpoint (memory
kept: an uninterrupted run on this machine, bitwise). Both are evaluated against the reference
and compared with the committed uninterrupted run, which was trained on another machine (runs
diverge across machines within a few thousand iterations from round-off alone). Prints and
writes rMAE, the final objective and iterations per second of each.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / ("docs/results/cpu/conv_double_lambda/runs/"
                    "cpu_conv_double_lambda__convection_double_residual_1em03_fp64/seed0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", type=int, default=20000, help="the iteration where the run is continued")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--work", type=Path, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args()

    from pinnfail.artifacts.formats import Run, read_metrics, write_reference
    from pinnfail.numerics.reference import compute_reference
    from pinnfail.products.evaluate import evaluate, write_result
    from pinnfail.products.train import train

    work = args.work or Path(tempfile.mkdtemp(prefix="continuation-"))
    work.mkdir(parents=True, exist_ok=True)
    committed = Run.read(COMMITTED / "run.h5")
    config = {**committed.config, "keep_checkpoint": True, "checkpoint_every": 0}
    cap = int(config["max_iters"])
    ref = work / "convection.h5"
    write_reference(ref, compute_reference("convection", config["pde_params"]))

    def timed(label, **kw):
        began = time.perf_counter()
        (member,) = train({**config, "max_iters": kw.pop("cap")}, [0], [work / f"{label}.h5"], progress=False, **kw)
        return member, time.perf_counter() - began

    short, t_short = timed("short", cap=args.at, checkpoints=[work / "short.ckpt.h5"])
    shutil.copy(work / "short.ckpt.h5", work / "exact.ckpt.h5")
    restarted, t_restarted = timed("restarted", cap=cap, continue_from=[work / "short.h5"],
                                   checkpoints=[work / "restarted.ckpt.h5"])
    exact, t_exact = timed("exact", cap=cap, checkpoints=[work / "exact.ckpt.h5"])

    rows = {}
    for label, path in (("committed (uninterrupted, another machine)", COMMITTED / "run.h5"),
                        (f"continued at {args.at}, memory restarted", work / "restarted.h5"),
                        (f"resumed at {args.at}, memory kept (uninterrupted here)", work / "exact.h5")):
        out = work / f"{path.stem}_{len(rows)}_eval.h5"
        write_result(out, evaluate(path, ref, residual_grid=(64, 64)))
        m, run = read_metrics(out), Run.read(path)
        rows[label] = {"rmae": m["rmae"], "rrmse": m["rrmse"], "final_objective": float(run.attrs["final_objective"]),
                       "iterations": int(run.attrs["iterations"]), "stop_reason": run.attrs["stop_reason"],
                       "lbfgs_restarts": json.loads(run.attrs.get("lbfgs_restarts", "[]"))}
    rows[f"continued at {args.at}, memory restarted"]["seconds_after_the_restart"] = t_restarted
    rows[f"resumed at {args.at}, memory kept (uninterrupted here)"]["seconds_after_the_restart"] = t_exact
    result = {"case": "convection double PINN FP64 lambda 1e-3, 20x20 + 200 + 200, seed 0",
              "continued_at": args.at, "cap": cap, "seconds_to_the_restart": t_short,
              "machine": f"{platform.machine()} {platform.node()}", "runs": rows,
              "wall_time_per_iteration_after": {"restarted": t_restarted / (cap - args.at),
                                                "kept": t_exact / (cap - args.at)}}
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    assert short.stop_reason == "max_iters" and restarted.continued and exact.resumed_from == args.at


if __name__ == "__main__":
    main()
