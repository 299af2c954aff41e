"""PINN loss terms and the regularizers none / L2 / L1 / double PINN.

Every term k (the domain and each condition) is a mean of squared residuals
r_k over its own points. Double PINN adds, for every term, the mean squared
gradient of the per-point residual with respect to the inputs:

* ``residual`` form: lambda * mean_i |grad r_k(p_i)|^2
* ``loss`` form:     lambda * mean_i |grad r_k(p_i)^2|^2

The domain residual is differentiated in (x, t); a condition's residual along
its own line only (x on the initial line, t on a boundary). The network's
forward pass carries the input derivatives (``jets``): the domain residual's
gradient is read from the jet entries one derivative further (each entry the
residual reads, differentiated in x and in t), a condition's by forward mode
along its line. Which entries each term reads comes from its definition
(``PDE.reads``, ``Condition.reads_of``).

The objective is a sum over points: its value and gradient can be accumulated
over blocks of domain points (``point_block`` in a run config), each block's
backward pass right after its forward pass. Blocks change only the order of
the sums, i.e. round-off; the default is one block.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp

from pinnfail.numerics import jets
from pinnfail.numerics.model import Network, weight_mask
from pinnfail.numerics.pdes import PDE

def point_block(setting: int | None, n_points: int) -> int:
    """Domain points per block: ``setting`` at most (None or 0: all in one block). Blocks are as
    equal as possible, so padding stays below one point per block. One block is the default on
    every backend: inside the L-BFGS loop it was the fastest on a 2-core CPU too
    (benchmarks/RESULTS.md, "Third-order objective")."""
    if not setting or setting >= n_points:
        return n_points
    count = -(-n_points // int(setting))
    return -(-n_points // count)


@dataclass(frozen=True)
class Objective:
    """Loss terms, penalty and total objective as functions of (flat params, points)."""

    terms: Callable  # (flat, points) -> {term: mean squared residual}
    penalty: Callable  # (flat, points, lam=None) -> scalar
    total: Callable  # (flat, points, lam=None) -> scalar (weighted terms + penalty)
    term_names: tuple[str, ...]


@dataclass(frozen=True)
class _Terms:
    """The pieces of one run configuration's objective, as pure functions of the flat parameters."""

    pde: PDE
    network: Network
    params: dict  # the equation's parameters
    weights: dict  # term -> weight
    regularizer: str
    form: str  # double PINN: "residual" or "loss"
    scale: tuple  # (x, t): derivatives in physical (1) or normalized coordinates
    mask: Any  # L2/L1: the weights' mask (biases excluded)
    # the jet entries each term reads, from the definitions themselves (pdes: ``reads``); double
    # PINN: the domain residual's gradient in (x, t) reads each entry's x and t derivative
    domain_keys: tuple
    condition_keys: dict
    gradient_keys: tuple

    @classmethod
    def of(cls, pde: PDE, network: Network, config: dict) -> "_Terms":
        names = ("domain",) + pde.condition_names
        normalized = config["double_coords"] == "normalized"
        return cls(
            pde, network, pde.params(config["pde_params"]),
            {name: config["weights"].get(name, 1.0) for name in names}, config["regularizer"],
            config["double_form"],
            ((pde.x1 - pde.x0) / 2 if normalized else 1.0, (pde.t1 - pde.t0) / 2 if normalized else 1.0),
            weight_mask(network) if config["regularizer"] in ("l2", "l1") else None,
            pde.reads, {c.name: c.reads_of(pde) for c in pde.conditions},
            jets.shifted(pde.reads, "x") + jets.shifted(pde.reads, "t"))

    @property
    def double(self) -> bool:
        return self.regularizer == "double"

    def domain_r(self, d, x, t):
        return self.pde.residual(d, x, t, self.params)

    def condition_residual(self, flat, cond, s):
        keys = self.condition_keys[cond.name]
        return cond.residual(lambda x, t: self.network.jet(flat, x, t, keys), s, self.pde, self.params)

    def gradient_penalty(self, r, grads):
        """Per point: |grad r|^2 (form residual) or |grad r^2|^2 (form loss), summed over components."""
        if self.form == "loss":
            grads = [2 * r * g for g in grads]
        return sum(g**2 for g in grads)

    def domain_pointwise(self, flat, xt):
        """Per domain point: r^2, and the double-PINN penalty's |grad r|^2 (None without it)."""
        x, t = xt[:, 0], xt[:, 1]
        keys = self.domain_keys
        if not self.double:
            return self.domain_r(self.network.jet(flat, x, t, keys), x, t) ** 2, None
        jet = self.network.jet(flat, x, t, dict.fromkeys((*keys, *self.gradient_keys)))
        zero, one = jnp.zeros_like(x), jnp.ones_like(x)
        primal = ({k: jet[k] for k in keys}, x, t)
        r, r_x = jax.jvp(self.domain_r, primal, (jets.shift(jet, "x", keys), one, zero))
        r_t = jax.jvp(self.domain_r, primal, (jets.shift(jet, "t", keys), zero, one))[1]
        return r**2, self.gradient_penalty(r, [self.scale[0] * r_x, self.scale[1] * r_t])

    def condition_means(self, flat, points):
        """Each condition's mean squared residual, and their double-PINN penalty (0 without it)."""
        losses, penalty = {}, 0.0
        for c in self.pde.conditions:
            s = points[c.name]
            if self.double:
                scale = self.scale[0] if c.line == "initial" else self.scale[1]
                rc, rc_s = jax.jvp(lambda v: self.condition_residual(flat, c, v), (s,), (jnp.ones_like(s),))
                penalty = penalty + jnp.mean(self.gradient_penalty(rc, [scale * rc_s]))
            else:
                rc = self.condition_residual(flat, c, s)
            losses[c.name] = jnp.mean(rc**2)
        return losses, penalty

    def weight_penalty(self, flat, lam):
        if self.regularizer == "l2":
            return 0.5 * lam * jnp.sum((self.mask * flat) ** 2)
        if self.regularizer == "l1":
            return lam * jnp.sum(jnp.abs(self.mask * flat))
        return jnp.zeros((), flat.dtype)

    def terms(self, flat, points):
        r2, _ = self.domain_pointwise(flat, points["domain"])
        return {"domain": jnp.mean(r2), **self.condition_means(flat, points)[0]}

    def penalty(self, flat, points, lam):
        if not self.double:
            return self.weight_penalty(flat, lam)
        _, pen = self.domain_pointwise(flat, points["domain"])
        return lam * (jnp.mean(pen) + self.condition_means(flat, points)[1])

    # The objective as a sum: weighted domain points (w_i = 1/N, 0 for padding) and the rest.
    def domain_part(self, flat, lam, xt, w):
        r2, pen = self.domain_pointwise(flat, xt)
        value = self.weights["domain"] * jnp.sum(w * r2)
        return value if pen is None else value + lam * jnp.sum(w * pen)

    def rest_part(self, flat, lam, points):
        losses, pen = self.condition_means(flat, points)
        return sum(self.weights[k] * v for k, v in losses.items()) + lam * pen + self.weight_penalty(flat, lam)


