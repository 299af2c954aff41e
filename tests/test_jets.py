"""Taylor jets: the network's one-pass derivatives equal nested autodiff of its output."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnfail  # noqa: F401  (enables x64)
from pinnfail.numerics import jets
from pinnfail.numerics.config import run_config
from pinnfail.numerics.model import ACTIVATIONS, build_network
from pinnfail.numerics.pdes import get_pde


def network(activation, precision="fp64", pde="allen_cahn"):
    cfg = run_config({"pde": pde, "depth": 3, "width": 16, "activation": activation,
                      "precision": precision, "seed": 3})
    return build_network(get_pde(pde), cfg)


def random_points(pde_name, n, dtype=jnp.float64):
    pde = get_pde(pde_name)
    kx, kt = jax.random.split(jax.random.PRNGKey(7))
    x = jax.random.uniform(kx, (n,), dtype, pde.x0, pde.x1)
    t = jax.random.uniform(kt, (n,), dtype, pde.t0, pde.t1)
    return x, t


def test_multi_indices_and_names():
    assert jets.names(2) == ["u", "u_x", "u_t", "u_xx", "u_xt", "u_tt"]
    assert len(jets.multi_indices(3)) == 10
    jet = {name: jnp.float64(n) for n, name in enumerate(jets.names(3))}
    assert jets.shift(jet, "x", 1) == {"u": jet["u_x"], "u_x": jet["u_xx"], "u_t": jet["u_xt"]}
    assert jets.shift(jet, "t", 1) == {"u": jet["u_t"], "u_x": jet["u_xt"], "u_t": jet["u_tt"]}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_network_jet_equals_nested_autodiff(activation):
    net = network(activation)
    x, t = random_points("allen_cahn", 32)
    flat = net.flat_init
    # perturb the zero-initialized biases so every layer's shift matters
    flat = flat + 0.1 * jax.random.normal(jax.random.PRNGKey(0), flat.shape, flat.dtype)
    fast = net.jet(flat, x, t, 3)
    # nested autodiff compiled: faster than op by op (a jitted dict comes back in sorted order)
    slow = jax.jit(lambda f: jets.of_callable(lambda a, b: net.apply(f, a, b), x, t, 3))(flat)
    assert list(fast) == jets.names(3)
    for name in jets.names(3):
        scale = float(jnp.max(jnp.abs(slow[name]))) + 1e-30
        np.testing.assert_allclose(fast[name], slow[name], rtol=0, atol=1e-12 * scale, err_msg=name)
        assert float(jnp.max(jnp.abs(slow[name]))) > 1e-8, name  # not a vacuous comparison


def test_network_jet_shapes_dtypes_and_scalars():
    net = network("tanh", "fp32", "convection")
    x, t = random_points("convection", 6, jnp.float32)
    grid = net.jet(net.flat_init, x.reshape(2, 3), t.reshape(2, 3), 1)
    assert all(v.shape == (2, 3) and v.dtype == jnp.float32 for v in grid.values())
    point = net.jet(net.flat_init, x[4], t[4], 2)
    assert all(v.shape == () for v in point.values())
    np.testing.assert_allclose(point["u_x"], grid["u_x"][1, 1], rtol=1e-6)
    assert net.apply(net.flat_init, x, t).shape == (6,)


def test_gradient_through_the_jet_matches_nested_autodiff():
    """The loss gradient w.r.t. the parameters agrees too (what training uses)."""
    net = network("tanh", pde="wave")
    x, t = random_points("wave", 16)

    def loss(jet_fn, flat):
        d = jet_fn(flat)
        return jnp.mean((d["u_tt"] - 4 * d["u_xx"]) ** 2 + d["u_xxt"] ** 2)

    fast = jax.jit(jax.grad(lambda f: loss(lambda p: net.jet(p, x, t, 3), f)))(net.flat_init)
    slow = jax.jit(jax.grad(lambda f: loss(lambda p: jets.of_callable(lambda a, b: net.apply(p, a, b), x, t, 3), f)))(
        net.flat_init)
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12 * float(jnp.max(jnp.abs(slow))))


def test_names_indices_closure_and_shifts():
    for key in jets.names(4):
        assert jets.name(jets.index(key)) == key
    with pytest.raises(KeyError):
        jets.index("u_tx")  # x before t
    assert jets.closure([(2, 1)]) == ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (2, 1))
    assert jets.ordered(["u_xx", "u", "u_t", "u"]) == ("u", "u_t", "u_xx")
    assert jets.shifted(("u", "u_t", "u_xx"), "x") == ("u_x", "u_xt", "u_xxx")
    jet = {name: jnp.float64(n) for n, name in enumerate(jets.names(3))}
    assert jets.shift(jet, "t", ["u_xx"]) == {"u_xx": jet["u_xxt"]}


def test_reads_records_what_a_function_reads():
    assert jets.reads(lambda d: d["u_t"] - 0.1 * d["u_xx"] + d["u"] ** 3) == ("u", "u_t", "u_xx")
    assert jets.reads(lambda d: jnp.sin(d["u_xt"])) == ("u_xt",)
    with pytest.raises(KeyError):
        jets.reads(lambda d: d["v_x"])


def test_faa_di_bruno_merges_equal_partitions():
    # d^3 f(h)/dx^3 = f''' h_x^3 + 3 f'' h_x h_xx + f' h_xxx: 3 terms for the 5 set partitions
    assert jets.faa_di_bruno((3, 0)) == ((1, ((1, ((3, 0),)),)), (2, ((3, ((1, 0), (2, 0))),)),
                                         (3, ((1, ((1, 0), (1, 0), (1, 0))),)))
    for a in jets.multi_indices(4)[1:]:
        bell = sum(c for _, terms in jets.faa_di_bruno(a) for c, _ in terms)
        assert bell == [1, 1, 2, 5, 15][sum(a)]  # every set partition counted once


@pytest.mark.parametrize("f", [jnp.tanh, jnp.sin])
def test_closed_form_activation_derivatives(f):
    z = jnp.linspace(-2.0, 2.0, 9, dtype=jnp.float64)
    closed = jets.DERIVATIVES[f](z, 4)
    g, auto = f, [f(z)]
    for _ in range(4):
        g = (lambda h: lambda v: jax.jvp(h, (v,), (jnp.ones_like(v),))[1])(g)
        auto.append(g(z))
    for k, (a, b) in enumerate(zip(closed, auto)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"order {k}")


def test_network_jet_of_named_entries():
    """Asking for a few entries gives exactly those, equal to the full jet's."""
    net = network("tanh")
    x, t = random_points("allen_cahn", 16)
    full = net.jet(net.flat_init, x, t, 3)
    some = net.jet(net.flat_init, x, t, ["u_xxt", "u"])
    assert list(some) == ["u_xxt", "u"]
    for key in some:
        np.testing.assert_allclose(some[key], full[key], rtol=1e-13, atol=1e-15)
