"""The equations, each defined once, and their registry (``PDES``, ``register``).

A PDE holds its domain, its parameters (paper defaults, overridable), the
interior residual, its initial/boundary conditions as residuals and, where one
exists, the exact solution. The interior residual is a function of the jet of u
at (x, t) (``jets``: "u", "u_t", "u_xx", ...), so the same definition serves the
network (whose forward pass carries the jet), exact solutions (``residual_of``, by
autodiff), training, evaluation and tests. Which entries a residual reads is
found by calling it once (``reads``, ``jets.reads``): the network then carries
exactly those channels, and nothing states them a second time.

Each condition lives on a line: ``initial`` (t = t0, coordinate x) or
``boundary`` (coordinate t, both ends x0 and x1 at once, as periodic or
two-sided Dirichlet conditions need). Its residual is a function of the line
coordinate ``s`` and of ``u(x, t)``, which returns the jet (the entries the
condition reads, ``Condition.reads_of``) at any points; a condition may return several
components per point, on the last axis. Everything broadcasts over points.

The registry is the one list of equation names: schemas, tables and the
workflow derive theirs from it. A new equation is one ``PDE`` passed to
``register``, or listed in a plugin file (``load_plugin``; config
``pde_plugins``, CLI ``--pde-plugin``).
"""
from __future__ import annotations

import contextlib

import importlib
import importlib.util
import math
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Mapping


class _Lazy:
    """A module imported when first used: the registry (names, parameters, conditions) is read
    by config, plan and the workflow without JAX; residuals and exact solutions import it."""

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if self._module is None:
            importlib.import_module("pinnfail.numerics._jax")  # JAX's settings first
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


jnp = _Lazy("jax.numpy")
jets = _Lazy("pinnfail.numerics.jets")


@dataclass(frozen=True)
class Condition:
    """An initial or boundary condition written as a residual on its line."""

    name: str
    line: str  # "initial": s is x at t = t0; "boundary": s is t at x = x0 and x1
    residual: Callable  # (u, s, pde, params) -> residual; u(x, t) -> the jet of u at (x, t)
    order: int | None = None  # optional: the highest derivative it may read (checked by ``reads_of``)

    def reads_of(self, pde: "PDE") -> tuple[str, ...]:
        """The jet entries the residual reads from ``u`` (found by calling it once)."""
        return _checked(jets.reads(lambda d: self.residual(lambda x, t: d, jnp.ones((1,)), pde, pde.defaults)),
                        self.order, f"{pde.name}.{self.name}")

    def residual_of(self, u: Callable, s, pde: "PDE", params):
        """The residual of an elementwise field ``u(x, t)`` (derivatives by autodiff)."""
        keys = self.reads_of(pde)
        return self.residual(lambda x, t: jets.of_callable(u, x, t, keys), s, pde, params)


def _checked(keys: tuple[str, ...], order: int | None, where: str) -> tuple[str, ...]:
    if order is not None and jets.order_of(keys) > order:
        raise ValueError(f"{where}: the residual reads {', '.join(keys)}, beyond its declared order {order}")
    return keys


@dataclass(frozen=True)
class PDE:
    name: str
    title: str
    x_domain: tuple[float, float]
    t_domain: tuple[float, float]
    defaults: Mapping[str, float]
    residual: Callable  # (jet of u at (x, t), x, t, params) -> residual
    conditions: tuple[Condition, ...]
    initial: Callable  # u(x, t0) = initial(x, params)
    exact: Callable | None = None  # (x, t, params) -> array, broadcasting
    doc: str = ""
    default_grid: tuple[int, int] = (101, 101)  # reference grid (nx, nt)
    order: int | None = None  # optional: the highest derivative the residual may read (checked)

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """The jet entries the interior residual reads, in jet order (found by calling it once)."""
        one = jnp.ones((1,))
        return _checked(jets.reads(lambda d: self.residual(d, one, one, self.defaults)), self.order, self.name)

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

    def residual_of(self, u: Callable, x, t, params):
        """The interior residual of an elementwise field ``u(x, t)`` (derivatives by autodiff)."""
        return self.residual(jets.of_callable(u, x, t, self.reads), x, t, params)


def _convection_residual(d, x, t, p):
    return d["u_t"] + p["beta"] * d["u_x"]


