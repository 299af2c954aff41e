"""A new equation with Dirichlet ends as a pinnfail plugin: the 1-D heat equation

    u_t - k u_xx = 0 on [0, 1] x [0, 1],  u(x, 0) = sin(pi x),  u(0, t) = u(1, t) = 0,

whose exact solution is u = exp(-k pi^2 t) sin(pi x). Name this file in the config
(`pde_plugins: [docs/examples/heat.py]`) or on the command line, before or after the subcommand
(`pinnfail train --pde-plugin docs/examples/heat.py --pde heat ...`). tests/test_docs.py trains
and evaluates it for a few iterations through that path; the workflow tests run it through
reference, training, evaluation and Table 1.
"""
import jax.numpy as jnp

from pinnfail.numerics.pdes import PDE, Condition


def initial(u, s, pde, p):
    """u(x, t0) - sin(pi x) on the initial line (s is x)."""
    return u(s, jnp.full_like(s, pde.t0))["u"] - pde.initial(s, p)


def dirichlet(u, s, pde, p):
    """u(x0, t) and u(x1, t), each zero: both ends in one call of u (s is t). A condition's
    residual may have a trailing axis: its loss is the mean square over all of it."""
    ends = jnp.stack([jnp.full_like(s, pde.x0), jnp.full_like(s, pde.x1)], axis=-1)
    return u(ends, jnp.stack([s, s], axis=-1))["u"]


HEAT = PDE(
    name="heat",
    title="Heat",
    x_domain=(0.0, 1.0),
    t_domain=(0.0, 1.0),
    defaults={"k": 0.1},
    # the residual reads u_t and u_xx: the network's Taylor pass carries exactly those
    residual=lambda d, x, t, p: d["u_t"] - p["k"] * d["u_xx"],
    conditions=(Condition("initial", "initial", initial), Condition("dirichlet", "boundary", dirichlet)),
    initial=lambda x, p: jnp.sin(jnp.pi * x),
    exact=lambda x, t, p: jnp.exp(-p["k"] * jnp.pi**2 * t) * jnp.sin(jnp.pi * x),
    doc="u_t - k u_xx = 0, u(x,0) = sin(pi x), u(0,t) = u(1,t) = 0",
)
PINNFAIL_PDES = (HEAT,)
