"""Shared test fixtures: a tiny run configuration (seconds to train on a CPU) and tiny real runs, evaluated.

The session shares one JAX compilation cache, empty at its start (``PINNFAIL_JAX_CACHE``, set
before pinnfail is imported, in pytest-xdist's controller, so its workers inherit it): the tests
compile the same tiny programs again and again, in their workers and in the ``pinnfail``
processes they start, and each is compiled once (a half-written entry read by another worker is a
cache miss: JAX warns and compiles). A cache
the environment already names is used instead. Tests of the workflow's own cache take the
variable out of the environment of the processes they start.

Fast tests compile with most of XLA's optimizations off (``JAX_DISABLE_MOST_OPTIMIZATIONS``,
also in the processes they start): the same programs, a third less compilation, which is most
of a tiny test's time. Tests marked ``slow`` train for thousands of iterations and compile
optimized, as users' runs do. A value the environment already sets is left alone.

``cli(*argv)`` runs the ``pinnfail`` command in this process (its exit status, stdout and
stderr), without the second or two a new process spends importing JAX; test_cli, test_io and
test_train each keep a check of the command as its own process (``python -m pinnfail.interfaces.cli``).
"""
import atexit
import contextlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass

import pytest

if not os.environ.get("PINNFAIL_JAX_CACHE"):
    os.environ["PINNFAIL_JAX_CACHE"] = tempfile.mkdtemp(prefix="pinnfail-tests-jax-cache-")
    atexit.register(shutil.rmtree, os.environ["PINNFAIL_JAX_CACHE"], True)
FAST_COMPILE = "JAX_DISABLE_MOST_OPTIMIZATIONS"
_SET_FAST_COMPILE = FAST_COMPILE not in os.environ
if _SET_FAST_COMPILE:
    os.environ[FAST_COMPILE] = "1"
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # the workers may share one GPU

import pinnfail.numerics._jax  # noqa: E402,F401  (enables x64; reads PINNFAIL_JAX_CACHE)
from pinnfail.numerics.config import run_config  # noqa: E402
from pinnfail.products.evaluate import evaluate, write_result  # noqa: E402
from pinnfail.artifacts.formats import write_reference
from pinnfail.numerics.reference import compute_reference  # noqa: E402
from pinnfail.products.train import train  # noqa: E402

TINY = {
    "pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 2, "width": 8,
    "n_test_domain": 64, "n_test_line": 16, "log_every": 10, "stop_window": 0, "checkpoint_every": 0,
}
TINY_RUN = {**TINY, "max_iters": 20}


@pytest.fixture(autouse=True)
def _slow_tests_compile_optimized(request, monkeypatch):
    if not (_SET_FAST_COMPILE and request.node.get_closest_marker("slow")):
        yield
        return
    import jax

    monkeypatch.delenv(FAST_COMPILE)
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", True)


@dataclass
class Completed:
    """What ``subprocess.run(..., capture_output=True, text=True)`` returns, for ``cli``."""
    returncode: int
    stdout: str
    stderr: str


def run_cli(*argv, cwd=None) -> Completed:
    """``pinnfail ARGV`` (in ``cwd``) by ``pinnfail.interfaces.cli.main`` in this process."""
    from pinnfail.interfaces.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            status = main([str(arg) for arg in argv])
        except SystemExit as exit:  # argparse: --help, a bad option
            status = exit.code if isinstance(exit.code, int) else 2
    return Completed(status, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    """``cli(*argv, cwd=None)``: the ``pinnfail`` command run in this process (run_cli)."""
    return run_cli


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
        write_result(tmp / f"eval{seed}.h5", result)
        paths.append(tmp / f"eval{seed}.h5")
    return tmp, ref, paths