def _reaction_residual(d, x, t, p):
    return d["u_t"] - p["rho"] * d["u"] * (1 - d["u"])


def _at(value, s):
    return jnp.full_like(s, value)


def _ends(u, s, pde):
    """The jet at (x0, s) and (x1, s) from one call of u: the two ends on the last axis."""
    return u(jnp.stack([_at(pde.x0, s), _at(pde.x1, s)], axis=-1), jnp.stack([s, s], axis=-1))


def _periodic(u, s, pde, p):
    d = _ends(u, s, pde)
    return d["u"][..., 0] - d["u"][..., 1]


def _periodic_ux(u, s, pde, p):
    d = _ends(u, s, pde)
    return d["u_x"][..., 0] - d["u_x"][..., 1]


def _initial(u, s, pde, p):
    """Initial condition u(x, t0) = pde.initial(x, params)."""
    return u(s, _at(pde.t0, s))["u"] - pde.initial(s, p)


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


def _wave_residual(d, x, t, p):
    return d["u_tt"] - p["c"] ** 2 * d["u_xx"]


def _wave_initial_velocity(u, s, pde, p):
    return u(s, _at(pde.t0, s))["u_t"]


def _wave_dirichlet(u, s, pde, p):
    return _ends(u, s, pde)["u"]


def _allen_cahn_residual(d, x, t, p):
    v = d["u"]
    return d["u_t"] - p["diffusion"] * d["u_xx"] + p["reaction"] * (v**3 - v)


def _allen_cahn_initial(x, p):
    return x**2 * jnp.cos(jnp.pi * x)


TWO_PI = 2 * math.pi

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
    residual=_reaction_residual,
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

PDES: dict[str, PDE] = {}
"""The registry: every equation the tools know, by name, in registration order (the order of
tables and of the schemas' enums). The paper's four come first; ``register`` adds more."""

PLUGIN_ATTRIBUTE = "PINNFAIL_PDES"
_PLUGINS: dict[Path, tuple[PDE, ...]] = {}


def register(pde: PDE) -> PDE:
    """Add ``pde`` to the registry under its name (a new lower-case identifier); returns it."""
    if not isinstance(pde, PDE):
        raise TypeError(f"pde: expected a PDE, got {type(pde).__name__}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", pde.name):
        raise ValueError(f"pde: name {pde.name!r} must be a lower-case identifier ([a-z][a-z0-9_]*)")
    if PDES.get(pde.name, pde) is not pde:
        raise ValueError(f"pde: {pde.name!r} is already registered")
    PDES[pde.name] = pde
    return pde


for _pde in (CONVECTION, REACTION, WAVE, ALLEN_CAHN):
    register(_pde)


def load_plugin(path) -> tuple[PDE, ...]:
    """Register the equations of a plugin: a Python file defining ``PINNFAIL_PDES``, a sequence
    of PDEs (importing it registers nothing by itself). Loading a file again is a no-op."""
    path = Path(path).resolve()
    if path in _PLUGINS:
        return _PLUGINS[path]
    if not path.is_file():
        raise ValueError(f"pde_plugins: no such file {str(path)!r}")
    name = "pinnfail_plugin_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import would (dataclasses and pickling look it up)
    spec.loader.exec_module(module)
    pdes = getattr(module, PLUGIN_ATTRIBUTE, None)
    if pdes is None:
        raise ValueError(f"pde_plugins: {str(path)!r} defines no {PLUGIN_ATTRIBUTE} (a sequence of PDEs)")
    _PLUGINS[path] = tuple(register(pde) for pde in pdes)
    return _PLUGINS[path]


def get_pde(name: str) -> PDE:
    """The PDE called ``name``; an unknown name is a ValueError listing the choices."""
    try:
        return PDES[name]
    except KeyError:
        raise ValueError(f"pde: unknown equation {name!r}; allowed: {sorted(PDES)}") from None


@contextlib.contextmanager
def registry_kept():
    """The registry (``PDES``) and the loaded plugins as they were, after the block: plugins a
    block loads (a dry run of another workflow, a test) leave no equation behind."""
    equations, plugins = dict(PDES), dict(_PLUGINS)
    try:
        yield
    finally:
        for registry, saved in ((PDES, equations), (_PLUGINS, plugins)):
            registry.clear()
            registry.update(saved)
