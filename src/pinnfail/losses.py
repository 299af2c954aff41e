"""PINN loss terms and the regularizers none / L2 / L1 / double PINN.

Every term k (the domain and each condition) is a mean of squared residuals
r_k over its own points. Double PINN adds, for every term, the mean squared
gradient of the per-point residual with respect to the inputs:

* ``residual`` form: lambda * mean_i |grad r_k(p_i)|^2
* ``loss`` form:     lambda * mean_i |grad r_k(p_i)^2|^2

The domain residual is differentiated in (x, t); a condition's residual along
its own line only (x on the initial line, t on a boundary). The network's
forward pass carries the input derivatives (``jets``): the domain residual's
gradient is read from one jet one order higher, a condition's by forward mode
along its line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from . import jets
from .model import Network, weight_mask
from .pdes import PDE


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
    scale_x = (pde.x1 - pde.x0) / 2 if config["double_coords"] == "normalized" else 1.0
    scale_t = (pde.t1 - pde.t0) / 2 if config["double_coords"] == "normalized" else 1.0
    mask = weight_mask(network) if regularizer in ("l2", "l1") else None

    def field(flat, order):
        return lambda x, t: network.jet(flat, x, t, order)

    def condition_residual(flat, cond, s):
        return cond.residual(field(flat, cond.order), s, pde, params)

    def residuals(flat, points):
        x, t = points["domain"][:, 0], points["domain"][:, 1]
        out = {"domain": pde.residual(network.jet(flat, x, t, pde.order), x, t, params)}
        for c in pde.conditions:
            out[c.name] = condition_residual(flat, c, points[c.name])
        return out

    def terms(flat, points):
        return {k: jnp.mean(r**2) for k, r in residuals(flat, points).items()}

    def gradient_penalty(r, grads):
        if form == "loss":
            grads = [2 * r * g for g in grads]
        return sum(jnp.mean(g**2) for g in grads)

    def double_terms(flat, points, lam):
        """Per-term losses and the double-PINN penalty from one pass per term."""
        x, t = points["domain"][:, 0], points["domain"][:, 1]
        jet = network.jet(flat, x, t, pde.order + 1)
        zero, one = jnp.zeros_like(x), jnp.ones_like(x)

        def domain_r(d, x, t):
            return pde.residual(d, x, t, params)

        primal = (jets.truncate(jet, pde.order), x, t)
        r, r_x = jax.jvp(domain_r, primal, (jets.shift(jet, "x", pde.order), one, zero))
        r_t = jax.jvp(domain_r, primal, (jets.shift(jet, "t", pde.order), zero, one))[1]
        losses = {"domain": jnp.mean(r**2)}
        penalty = gradient_penalty(r, [scale_x * r_x, scale_t * r_t])
        for c in pde.conditions:
            scale = scale_x if c.line == "initial" else scale_t
            s = points[c.name]
            rc, rc_s = jax.jvp(lambda v: condition_residual(flat, c, v), (s,), (jnp.ones_like(s),))
            losses[c.name] = jnp.mean(rc**2)
            penalty = penalty + gradient_penalty(rc, [scale * rc_s])
        return losses, lam * penalty

    def weight_penalty(flat, lam):
        if regularizer == "l2":
            return 0.5 * lam * jnp.sum((mask * flat) ** 2)
        if regularizer == "l1":
            return lam * jnp.sum(jnp.abs(mask * flat))
        return jnp.zeros((), flat.dtype)

    def weighted(losses):
        return sum(weights[k] * v for k, v in losses.items())

    if regularizer == "double":

        def penalty(flat, points, lam=None):
            return double_terms(flat, points, default_lam if lam is None else lam)[1]

        def total(flat, points, lam=None):
            losses, pen = double_terms(flat, points, default_lam if lam is None else lam)
            return weighted(losses) + pen

    else:

        def penalty(flat, points, lam=None):
            return weight_penalty(flat, default_lam if lam is None else lam)

        def total(flat, points, lam=None):
            return weighted(terms(flat, points)) + penalty(flat, points, lam)

    return Objective(terms, penalty, total, names)
