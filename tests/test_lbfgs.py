"""L-BFGS: the compact direction against optax's two-loop recursion, masked updates, solving."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnfail.numerics import lbfgs as lbfgs_module
from pinnfail.numerics.lbfgs import compact_lbfgs_update, lbfgs, scale_by_compact_lbfgs
from pinnfail.numerics.schedule import Problem


@pytest.mark.parametrize("products", ["platform", "reduction"])
def test_compact_direction_equals_optax_two_loop(products, monkeypatch):
    """Both forms of the history products (the GPU's reduction runs here too) match optax."""
    if products == "reduction":
        monkeypatch.setattr(lbfgs_module, "history_products", lbfgs_module._products_by_reduction)
    rng = np.random.default_rng(0)
    n, m = 40, 6
    a = rng.normal(size=(n, n))
    hess = a @ a.T / n + 0.1 * np.eye(n)
    grad_fn = lambda x: hess @ x - 1.0  # noqa: E731
    for dtype, tol in ((jnp.float64, 1e-12), (jnp.float32, 2e-5)):
        ours, ref = scale_by_compact_lbfgs(m), optax.scale_by_lbfgs(m)
        update_ours, update_ref = jax.jit(ours.update), jax.jit(ref.update)  # compiled once, not op by op
        x = jnp.zeros(n, dtype)
        s_ours, s_ref = ours.init(x), ref.init(x)
        for _ in range(3 * m):  # wraps the ring buffer twice
            g = jnp.asarray(grad_fn(np.asarray(x, np.float64)), dtype)
            d_ours, s_ours = update_ours(g, s_ours, x)
            d_ref, s_ref = update_ref(g, s_ref, x)
            assert d_ours.dtype == dtype
            assert float(jnp.linalg.norm(d_ours - d_ref) / jnp.linalg.norm(d_ref)) < tol
            x = x - 0.2 * d_ours


def test_lbfgs_solves_quadratic_like_optax():
    rng = np.random.default_rng(1)
    n = 30
    a = rng.normal(size=(n, n))
    hess = jnp.asarray(a @ a.T / n + 0.05 * np.eye(n))
    b = jnp.asarray(rng.normal(size=n))
    f = lambda x: 0.5 * x @ hess @ x - b @ x  # noqa: E731
    solution = np.linalg.solve(np.asarray(hess), np.asarray(b))
    for opt in (lbfgs(10), lbfgs(10, linesearch="zoom"), optax.lbfgs(memory_size=10)):
        x, state = jnp.zeros(n), opt.init(jnp.zeros(n))
        vg = optax.value_and_grad_from_state(f)
        step = jax.jit(lambda x, s: _step(opt, vg, f, x, s))
        for _ in range(100):
            x, state = step(x, state)
        assert np.abs(np.asarray(x) - solution).max() < 1e-8


def _step(opt, vg, f, x, state):
    v, g = vg(x, state=state)
    u, state = opt.update(g, state, x, value=v, grad=g, value_fn=f)
    return optax.apply_updates(x, u), state


def test_lbfgs_direction_matches_optax_along_a_pinn_run(tiny):
    """Feed optax's scale_by_lbfgs the iterates of our optimizer on a PINN: same directions."""
    cfg = tiny(precision="fp64", memory=5)
    problem = Problem.from_config(cfg)
    total, pts = problem.objective.total, problem.train_points
    opt = problem.optimizer
    vg = optax.value_and_grad_from_state(total)
    x, state = problem.network.flat_init, opt.init(problem.network.flat_init)
    ref = optax.scale_by_lbfgs(5)
    s_ref = ref.init(x)
    # each piece compiled once (not op by op): the same computations, fed the same iterates
    value_grad = jax.jit(lambda x, state: vg(x, pts, state=state))
    ours_update = jax.jit(lambda g, state, x: scale_by_compact_lbfgs(5).update(g, lbfgs_module.history(state), x))
    ref_update = jax.jit(ref.update)
    opt_update = jax.jit(lambda g, state, x, v: opt.update(g, state, x, value=v, grad=g,
                                                            value_fn=lambda p: total(p, pts)))
    losses = []
    for _ in range(15):
        v, g = value_grad(x, state)
        ours_dir, _ = ours_update(g, state, x)
        ref_dir, s_ref = ref_update(g, s_ref, x)
        assert float(jnp.linalg.norm(ours_dir - ref_dir) / jnp.linalg.norm(ref_dir)) < 1e-10
        u, state = opt_update(g, state, x, v)
        x = x + u
        losses.append(float(v))
    assert losses[-1] < 0.5 * losses[0]


def test_masked_lbfgs_update_leaves_the_state_unchanged():
    """apply=False keeps every leaf bitwise; apply=True is the plain update."""
    rng = np.random.default_rng(3)
    opt = scale_by_compact_lbfgs(4)
    x = jnp.asarray(rng.normal(size=12))
    state = opt.init(x)
    for _ in range(6):  # fill and wrap the history
        g = jnp.asarray(rng.normal(size=12))
        direction, state = opt.update(g, state, x)
        x = x - 0.1 * direction
    g = jnp.asarray(rng.normal(size=12))
    plain_dir, plain = compact_lbfgs_update(g, state, x)
    kept_dir, kept = compact_lbfgs_update(g, state, x, jnp.asarray(False))
    applied_dir, applied = compact_lbfgs_update(g, state, x, jnp.asarray(True))
    for old, same, new, ref in zip(state, kept, applied, plain):
        np.testing.assert_array_equal(same, old)
        np.testing.assert_array_equal(new, ref)
    np.testing.assert_array_equal(applied_dir, plain_dir)
