"""The PINN: a Flax NNX MLP on (x, t), used through a flat parameter vector."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
from flax import nnx
from jax.flatten_util import ravel_pytree

from .pdes import PDE

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

    def __call__(self, xt: jax.Array) -> jax.Array:
        z = 2 * (xt - self.lo[...]) / (self.hi[...] - self.lo[...]) - 1
        for layer in self.layers[:-1]:
            z = self.activation(layer(z))
        return self.layers[-1](z)


@dataclass(frozen=True)
class Network:
    """A network as a pure function of a flat parameter vector."""

    flat_init: jax.Array
    apply: Callable  # (flat, x, t) -> u, scalar x and t
    unravel: Callable


def build_network(pde: PDE, config: dict, seed: int | None = None) -> Network:
    dtype = DTYPES[config["precision"]]
    model = MLP(
        pde, config["depth"], config["width"], config["activation"], dtype,
        rngs=nnx.Rngs(config["seed"] if seed is None else seed),
    )
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    flat, unravel = ravel_pytree(params)

    def apply(flat_params, x, t):
        module = nnx.merge(graphdef, unravel(flat_params), rest)
        return module(jnp.stack([x, t]))[0]

    return Network(flat, apply, unravel)


def weight_mask(network: Network) -> jax.Array:
    """1 for weight (kernel) entries of the flat vector, 0 for biases."""
    params = network.unravel(network.flat_init)
    marked = jax.tree_util.tree_map_with_path(
        lambda path, leaf: jnp.full_like(leaf, "kernel" in jax.tree_util.keystr(path)), params
    )
    return ravel_pytree(marked)[0]
