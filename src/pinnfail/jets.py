"""Taylor jets: a scalar field's partial derivatives in (x, t), carried together.

A jet maps names to arrays of the same shape: ``"u"`` (the value), ``"u_x"``,
``"u_t"``, ``"u_xx"``, ``"u_xt"``, ``"u_tt"``, ``"u_xxx"``, ... (x before t), every
partial derivative up to its order. PDE residuals read what they need from one.

Two ways to get a jet:

* ``of_callable``: nested forward-mode autodiff of any elementwise ``u(x, t)``
  (exact solutions, tests). Each derivative is its own pass.
* ``linear`` and ``activate``: push every derivative through a network layer by
  layer at once (Taylor mode; Faa di Bruno's formula at each activation). A
  linear layer is one matrix product for all derivatives and points.
"""
from __future__ import annotations

from functools import cache
from typing import Callable

import jax
import jax.numpy as jnp

Jet = dict  # name -> array
Index = tuple[int, int]  # (order in x, order in t)
DIRECTIONS = {"x": (1, 0), "t": (0, 1)}


def multi_indices(order: int) -> list[Index]:
    """Every (i, j) with i + j <= order, by total order, x before t."""
    return [(k - j, j) for k in range(order + 1) for j in range(k + 1)]


def name(index: Index) -> str:
    i, j = index
    return "u" if i + j == 0 else "u_" + "x" * i + "t" * j


def names(order: int) -> list[str]:
    return [name(index) for index in multi_indices(order)]


def truncate(jet: Jet, order: int) -> Jet:
    return {k: jet[k] for k in names(order)}


def shift(jet: Jet, direction: str, order: int) -> Jet:
    """The jet of du/d(direction) up to ``order``, read from a jet of order + 1."""
    di, dj = DIRECTIONS[direction]
    return {name((i, j)): jet[name((i + di, j + dj))] for i, j in multi_indices(order)}


def _partial(u: Callable, direction: str) -> Callable:
    """d u / d(direction) of an elementwise u(x, t), in forward mode."""
    if direction == "x":
        return lambda x, t: jax.jvp(lambda x_: u(x_, t), (x,), (jnp.ones_like(x),))[1]
    return lambda x, t: jax.jvp(lambda t_: u(x, t_), (t,), (jnp.ones_like(t),))[1]


def of_callable(u: Callable, x, t, order: int) -> Jet:
    """The jet of an elementwise field ``u(x, t)`` at points (x, t), by nested autodiff."""
    out = {}
    for i, j in multi_indices(order):
        f = u
        for direction in "x" * i + "t" * j:
            f = _partial(f, direction)
        out[name((i, j))] = f(x, t)
    return out


def linear(channels: dict[Index, jax.Array], kernel, bias) -> dict[Index, jax.Array]:
    """z @ kernel + bias on every derivative channel (the bias only moves the value).

    Channels are (points, features) arrays; missing ones are zero and stay missing.
    """
    keys = list(channels)
    points = channels[(0, 0)].shape[0]
    stacked = jnp.concatenate([jnp.broadcast_to(channels[k], (points, kernel.shape[0])) for k in keys])
    product = stacked @ kernel
    out = {k: product[n * points:(n + 1) * points] for n, k in enumerate(keys)}
    out[(0, 0)] = out[(0, 0)] + bias
    return out


@cache
def _faa_di_bruno(index: Index) -> tuple[tuple[int, tuple[Index, ...]], ...]:
    """d^index f(h) = sum over set partitions of the directions: f^(blocks)(h) * prod h_block.

    Returned as (number of blocks, block indices) per partition.
    """
    directions = [0] * index[0] + [1] * index[1]

    def partitions(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for part in partitions(rest):
            for n in range(len(part)):
                yield part[:n] + [[first] + part[n]] + part[n + 1:]
            yield [[first]] + part

    terms = []
    for part in partitions(list(range(len(directions)))):
        blocks = tuple(
            (sum(1 for p in block if directions[p] == 0), sum(1 for p in block if directions[p] == 1))
            for block in part
        )
        terms.append((len(part), blocks))
    return tuple(terms)


def _derivatives(f: Callable, z, order: int) -> list:
    """[f(z), f'(z), ..., f^(order)(z)] of an elementwise function."""
    out, g = [f(z)], f
    for _ in range(order):
        g = (lambda h: lambda v: jax.jvp(h, (v,), (jnp.ones_like(v),))[1])(g)
        out.append(g(z))
    return out


def activate(channels: dict[Index, jax.Array], f: Callable, order: int) -> dict[Index, jax.Array]:
    """The channels of f(h) up to ``order`` from those of h (Faa di Bruno)."""
    h = channels[(0, 0)]
    df = _derivatives(f, h, order)
    out = {(0, 0): df[0]}
    for index in multi_indices(order)[1:]:
        total = None
        for n_blocks, blocks in _faa_di_bruno(index):
            if any(b not in channels for b in blocks):
                continue
            term = df[n_blocks]
            for b in blocks:
                term = term * channels[b]
            total = term if total is None else total + term
        if total is not None:
            out[index] = total
    return out


def as_jet(channels: dict[Index, jax.Array], order: int, shape, dtype) -> Jet:
    """Named jet from (points, 1) output channels; missing channels are zero."""
    zero = jnp.zeros(shape, dtype)
    return {
        name(k): channels[k][:, 0].reshape(shape) if k in channels else zero
        for k in multi_indices(order)
    }
