"""Loss terms and penalties: L2/L1 by hand, double PINN against finite differences."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnfail import jets
from pinnfail.collocation import training_points
from pinnfail.losses import make_objective
from pinnfail.model import build_network
from pinnfail.pdes import get_pde


def points(config):
    pde = get_pde(config["pde"])
    dtype = np.float64 if config["precision"] == "fp64" else np.float32
    return {k: jnp.asarray(v) for k, v in training_points(pde, config, dtype).items()}


def objective_for(config):
    pde = get_pde(config["pde"])
    net = build_network(pde, config)
    return net, make_objective(pde, net, config)


@pytest.mark.parametrize("regularizer", ["l2", "l1"])
def test_weight_penalties_by_hand(regularizer, tiny):
    cfg = tiny(regularizer=regularizer, precision="fp64", **{"lambda": 0.3})
    net, obj = objective_for(cfg)
    params = net.unravel(net.flat_init)
    kernels = [np.asarray(layer["kernel"][...]) for layer in params["layers"].values()]
    expected = 0.15 * sum((k**2).sum() for k in kernels) if regularizer == "l2" else 0.3 * sum(
        np.abs(k).sum() for k in kernels)
    pts = points(cfg)
    assert np.isclose(float(obj.penalty(net.flat_init, pts)), expected, rtol=1e-12)
    assert np.isclose(float(obj.total(net.flat_init, pts)),
                      sum(float(v) for v in obj.terms(net.flat_init, pts).values()) + expected, rtol=1e-12)


@pytest.mark.parametrize("form", ["residual", "loss"])
@pytest.mark.parametrize("coords", ["physical", "normalized"])
@pytest.mark.parametrize("pde_name", ["convection", "wave"])
def test_double_penalty_matches_finite_differences(form, coords, pde_name, tiny):
    lam = 0.7
    cfg = tiny(pde=pde_name, regularizer="double", double_form=form, double_coords=coords,
               precision="fp64", **{"lambda": lam})
    pde = get_pde(pde_name)
    net, obj = objective_for(cfg)
    pts = points(cfg)
    p = pde.params()
    flat = net.flat_init
    u = lambda x, t: net.apply(flat, x, t)  # noqa: E731
    h = 1e-5
    sx = (pde.x1 - pde.x0) / 2 if coords == "normalized" else 1.0
    st = (pde.t1 - pde.t0) / 2 if coords == "normalized" else 1.0

    def g(r):  # the quantity whose input-gradient is penalized
        return r if form == "residual" else r**2

    # each point's quantity on its own (vmap of the pointwise function: no batch coupling),
    # central differences point by point
    dom = jax.jit(jax.vmap(lambda x, t: g(pde.residual_of(u, x, t, p))))

    expected = 0.0
    x, t = np.asarray(pts["domain"]).T
    dx = np.asarray(dom(x + h, t) - dom(x - h, t)) / (2 * h) * sx
    dt = np.asarray(dom(x, t + h) - dom(x, t - h)) / (2 * h) * st
    expected += np.mean(dx**2) + np.mean(dt**2)
    for c in pde.conditions:
        scale = sx if c.line == "initial" else st
        s = np.asarray(pts[c.name])
        cond = jax.jit(jax.vmap(lambda v, c=c: g(c.residual_of(u, v, pde, p))))
        ds = np.asarray(cond(s + h) - cond(s - h)) / (2 * h) * scale
        expected += np.mean(ds**2)
    got = float(obj.penalty(flat, pts))
    assert np.isclose(got, lam * expected, rtol=1e-6), (got, lam * expected)


def test_double_penalty_vanishes_for_exact_solution_in_residual_form(tiny):
    # the exact solution has r = 0 everywhere, so every residual gradient is zero
    cfg = tiny(regularizer="double", precision="fp64", **{"lambda": 1.0})
    pde = get_pde("convection")
    p = pde.params()
    net, obj = objective_for(cfg)
    def exact_jet(flat, x, t, order):
        return jets.of_callable(lambda a, b: pde.exact(a, b, p), x, t, order)

    exact_net = dataclasses.replace(net, jet=exact_jet)
    obj = make_objective(pde, exact_net, cfg)
    assert float(obj.penalty(net.flat_init, points(cfg))) < 1e-20
