"""Shared test fixtures: a tiny run configuration (seconds to train on a CPU) and tiny real runs, evaluated.

The session shares one JAX compilation cache, empty at its start (``PINNFAIL_JAX_CACHE``, set
before pinnfail is imported): the tests compile the same tiny programs again and again, in
this process and in the ``pinnfail`` processes they start, and each is compiled once. A cache
the environment already names is used instead. Tests of the workflow's own cache take the
variable out of the environment of the processes they start.
"""
import atexit
import os
import shutil
import tempfile

import pytest

if not os.environ.get("PINNFAIL_JAX_CACHE"):
    os.environ["PINNFAIL_JAX_CACHE"] = tempfile.mkdtemp(prefix="pinnfail-tests-jax-cache-")
    atexit.register(shutil.rmtree, os.environ["PINNFAIL_JAX_CACHE"], True)

import pinnfail  # noqa: E402,F401  (enables x64; reads PINNFAIL_JAX_CACHE)
from pinnfail.config import run_config  # noqa: E402
from pinnfail.evaluate import evaluate, write_evaluation  # noqa: E402
from pinnfail.reference import compute_reference, write_reference  # noqa: E402
from pinnfail.train import train  # noqa: E402

TINY = {
    "pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 2, "width": 8,
    "n_test_domain": 64, "n_test_line": 16, "log_every": 10, "stop_window": 0, "checkpoint_every": 0,
}
TINY_RUN = {**TINY, "max_iters": 20}


@pytest.fixture
def tiny():
    """``tiny(**overrides)``: the tiny run configuration, validated, with overrides."""
    return lambda **overrides: run_config({**TINY, **overrides})


@pytest.fixture(scope="session")
def tiny_settings() -> dict:
    """Run settings of a tiny 20-iteration convection run (seconds on a CPU)."""
    return dict(TINY_RUN)


@pytest.fixture(scope="session")
def evaluated(tmp_path_factory):
    """(folder, reference, [eval.h5 of seeds 0 and 1]) of two tiny convection runs."""
    tmp = tmp_path_factory.mktemp("eval")
    ref = tmp / "ref.h5"
    write_reference(ref, compute_reference("convection", None, {"nx": 40, "nt": 21}))
    paths = []
    for seed in (0, 1):
        run = tmp / f"run{seed}.h5"
        train({**TINY_RUN, "seed": seed}, [seed], [run], progress=False)
        result = evaluate(run, ref, residual_grid=(16, 8))
        write_evaluation(tmp / f"eval{seed}.h5", result)
        paths.append(tmp / f"eval{seed}.h5")
    return tmp, ref, paths
