"""The four benchmark equations, each defined once.

A PDE holds its domain, its parameters (paper defaults, overridable), the
interior residual operator, its initial/boundary conditions as residuals and,
where one exists, the exact solution. Operators act on a scalar callable
``u(x, t)``; derivatives come from JAX forward-mode autodiff, so the same
definition serves training, evaluation, tests and plots.

Each condition lives on a line: ``initial`` (t = t0, coordinate x) or
``boundary`` (coordinate t, both ends x0 and x1 at once, as periodic or
two-sided Dirichlet conditions need). Its residual is a function of the line
coordinate ``s``; a condition may return several components per point.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import jax
import jax.numpy as jnp

Scalar = jax.Array
U = Callable[[Scalar, Scalar], Scalar]


def d_dx(u: U) -> U:
    """Partial derivative in x of a scalar field (forward mode)."""
    return lambda x, t: jax.jvp(lambda x_: u(x_, t), (x,), (jnp.ones_like(x),))[1]


def d_dt(u: U) -> U:
    """Partial derivative in t of a scalar field (forward mode)."""
    return lambda x, t: jax.jvp(lambda t_: u(x, t_), (t,), (jnp.ones_like(t),))[1]


@dataclass(frozen=True)
class Condition:
    """An initial or boundary condition written as a residual on its line."""

    name: str
    line: str  # "initial": s is x at t = t0; "boundary": s is t at x = x0 and x1
    residual: Callable  # (u, s, pde, params) -> scalar or 1-D array


@dataclass(frozen=True)
class PDE:
    name: str
    title: str
    x_domain: tuple[float, float]
    t_domain: tuple[float, float]
    defaults: Mapping[str, float]
    residual: Callable  # (u, x, t, params) -> scalar
    conditions: tuple[Condition, ...]
    initial: Callable  # u(x, t0) = initial(x, params)
    exact: Callable | None = None  # (x, t, params) -> array, broadcasting
    doc: str = ""
    default_grid: tuple[int, int] = (101, 101)  # reference grid (nx, nt)

    @property
    def x0(self) -> float:
        return self.x_domain[0]

    @property
    def x1(self) -> float:
        return self.x_domain[1]

    @property
    def t0(self) -> float:
        return self.t_domain[0]

    @property
    def t1(self) -> float:
        return self.t_domain[1]

    @property
    def condition_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.conditions)

    def params(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """Parameters with ``overrides`` applied; unknown names are an error."""
        params = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in params:
                raise ValueError(
                    f"pdes.{self.name}.{key}: unknown parameter; allowed: {sorted(params)}"
                )
            params[key] = float(value)
        return params


def _convection_residual(u, x, t, p):
    return d_dt(u)(x, t) + p["beta"] * d_dx(u)(x, t)


def _periodic(u, s, pde, p):
    return u(jnp.full_like(s, pde.x0), s) - u(jnp.full_like(s, pde.x1), s)


def _periodic_ux(u, s, pde, p):
    ux = d_dx(u)
    return ux(jnp.full_like(s, pde.x0), s) - ux(jnp.full_like(s, pde.x1), s)


def _initial(u, s, pde, p):
    """Initial condition u(x, t0) = pde.initial(x, params)."""
    return u(s, jnp.full_like(s, pde.t0)) - pde.initial(s, p)


def _reaction_h(x, p):
    return jnp.exp(-((x - jnp.pi) ** 2) / (2 * (jnp.pi / 4) ** 2))


def _reaction_exact(x, t, p):
    h = _reaction_h(x, p)
    g = h * jnp.exp(p["rho"] * t)
    return g / (g + 1 - h)


def _wave_initial(x, p):
    return jnp.sin(jnp.pi * x) + 0.5 * jnp.sin(p["beta"] * jnp.pi * x)


def _wave_exact(x, t, p):
    c, b = p["c"], p["beta"]
    return jnp.sin(jnp.pi * x) * jnp.cos(c * jnp.pi * t) + 0.5 * jnp.sin(
        b * jnp.pi * x
    ) * jnp.cos(c * b * jnp.pi * t)


def _wave_residual(u, x, t, p):
    return d_dt(d_dt(u))(x, t) - p["c"] ** 2 * d_dx(d_dx(u))(x, t)


def _wave_initial_velocity(u, s, pde, p):
    return d_dt(u)(s, jnp.full_like(s, pde.t0))


def _wave_dirichlet(u, s, pde, p):
    return jnp.stack([u(jnp.full_like(s, pde.x0), s), u(jnp.full_like(s, pde.x1), s)])


def _allen_cahn_residual(u, x, t, p):
    v = u(x, t)
    return d_dt(u)(x, t) - p["diffusion"] * d_dx(d_dx(u))(x, t) + p["reaction"] * (v**3 - v)


def _allen_cahn_initial(x, p):
    return x**2 * jnp.cos(jnp.pi * x)


TWO_PI = 2 * float(jnp.pi)

CONVECTION = PDE(
    name="convection",
    title="Convection",
    x_domain=(0.0, TWO_PI),
    t_domain=(0.0, 1.0),
    defaults={"beta": 50.0},
    residual=_convection_residual,
    conditions=(
        Condition("initial", "initial", _initial),
        Condition("periodic", "boundary", _periodic),
    ),
    exact=lambda x, t, p: jnp.sin(x - p["beta"] * t),
    initial=lambda x, p: jnp.sin(x),
    doc="u_t + beta u_x = 0, u(x,0) = sin x, periodic in x",
    default_grid=(256, 101),
)

REACTION = PDE(
    name="reaction",
    title="Reaction",
    x_domain=(0.0, TWO_PI),
    t_domain=(0.0, 1.0),
    defaults={"rho": 5.0},
    residual=lambda u, x, t, p: d_dt(u)(x, t) - p["rho"] * u(x, t) * (1 - u(x, t)),
    conditions=(
        Condition("initial", "initial", _initial),
        Condition("periodic", "boundary", _periodic),
    ),
    exact=_reaction_exact,
    initial=_reaction_h,
    doc="u_t - rho u (1 - u) = 0, u(x,0) = exp(-(x-pi)^2 / (2 (pi/4)^2)), periodic in x",
    default_grid=(256, 101),
)

WAVE = PDE(
    name="wave",
    title="Wave",
    x_domain=(0.0, 1.0),
    t_domain=(0.0, 1.0),
    defaults={"c": 2.0, "beta": 3.0},
    residual=_wave_residual,
    conditions=(
        Condition("initial", "initial", _initial),
        Condition("initial_velocity", "initial", _wave_initial_velocity),
        Condition("dirichlet", "boundary", _wave_dirichlet),
    ),
    exact=_wave_exact,
    initial=_wave_initial,
    doc="u_tt - c^2 u_xx = 0, u(x,0) = sin(pi x) + 0.5 sin(beta pi x), u_t(x,0) = 0, u(0,t) = u(1,t) = 0",
    default_grid=(201, 201),
)

ALLEN_CAHN = PDE(
    name="allen_cahn",
    title="Allen-Cahn",
    x_domain=(-1.0, 1.0),
    t_domain=(0.0, 1.0),
    defaults={"diffusion": 1e-4, "reaction": 5.0},
    residual=_allen_cahn_residual,
    conditions=(
        Condition("initial", "initial", _initial),
        Condition("periodic", "boundary", _periodic),
        Condition("periodic_ux", "boundary", _periodic_ux),
    ),
    exact=None,
    doc="u_t - d u_xx + k (u^3 - u) = 0, u(x,0) = x^2 cos(pi x), periodic in u and u_x",
    initial=_allen_cahn_initial,
    default_grid=(512, 201),
)

PDES: dict[str, PDE] = {p.name: p for p in (CONVECTION, REACTION, WAVE, ALLEN_CAHN)}


def get_pde(name: str) -> PDE:
    """The PDE called ``name``; an unknown name is a ValueError listing the choices."""
    try:
        return PDES[name]
    except KeyError:
        raise ValueError(f"pde: unknown equation {name!r}; allowed: {sorted(PDES)}") from None