def _blocks(points, block_setting):
    """Domain points as (blocks, B, 2) with per-point weights; padding repeats a point at weight 0."""
    xt = points["domain"]
    n = xt.shape[0]
    size = point_block(block_setting, n)
    count = -(-n // size)
    pad = count * size - n
    xt = jnp.concatenate([xt, jnp.broadcast_to(xt[:1], (pad, 2))]) if pad else xt
    w = jnp.concatenate([jnp.full((n,), 1 / n, xt.dtype), jnp.zeros((pad,), xt.dtype)])
    return xt.reshape(count, size, 2), w.reshape(count, size)


def _blocked_total(parts: _Terms, block_setting) -> Callable:
    """total(flat, points, lam): the objective accumulated over blocks of domain points, its
    value and gradient (in flat and lam) block by block: a block's backward pass follows its
    forward pass while its intermediates are still in cache."""

    def accumulate(fn, init, points):
        return jax.lax.scan(lambda acc, blk: (jax.tree.map(jnp.add, acc, fn(*blk)), None), init,
                            _blocks(points, block_setting))[0]

    @jax.custom_vjp
    def total(flat, points, lam):
        zero = jnp.zeros((), flat.dtype)
        return accumulate(lambda xt, w: parts.domain_part(flat, lam, xt, w), zero, points) \
            + parts.rest_part(flat, lam, points)

    def forward(flat, points, lam):
        grad = jax.value_and_grad(parts.domain_part, argnums=(0, 1))
        zero = jnp.zeros((), flat.dtype)
        value, (g_flat, g_lam) = accumulate(lambda xt, w: grad(flat, lam, xt, w),
                                            (zero, (jnp.zeros_like(flat), zero)), points)
        v_rest, (gf_rest, gl_rest) = jax.value_and_grad(parts.rest_part, argnums=(0, 1))(flat, lam, points)
        return value + v_rest, (g_flat + gf_rest, g_lam + gl_rest, points)

    def backward(residuals, cotangent):
        g_flat, g_lam, points = residuals
        # the objective is never differentiated in its points: their cotangent is zero
        return cotangent * g_flat, jax.tree.map(jnp.zeros_like, points), cotangent * g_lam

    total.defvjp(forward, backward)
    return total


def make_objective(pde: PDE, network: Network, config: dict) -> Objective:
    """The objective of a run configuration.

    ``penalty`` and ``total`` take the regularization strength ``lam`` as an
    argument (None: the config's lambda), so one compiled function serves runs
    that differ only in lambda.
    """
    parts = _Terms.of(pde, network, config)
    blocked = _blocked_total(parts, config.get("point_block"))
    default_lam = config["lambda"]

    def lam_of(flat, lam):
        return jnp.asarray(default_lam if lam is None else lam, flat.dtype)

    def penalty(flat, points, lam=None):
        return parts.penalty(flat, points, lam_of(flat, lam))

    def total(flat, points, lam=None):
        return blocked(flat, points, lam_of(flat, lam))

    return Objective(parts.terms, penalty, total, ("domain",) + pde.condition_names)
