"""Training and test point sets, derived from a PDE's domain and conditions.

A point set maps each loss term to its points: ``"domain"`` to an (n, 2)
array of (x, t), each condition name to its 1-D line coordinates (x on the
initial line, t on a boundary line).
"""
from __future__ import annotations

import numpy as np

from pinnfail.numerics.pdes import PDE

TEST_SEED_OFFSET = 1_000_003  # test points never share a stream with anything else


def _line(pde: PDE, line: str, n: int, dtype) -> np.ndarray:
    lo, hi = (pde.x0, pde.x1) if line == "initial" else (pde.t0, pde.t1)
    return np.linspace(lo, hi, n, dtype=np.float64).astype(dtype)


def training_points(pde: PDE, config: dict, dtype) -> dict[str, np.ndarray]:
    """The regular training grid plus linspaced points on every condition's line."""
    nx, nt = config["grid"]
    x = np.linspace(pde.x0, pde.x1, nx)
    t = np.linspace(pde.t0, pde.t1, nt)
    xx, tt = np.meshgrid(x, t, indexing="ij")
    points = {"domain": np.stack([xx.ravel(), tt.ravel()], axis=1).astype(dtype)}
    for c in pde.conditions:
        n = config["n_initial"] if c.line == "initial" else config["n_boundary"]
        points[c.name] = _line(pde, c.line, n, dtype)
    return points


def test_points(pde: PDE, config: dict, dtype, seed: int | None = None) -> dict[str, np.ndarray]:
    """Uniformly random domain points (seeded) and linspaced points on every line."""
    seed = config["seed"] if seed is None else seed
    rng = np.random.default_rng(seed + TEST_SEED_OFFSET)
    n = config["n_test_domain"]
    xt = rng.uniform([pde.x0, pde.t0], [pde.x1, pde.t1], size=(n, 2))
    points = {"domain": xt.astype(dtype)}
    for c in pde.conditions:
        points[c.name] = _line(pde, c.line, config["n_test_line"], dtype)
    return points


def count_points(points: dict[str, np.ndarray]) -> int:
    """N of the paper: all training points over all sets (of arrays made by ``training_points``)."""
    return int(sum(len(p) for p in points.values()))


def n_points(pde: PDE, config: dict) -> int:
    """N of the paper from a run's settings alone, without making the points: the grid plus the
    points of every condition's line (``training_points`` makes exactly these). Table 1, the run's
    provenance and ``pinnfail cost`` all count with it."""
    nx, nt = config["grid"]
    return nx * nt + sum(config["n_initial"] if c.line == "initial" else config["n_boundary"] for c in pde.conditions)
