"""The network: initialization, precision, input normalization."""
import jax.numpy as jnp
import numpy as np

from pinnfail.numerics.model import build_network, weight_mask
from pinnfail.numerics.pdes import get_pde


def test_network_init_and_precision(tiny):
    for precision, dtype in (("fp32", jnp.float32), ("fp64", jnp.float64)):
        cfg = tiny(precision=precision)
        net = build_network(get_pde("convection"), cfg)
        assert net.flat_init.dtype == dtype
        params = net.unravel(net.flat_init)
        assert all(float(jnp.abs(layer["bias"][...]).max()) == 0 for layer in params["layers"].values())
        # Glorot normal: std = sqrt(2 / (fan_in + fan_out)) (truncated, so a bit smaller)
        hidden = np.asarray(params["layers"][1]["kernel"][...])
        assert 0.6 * np.sqrt(2 / 16) < hidden.std() < 1.1 * np.sqrt(2 / 16)
    assert weight_mask(net).sum() == 2 * 8 + 8 * 8 + 8 * 1


def test_inputs_normalized_to_unit_interval(tiny):
    cfg = tiny(depth=1, width=1)
    pde = get_pde("convection")
    net = build_network(pde, cfg)
    params = net.unravel(net.flat_init)
    kernel = params["layers"][0]["kernel"][...]
    # the first layer sees z = 2 (xt - lo) / (hi - lo) - 1: at the domain corners z = -1 and 1
    lo = jnp.tanh(jnp.array([-1.0, -1.0]) @ kernel)
    out = params["layers"][1]["kernel"][...]
    assert jnp.allclose(net.apply(net.flat_init, pde.x0, pde.t0), (lo @ out)[0])
