"""The PINN: a Flax NNX MLP on (x, t), used through a flat parameter vector.

The forward pass carries the input derivatives along (Taylor mode, ``jets``):
one pass gives u and every partial derivative up to the order asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp
from flax import nnx
from jax.flatten_util import ravel_pytree

from pinnfail.numerics import jets
from pinnfail.numerics.pdes import PDE

ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh,
    "sin": jnp.sin,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
}
DTYPES = {"fp32": jnp.float32, "fp64": jnp.float64}


class MLP(nnx.Module):
    """Fully connected network; inputs mapped linearly from the domain to [-1, 1]."""

    def __init__(self, pde: PDE, depth: int, width: int, activation: str, dtype, *, rngs: nnx.Rngs):
        sizes = [2] + [width] * depth + [1]
        self.layers = nnx.List(
            nnx.Linear(
                a, b,
                kernel_init=nnx.initializers.glorot_normal(),
                bias_init=nnx.initializers.zeros_init(),
                dtype=dtype, param_dtype=dtype, rngs=rngs,
            )
            for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.activation = ACTIVATIONS[activation]
        self.lo = nnx.Variable(jnp.array([pde.x0, pde.t0], dtype))
        self.hi = nnx.Variable(jnp.array([pde.x1, pde.t1], dtype))

    def jet(self, x: jax.Array, t: jax.Array, want) -> jets.Jet:
        """u and its partial derivatives at the points (x, t): every entry up to an order
        (an int), or the named entries (an iterable of jet names). One pass carries the
        channels asked for and the lower ones they are built from (``jets.closure``)."""
        keys = jets.names(want) if isinstance(want, int) else list(want)
        indices = jets.closure(jets.index(k) for k in keys)
        lo, hi = self.lo[...], self.hi[...]
        x, t = jnp.broadcast_arrays(jnp.asarray(x, lo.dtype), jnp.asarray(t, lo.dtype))
        shape = x.shape
        scale = 2 / (hi - lo)
        z = {(0, 0): (jnp.stack([x.ravel(), t.ravel()], -1) - lo) * scale - 1}
        # d z / dx and d z / dt, the same at every point; higher input derivatives vanish
        for ix, unit in (((1, 0), [1, 0]), ((0, 1), [0, 1])):
            if ix in indices:
                z[ix] = scale * jnp.array(unit, scale.dtype)
        for layer in self.layers[:-1]:
            z = jets.activate(jets.linear(z, layer.kernel[...], layer.bias[...]), self.activation, indices)
        last = self.layers[-1]
        return jets.as_jet(jets.linear(z, last.kernel[...], last.bias[...]), keys, shape)


@dataclass(frozen=True)
class Network:
    """A network as a pure function of a flat parameter vector."""

    flat_init: jax.Array
    jet: Callable  # (flat, x, t, order or names) -> Jet at the points (x, t), arrays of any shape
    unravel: Callable

    def apply(self, flat: jax.Array, x, t) -> jax.Array:
        """u(x, t) at the points (x, t)."""
        return self.jet(flat, x, t, 0)["u"]


def build_network(pde: PDE, config: dict, seed: int | None = None) -> Network:
    dtype = DTYPES[config["precision"]]
    model = MLP(
        pde, config["depth"], config["width"], config["activation"], dtype,
        rngs=nnx.Rngs(config["seed"] if seed is None else seed),
    )
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    flat, unravel = ravel_pytree(params)

    def jet(flat_params, x, t, want):
        return nnx.merge(graphdef, unravel(flat_params), rest).jet(x, t, want)

    return Network(flat, jet, unravel)


def weight_mask(network: Network) -> jax.Array:
    """1 for weight (kernel) entries of the flat vector, 0 for biases."""
    params = network.unravel(network.flat_init)
    marked = jax.tree_util.tree_map_with_path(
        lambda path, leaf: jnp.full_like(leaf, "kernel" in jax.tree_util.keystr(path)), params
    )
    return ravel_pytree(marked)[0]
