"""A reference solution as data: ``Reference`` (the solution on a regular (x, t) grid) and its
settings, their defaults and checks, and the method that computes it; what a reference file
records (``artifacts.formats``). The solvers are ``numerics.reference``: editing them reruns the
references, not the training that reads nothing of them.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from pinnfail.numerics.pdes import PDE, get_pde


@dataclass(frozen=True, eq=False)
class Reference:
    """u[i, j] = u(x[j], t[i]); ``wall_time`` is the computing time in seconds, if known."""

    pde: str
    x: np.ndarray
    t: np.ndarray
    u: np.ndarray
    params: dict
    settings: dict
    wall_time: float | None = None


SPECTRAL_DEFAULTS = {
    "modes": 2048,  # grid points (and real Fourier modes) of the spectral solver; even
    "dt": 1e-3,  # largest ETDRK4 step; shrunk so every output time is a whole number of steps
    "contour_points": 64,  # points on the half circle of the phi-function contour integrals
    "ic_oversample": 64,  # initial Fourier coefficients from an FFT on modes * ic_oversample points
}


def method_of(pde: PDE) -> str:
    if pde.exact is not None:
        return "analytic"
    if pde.name == "allen_cahn":
        return "fourier-etdrk4"
    raise ValueError(f"reference.pde: no reference method for {pde.name!r}")


def default_settings(pde_name: str) -> dict:
    """Output grid sizes ``nx``, ``nt`` (``pde.default_grid``) and, for a spectral solve,
    the solver settings."""
    pde = get_pde(pde_name)
    nx, nt = pde.default_grid
    settings = {"nx": nx, "nt": nt}
    if method_of(pde) == "fourier-etdrk4":
        settings.update(SPECTRAL_DEFAULTS)
    return settings


def _integer(key: str, value, minimum: int, even: bool = False) -> int:
    ok = isinstance(value, Integral) and not isinstance(value, bool) and value >= minimum
    if ok and even:
        ok = value % 2 == 0
    if not ok:
        kind = "an even integer" if even else "an integer"
        raise ValueError(f"reference.{key}: must be {kind} >= {minimum}, got {value!r}")
    return int(value)


def _positive(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < math.inf:
        raise ValueError(f"reference.{key}: must be a finite number > 0, got {value!r}")
    return float(value)


_CHECKS = {
    "nx": lambda v: _integer("nx", v, 2),
    "nt": lambda v: _integer("nt", v, 2),
    "modes": lambda v: _integer("modes", v, 8, even=True),
    "dt": lambda v: _positive("dt", v),
    "contour_points": lambda v: _integer("contour_points", v, 4),
    "ic_oversample": lambda v: _integer("ic_oversample", v, 1),
}


def checked_settings(pde_name: str, settings: dict | None) -> dict:
    """``settings`` merged over the defaults and checked."""
    merged = default_settings(pde_name)
    for key in settings or {}:
        if key not in merged:
            raise ValueError(
                f"reference.{key}: unknown setting for {pde_name}; allowed: {sorted(merged)}"
            )
    merged.update(settings or {})
    return {key: _CHECKS[key](value) for key, value in merged.items()}


def checked(ref: Reference) -> tuple[Reference, str]:
    """``ref`` with its settings checked and completed, and the method that computes it
    (``analytic`` or ``fourier-etdrk4``): what its file records. Invalid settings raise
    ValueError."""
    return dataclasses.replace(ref, settings=checked_settings(ref.pde, ref.settings)), method_of(get_pde(ref.pde))
