"""Loss terms and penalties: L2/L1 by hand, double PINN against finite differences."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnfail.numerics import jets
from pinnfail.numerics.collocation import training_points
from pinnfail.numerics.losses import make_objective
from pinnfail.numerics.model import build_network
from pinnfail.numerics.pdes import get_pde


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


def nested_network(net):
    """The same network with its jet by nested forward-mode autodiff, one pass per entry."""
    return dataclasses.replace(
        net, jet=lambda flat, x, t, want: jets.of_callable(lambda a, b: net.apply(flat, a, b), x, t, want))


@pytest.mark.parametrize("pde_name,regularizer,form", [
    *[(p, r, "residual") for p in ("convection", "reaction", "wave", "allen_cahn") for r in ("none", "double")],
    ("convection", "l2", "residual"), ("wave", "double", "loss"), ("allen_cahn", "double", "loss"),
])
def test_objective_and_gradient_equal_nested_autodiff_in_blocks(pde_name, regularizer, form, tiny):
    """The Taylor-mode objective, accumulated over blocks of domain points (9 x 7 points in blocks
    of at most 5: 13 blocks of 5, 2 padded points), equals the nested-autodiff objective over
    all points at once, value and gradient, to round-off (FP64)."""
    cfg = tiny(pde=pde_name, regularizer=regularizer, double_form=form, precision="fp64", grid=[9, 7],
               n_initial=6, n_boundary=5, depth=3, width=12, point_block=5,
               **{"lambda": 0.0 if regularizer == "none" else 0.3})
    pde = get_pde(pde_name)
    net = build_network(pde, cfg)
    # zero biases would hide a mistake in how the bias moves the value channel only
    flat = net.flat_init + 0.1 * jax.random.normal(jax.random.PRNGKey(1), net.flat_init.shape, jnp.float64)
    pts = points(cfg)
    fast = make_objective(pde, net, cfg)
    slow = make_objective(pde, nested_network(net), {**cfg, "point_block": 0})
    v_fast, g_fast = jax.jit(jax.value_and_grad(fast.total))(flat, pts)
    v_slow, g_slow = jax.jit(jax.value_and_grad(slow.total))(flat, pts)
    assert abs(float(v_fast) - float(v_slow)) <= 1e-12 * abs(float(v_slow))
    scale = float(jnp.max(jnp.abs(g_slow)))
    assert scale > 1e-6  # not a vacuous comparison
    np.testing.assert_allclose(g_fast, g_slow, rtol=0, atol=1e-12 * scale)
    # the blocked value alone, and terms + penalty, agree with it
    assert abs(float(fast.total(flat, pts)) - float(v_slow)) <= 1e-12 * abs(float(v_slow))
    parts = sum(float(v) for v in fast.terms(flat, pts).values()) + float(fast.penalty(flat, pts))
    assert abs(parts - float(v_slow)) <= 1e-12 * abs(float(v_slow))


def test_gradient_in_lambda_is_the_penalty_over_lambda(tiny):
    """d total / d lambda = penalty / lambda (the blocked gradient carries lambda's too)."""
    cfg = tiny(regularizer="double", precision="fp64", grid=[8, 8], point_block=10, **{"lambda": 0.5})
    net, obj = objective_for(cfg)
    pts = points(cfg)
    d_lam = jax.grad(lambda lam: obj.total(net.flat_init, pts, lam))(jnp.float64(0.5))
    assert np.isclose(float(d_lam), float(obj.penalty(net.flat_init, pts)) / 0.5, rtol=1e-12)


def test_point_blocks():
    from pinnfail.numerics.losses import point_block as block
    assert block(None, 4096) == 4096 and block(0, 4096) == 4096 and block(5000, 4096) == 4096
    assert block(256, 400) == 200  # two equal blocks, no padding
    assert block(256, 4096) == 256
    assert block(5, 63) == 5 and block(10, 63) == 9  # 7 blocks of 9: no padding
    for setting, n in [(7, 50), (33, 100), (1, 3)]:
        size = block(setting, n)
        count = -(-n // size)
        assert size <= setting and count * size - n < count  # padding below one point per block
