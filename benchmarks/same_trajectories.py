"""Are training trajectories bitwise unchanged by a code change? Trains the same short runs
with the source of a git revision and with the working tree, and compares parameters and every
history column but wall time, bit for bit.

    python benchmarks/same_trajectories.py REVISION

Cases: convection double PINN FP32 (strong Wolfe), reaction L2 FP64 (optax's zoom search),
wave unregularized FP64, two seeds each in one batched job; convection L1 FP64 alone (the
unbatched path); 300 iterations of a 2x16 network on an 8x8 grid. Exit status 0 only if every run is identical. Run it on one machine: XLA's
CPU code differs between processors, so trajectories are compared on the same one.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CASES = (("convection", "double", "fp32", "strong_wolfe", "1e-4", 2),
         ("reaction", "l2", "fp64", "zoom", "1e-4", 2),
         ("wave", "none", "fp64", "strong_wolfe", "0", 2),
         ("convection", "l1", "fp64", "strong_wolfe", "1e-5", 1))
TRAIN = ("import sys\ntry:\n    from pinnfail.interfaces.cli import main\n"
         "except ImportError:  # a revision before the layer subpackages\n    from pinnfail.cli import main\n"
         "sys.exit(main())")


def train_all(src: Path, out: Path) -> None:
    for pde, reg, precision, search, lam, n in CASES:
        name = f"{pde}_{reg}"
        subprocess.run([sys.executable, "-c", TRAIN, "train", "--pde", pde, "--regularizer", reg, "--lambda", lam,
                        "--precision", precision, "--linesearch", search, "--grid", "8x8", "--n-initial", "16",
                        "--n-boundary", "16", "--n-test-domain", "64", "--n-test-line", "16", "--depth", "2",
                        "--width", "16", "--max-iters", "300", "--log-every", "50", "--checkpoint-every", "0",
                        "--seeds", *map(str, range(n)), "--outs", *(str(out / f"{name}_s{k}.h5") for k in range(n)),
                        "--quiet"], check=True, env={**os.environ, "PYTHONPATH": str(src)}, stdout=subprocess.DEVNULL)


def differences(a: Path, b: Path) -> list[str]:
    with h5py.File(a) as fa, h5py.File(b) as fb:
        out = [] if np.array_equal(fa["params"][()], fb["params"][()]) else ["params"]
        ha, hb = fa["history"], fb["history"]
        if sorted(ha) != sorted(hb):
            return out + [f"history columns {sorted(set(ha) ^ set(hb))}"]
        return out + [k for k in ha if k != "wall_time" and not np.array_equal(ha[k][()], hb[k][()])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the git revision to compare the working tree with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tree = tmp / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), args.revision], check=True)
        try:
            (tmp / "a").mkdir(), (tmp / "b").mkdir()
            train_all(tree / "src", tmp / "a")
            train_all(ROOT / "src", tmp / "b")
            bad = 0
            for run in sorted((tmp / "a").glob("*.h5")):
                diff = differences(run, tmp / "b" / run.name)
                bad += bool(diff)
                print(f"{run.stem}: {'identical' if not diff else 'differs in ' + ', '.join(diff)}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
