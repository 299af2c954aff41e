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
from typing import Callable

from . import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp

from . import jets
from .model import Network, weight_mask
from .pdes import PDE

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


def make_objective(pde: PDE, network: Network, config: dict) -> Objective:
    """The objective of a run configuration.

    ``penalty`` and ``total`` take the regularization strength ``lam`` as an
    argument (None: the config's lambda), so one compiled function serves runs
    that differ only in lambda.
    """
    params = pde.params(config["pde_params"])
    names = ("domain",) + pde.condition_names
    weights = {name: config["weights"].get(name, 1.0) for name in names}
    regularizer, default_lam = config["regularizer"], config["lambda"]
    form = config["double_form"]
    double = regularizer == "double"
    scale_x = (pde.x1 - pde.x0) / 2 if config["double_coords"] == "normalized" else 1.0
    scale_t = (pde.t1 - pde.t0) / 2 if config["double_coords"] == "normalized" else 1.0
    mask = weight_mask(network) if regularizer in ("l2", "l1") else None
    block_setting = config.get("point_block")

    # The jet entries each term reads, from the definitions themselves (pdes: ``reads``).
    domain_keys = pde.reads
    condition_keys = {c.name: c.reads_of(pde) for c in pde.conditions}
    # Double PINN: the domain residual's gradient in (x, t) reads each entry's x and t derivative.
    gradient_keys = jets.shifted(domain_keys, "x") + jets.shifted(domain_keys, "t")

    def field(flat, keys):
        return lambda x, t: network.jet(flat, x, t, keys)

    def condition_residual(flat, cond, s):
        return cond.residual(field(flat, condition_keys[cond.name]), s, pde, params)

    def domain_r(d, x, t):
        return pde.residual(d, x, t, params)

    def gradient_penalty(r, grads):
        """Per point: |grad r|^2 (form residual) or |grad r^2|^2 (form loss), summed over components."""
        if form == "loss":
            grads = [2 * r * g for g in grads]
        return sum(g**2 for g in grads)

    def domain_pointwise(flat, xt):
        """Per domain point: r^2, and the double-PINN penalty's |grad r|^2 (None without it)."""
        x, t = xt[:, 0], xt[:, 1]
        if not double:
            return domain_r(network.jet(flat, x, t, domain_keys), x, t) ** 2, None
        jet = network.jet(flat, x, t, dict.fromkeys((*domain_keys, *gradient_keys)))
        zero, one = jnp.zeros_like(x), jnp.ones_like(x)
        primal = ({k: jet[k] for k in domain_keys}, x, t)
        r, r_x = jax.jvp(domain_r, primal, (jets.shift(jet, "x", domain_keys), one, zero))
        r_t = jax.jvp(domain_r, primal, (jets.shift(jet, "t", domain_keys), zero, one))[1]
        return r**2, gradient_penalty(r, [scale_x * r_x, scale_t * r_t])

    def condition_means(flat, points):
        """Each condition's mean squared residual, and their double-PINN penalty (0 without it)."""
        losses, penalty = {}, 0.0
        for c in pde.conditions:
            s = points[c.name]
            if double:
                scale = scale_x if c.line == "initial" else scale_t
                rc, rc_s = jax.jvp(lambda v: condition_residual(flat, c, v), (s,), (jnp.ones_like(s),))
                penalty = penalty + jnp.mean(gradient_penalty(rc, [scale * rc_s]))
            else:
                rc = condition_residual(flat, c, s)
            losses[c.name] = jnp.mean(rc**2)
        return losses, penalty

    def weight_penalty(flat, lam):
        if regularizer == "l2":
            return 0.5 * lam * jnp.sum((mask * flat) ** 2)
        if regularizer == "l1":
            return lam * jnp.sum(jnp.abs(mask * flat))
        return jnp.zeros((), flat.dtype)

    def lam_of(flat, lam):
        return jnp.asarray(default_lam if lam is None else lam, flat.dtype)

    def terms(flat, points):
        r2, _ = domain_pointwise(flat, points["domain"])
        return {"domain": jnp.mean(r2), **condition_means(flat, points)[0]}

    def penalty(flat, points, lam=None):
        lam = lam_of(flat, lam)
        if not double:
            return weight_penalty(flat, lam)
        _, pen = domain_pointwise(flat, points["domain"])
        return lam * (jnp.mean(pen) + condition_means(flat, points)[1])

    # The objective as a sum: weighted domain points (w_i = 1/N, 0 for padding) and the rest.
    def domain_part(flat, lam, xt, w):
        r2, pen = domain_pointwise(flat, xt)
        value = weights["domain"] * jnp.sum(w * r2)
        return value if pen is None else value + lam * jnp.sum(w * pen)

    def rest_part(flat, lam, points):
        losses, pen = condition_means(flat, points)
        return sum(weights[k] * v for k, v in losses.items()) + lam * pen + weight_penalty(flat, lam)

    def blocks(points):
        """Domain points as (blocks, B, 2) with per-point weights; padding repeats a point at weight 0."""
        xt = points["domain"]
        n = xt.shape[0]
        size = point_block(block_setting, n)
        count = -(-n // size)
        pad = count * size - n
        xt = jnp.concatenate([xt, jnp.broadcast_to(xt[:1], (pad, 2))]) if pad else xt
        w = jnp.concatenate([jnp.full((n,), 1 / n, xt.dtype), jnp.zeros((pad,), xt.dtype)])
        return xt.reshape(count, size, 2), w.reshape(count, size)

    def accumulate(fn, init, points):
        return jax.lax.scan(lambda acc, blk: (jax.tree.map(jnp.add, acc, fn(*blk)), None), init, blocks(points))[0]

    @jax.custom_vjp
    def blocked_total(flat, points, lam):
        zero = jnp.zeros((), flat.dtype)
        return accumulate(lambda xt, w: domain_part(flat, lam, xt, w), zero, points) + rest_part(flat, lam, points)

    def blocked_total_fwd(flat, points, lam):
        """Value and gradient (in flat and lam) block by block: a block's backward pass follows its
        forward pass while its intermediates are still in cache."""
        grad = jax.value_and_grad(domain_part, argnums=(0, 1))
        zero = jnp.zeros((), flat.dtype)
        value, (g_flat, g_lam) = accumulate(lambda xt, w: grad(flat, lam, xt, w),
                                            (zero, (jnp.zeros_like(flat), zero)), points)
        v_rest, (gf_rest, gl_rest) = jax.value_and_grad(rest_part, argnums=(0, 1))(flat, lam, points)
        return value + v_rest, (g_flat + gf_rest, g_lam + gl_rest, points)

    def blocked_total_bwd(residuals, cotangent):
        g_flat, g_lam, points = residuals
        # the objective is never differentiated in its points: their cotangent is zero
        return cotangent * g_flat, jax.tree.map(jnp.zeros_like, points), cotangent * g_lam

    blocked_total.defvjp(blocked_total_fwd, blocked_total_bwd)

    def total(flat, points, lam=None):
        return blocked_total(flat, points, lam_of(flat, lam))

    return Objective(terms, penalty, total, names)
