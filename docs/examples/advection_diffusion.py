"""A new equation as a pinnfail plugin: periodic advection-diffusion

    u_t + c u_x - nu u_xx = 0 on [0, 2 pi] x [0, 1],  u(x, 0) = sin x,  periodic in x,

whose exact solution is u = exp(-nu t) sin(x - c t). Name this file in the config
(`pde_plugins: [docs/examples/advection_diffusion.py]`) or on the command line
(`pinnfail --pde-plugin docs/examples/advection_diffusion.py train --pde advection_diffusion ...`);
tests/test_docs.py trains it for a few iterations through that path.
"""
import jax.numpy as jnp

from pinnfail.numerics.pdes import PDE, Condition


def initial(u, s, pde, p):
    """u(x, t0) - sin x on the initial line (s is x)."""
    return u(s, jnp.full_like(s, pde.t0))["u"] - pde.initial(s, p)


def periodic(u, s, pde, p):
    """u(x0, t) - u(x1, t) on the boundary (s is t); both ends in one call of u."""
    ends = u(jnp.stack([jnp.full_like(s, pde.x0), jnp.full_like(s, pde.x1)], -1), jnp.stack([s, s], -1))
    return ends["u"][..., 0] - ends["u"][..., 1]


ADVECTION_DIFFUSION = PDE(
    name="advection_diffusion",
    title="Advection-diffusion",
    x_domain=(0.0, 2 * float(jnp.pi)),
    t_domain=(0.0, 1.0),
    defaults={"c": 5.0, "nu": 0.1},
    # the residual reads u_t, u_x and u_xx: the network's Taylor pass carries exactly those
    residual=lambda d, x, t, p: d["u_t"] + p["c"] * d["u_x"] - p["nu"] * d["u_xx"],
    conditions=(Condition("initial", "initial", initial), Condition("periodic", "boundary", periodic)),
    initial=lambda x, p: jnp.sin(x),
    exact=lambda x, t, p: jnp.exp(-p["nu"] * t) * jnp.sin(x - p["c"] * t),
    doc="u_t + c u_x - nu u_xx = 0, u(x,0) = sin x, periodic in x",
)
PINNFAIL_PDES = (ADVECTION_DIFFUSION,)
