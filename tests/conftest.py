"""Fixtures shared by the products' tests: tiny real runs, evaluated."""
import pytest

from pinnfail.evaluate import evaluate, write_evaluation
from pinnfail.reference import compute_reference, write_reference
from pinnfail.train import train

TINY = {"pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 2, "width": 8,
        "n_test_domain": 64, "n_test_line": 16, "log_every": 10, "stop_window": 0, "checkpoint_every": 0,
        "max_iters": 20}


@pytest.fixture(scope="session")
def tiny() -> dict:
    """Run settings of a tiny convection run (seconds on a CPU)."""
    return dict(TINY)


@pytest.fixture(scope="session")
def evaluated(tmp_path_factory):
    """(folder, reference, [eval.h5 of seeds 0 and 1]) of two tiny convection runs."""
    tmp = tmp_path_factory.mktemp("eval")
    ref = tmp / "ref.h5"
    write_reference(ref, compute_reference("convection", None, {"nx": 40, "nt": 21}))
    paths = []
    for seed in (0, 1):
        run = tmp / f"run{seed}.h5"
        train({**TINY, "seed": seed}, [seed], [run], progress=False)
        result = evaluate(run, ref, residual_grid=(16, 8))
        write_evaluation(tmp / f"eval{seed}.h5", result)
        paths.append(tmp / f"eval{seed}.h5")
    return tmp, ref, paths
