"""Shared test fixtures: a tiny run configuration (seconds to train on a CPU)."""
import pytest

import pinnfail  # noqa: F401  (enables x64)
from pinnfail.config import run_config

TINY = {
    "pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 2, "width": 8,
    "n_test_domain": 64, "n_test_line": 16, "log_every": 10, "stop_window": 0, "checkpoint_every": 0,
}


@pytest.fixture
def tiny():
    """``tiny(**overrides)``: the tiny run configuration, validated, with overrides."""
    return lambda **overrides: run_config({**TINY, **overrides})
