"""Taylor jets: a scalar field's partial derivatives in (x, t), carried together.

A jet maps names to arrays of the same shape: ``"u"`` (the value), ``"u_x"``,
``"u_t"``, ``"u_xx"``, ``"u_xt"``, ``"u_tt"``, ``"u_xxx"``, ... (x before t). A name
is a multi-index (i, j): i derivatives in x, j in t (``index``, ``name``).

Which entries a computation needs is found by running it once on a recording jet
(``reads``): a PDE's residual, a condition, a regularizer's gradient read only what
they read, and the network carries those channels and the lower ones they are built
from (``closure``), never a hand-kept list.

Two ways to get a jet:

* ``of_callable``: nested forward-mode autodiff of any elementwise ``u(x, t)``
  (exact solutions, tests). Each derivative is its own pass.
* ``linear`` and ``activate``: push the channels through a network layer by layer
  at once (Taylor mode). At an activation, Faa di Bruno's formula with equal set
  partitions merged into integer coefficients (``faa_di_bruno``), the activation's
  derivatives in closed form where known (``DERIVATIVES``: tanh, sin) and each
  product of channels built once. A channel no computation reads is never formed;
  a missing channel is zero.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Callable, Iterable, Mapping

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp

Jet = dict  # name -> array
Index = tuple[int, int]  # (order in x, order in t)
DIRECTIONS = {"x": (1, 0), "t": (0, 1)}
_NAME = re.compile(r"u(?:_(x*)(t*))?$")


def multi_indices(order: int) -> list[Index]:
    """Every (i, j) with i + j <= order, by total order, x before t."""
    return [(k - j, j) for k in range(order + 1) for j in range(k + 1)]


def name(index: Index) -> str:
    i, j = index
    return "u" if i + j == 0 else "u_" + "x" * i + "t" * j


def index(key: str) -> Index:
    """The multi-index of a jet name (``"u_xxt"`` -> (2, 1))."""
    m = _NAME.match(key)
    if not m or key == "u_":
        raise KeyError(f"{key!r} is not a jet entry (u, u_x, u_t, u_xx, ..., x before t)")
    return len(m.group(1) or ""), len(m.group(2) or "")


def names(order: int) -> list[str]:
    return [name(ix) for ix in multi_indices(order)]


def ordered(keys: Iterable[str]) -> tuple[str, ...]:
    """Jet names without repeats, in jet order (total order, then x before t)."""
    return tuple(sorted(set(keys), key=lambda k: (sum(index(k)), -index(k)[0])))


def order_of(keys: Iterable[str]) -> int:
    return max((sum(index(k)) for k in keys), default=0)


def closure(indices: Iterable[Index]) -> tuple[Index, ...]:
    """The indices and every lower one they are built from ((i, j) needs each (a, b) <= it),
    in jet order: the channels a Taylor pass must carry."""
    found = set()
    for i, j in indices:
        found.update((a, b) for a in range(i + 1) for b in range(j + 1))
    return tuple(sorted(found, key=lambda ix: (sum(ix), -ix[0])))


def shifted(keys: Iterable[str], direction: str) -> tuple[str, ...]:
    """The names one derivative further in ``direction`` (``u_x`` -> ``u_xx`` for x)."""
    di, dj = DIRECTIONS[direction]
    return tuple(name((i + di, j + dj)) for i, j in map(index, keys))


def shift(jet: Jet, direction: str, order_or_keys) -> Jet:
    """The jet of du/d(direction), read from a jet one order further: every entry up to an
    order (an int), or the named entries."""
    keys = names(order_or_keys) if isinstance(order_or_keys, int) else list(order_or_keys)
    return dict(zip(keys, (jet[k] for k in shifted(keys, direction))))


class _Recorder(dict):
    """A jet that answers every entry with ones and remembers which were read."""

    def __init__(self, shape=(1,)):
        super().__init__()
        self.shape, self.read = shape, []

    def __getitem__(self, key):
        index(key)  # a bad name is an error, not a silent zero
        self.read.append(key)
        return jnp.ones(self.shape)

    def __contains__(self, key):
        return True

    def get(self, key, default=None):
        return self[key]


def reads(fn: Callable[[Jet], object]) -> tuple[str, ...]:
    """The entries ``fn(jet)`` reads, in jet order (traced abstractly: nothing is computed)."""
    rec = _Recorder()
    jax.eval_shape(lambda: fn(rec))
    return ordered(rec.read)


def _partial(u: Callable, direction: str) -> Callable:
    """d u / d(direction) of an elementwise u(x, t), in forward mode."""
    if direction == "x":
        return lambda x, t: jax.jvp(lambda x_: u(x_, t), (x,), (jnp.ones_like(x),))[1]
    return lambda x, t: jax.jvp(lambda t_: u(x, t_), (t,), (jnp.ones_like(t),))[1]


def of_callable(u: Callable, x, t, order_or_keys) -> Jet:
    """The jet of an elementwise field ``u(x, t)`` at points (x, t), by nested autodiff:
    every entry up to an order (an int), or the named entries."""
    keys = names(order_or_keys) if isinstance(order_or_keys, int) else list(order_or_keys)
    out = {}
    for key in keys:
        i, j = index(key)
        f = u
        for direction in "x" * i + "t" * j:
            f = _partial(f, direction)
        out[key] = f(x, t)
    return out


def linear(channels: Mapping[Index, jax.Array], kernel, bias) -> dict[Index, jax.Array]:
    """z @ kernel + bias on every derivative channel (the bias only moves the value).

    Channels are (points, features) arrays, or (features,) for a channel that is the same at
    every point (the input's derivatives); one matrix product each.
    """
    out = {k: v @ kernel for k, v in channels.items()}
    out[(0, 0)] = out[(0, 0)] + bias
    return out


@cache
def faa_di_bruno(a: Index) -> tuple[tuple[int, tuple[tuple[int, tuple[Index, ...]], ...]], ...]:
    """d^a f(h) as ((k, ((c, blocks), ...)), ...): f^(k)(h) times the sum of c * prod h_block.

    Set partitions of a's directions (i x's, j t's) grouped by their blocks' multi-indices:
    equal groupings are one term with an integer coefficient.
    """
    directions = [0] * a[0] + [1] * a[1]

    def partitions(items):
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for part in partitions(rest):
            for n in range(len(part)):
                yield part[:n] + [[first] + part[n]] + part[n + 1:]
            yield [[first]] + part

    counts: Counter = Counter()
    for part in partitions(list(range(len(directions)))):
        blocks = tuple(sorted(
            (sum(1 for p in block if directions[p] == 0), sum(1 for p in block if directions[p] == 1))
            for block in part))
        counts[blocks] += 1
    by_k: dict[int, list] = {}
    for blocks, c in sorted(counts.items()):
        by_k.setdefault(len(blocks), []).append((c, blocks))
    return tuple((k, tuple(terms)) for k, terms in sorted(by_k.items()))


def _tanh_derivatives(z, order: int) -> list:
    """tanh^(k) as polynomials in y = tanh z: p_0 = y, p_{k+1} = p_k'(y) (1 - y^2)."""
    y = jnp.tanh(z)
    out, poly = [y], [0.0, 1.0]  # coefficients of p_k in y, lowest first
    for _ in range(order):
        deriv = [n * c for n, c in enumerate(poly)][1:]
        # multiply by (1 - y^2)
        nxt = [0.0] * (len(deriv) + 2)
        for n, c in enumerate(deriv):
            nxt[n] += c
            nxt[n + 2] -= c
        poly = nxt
        value = jnp.zeros_like(y) + poly[-1]
        for c in reversed(poly[:-1]):  # Horner
            value = value * y + c
        out.append(value)
    return out


def _sin_derivatives(z, order: int) -> list:
    s, c = jnp.sin(z), jnp.cos(z)
    return [(s, c, -s, -c)[k % 4] for k in range(order + 1)]


DERIVATIVES: dict[Callable, Callable] = {jnp.tanh: _tanh_derivatives, jnp.sin: _sin_derivatives}


def derivatives(f: Callable, z, order: int) -> list:
    """[f(z), f'(z), ..., f^(order)(z)] of an elementwise function: closed form where known,
    else nested forward-mode autodiff."""
    if f in DERIVATIVES:
        return DERIVATIVES[f](z, order)
    out, g = [f(z)], f
    for _ in range(order):
        g = (lambda h: lambda v: jax.jvp(h, (v,), (jnp.ones_like(v),))[1])(g)
        out.append(g(z))
    return out


def activate(channels: Mapping[Index, jax.Array], f: Callable, indices: Iterable[Index]) -> dict[Index, jax.Array]:
    """The channels ``indices`` of f(h) from those of h (Faa di Bruno). Missing channels of h
    are zero (their terms are skipped); products of channels are built once and shared."""
    h = channels[(0, 0)]
    wanted = [ix for ix in indices if ix != (0, 0)]
    order = max((sum(ix) for ix in wanted), default=0)
    df = derivatives(f, h, order)
    products: dict[tuple[Index, ...], jax.Array] = {}

    def product(blocks):
        if blocks not in products:
            products[blocks] = channels[blocks[0]] if len(blocks) == 1 else product(blocks[:-1]) * channels[blocks[-1]]
        return products[blocks]

    out = {(0, 0): df[0]}
    for ix in wanted:
        total = None
        for k, terms in faa_di_bruno(ix):
            inner = None
            for c, blocks in terms:
                if any(b not in channels for b in blocks):
                    continue
                term = product(blocks) if c == 1 else c * product(blocks)
                inner = term if inner is None else inner + term
            if inner is not None:
                term = df[k] * inner
                total = term if total is None else total + term
        if total is not None:
            out[ix] = total
    return out


def as_jet(channels: Mapping[Index, jax.Array], keys: Iterable[str], shape) -> Jet:
    """The named entries from (points, 1) output channels; a missing channel is zero."""
    dtype = channels[(0, 0)].dtype
    out = {}
    for key in keys:
        v = channels.get(index(key))
        if v is None:
            out[key] = jnp.zeros(shape, dtype)
        elif v.ndim == 1:  # the same at every point (a network without hidden layers)
            out[key] = jnp.broadcast_to(v[0], shape)
        else:
            out[key] = v[:, 0].reshape(shape)
    return out
