"""Line searches for L-BFGS, one interface (``start`` -> ``step`` until ``finished`` -> ``result``):
``StrongWolfe`` (the strong Wolfe conditions, one objective evaluation per trial) and ``Zoom``
(optax's zoom line search, driven trial by trial).
"""
from __future__ import annotations


from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp
import optax


class StrongWolfeState(NamedTuple):
    value: jax.Array  # objective at the current parameters (the next iteration starts from it)
    grad: jax.Array
    num_linesearch_steps: jax.Array
    failed: jax.Array


class Line(NamedTuple):
    """What a line search searches along: fixed for the whole search."""

    direction: jax.Array
    value: jax.Array  # objective at the base point
    slope: jax.Array  # directional derivative at the base point
    step_tol: jax.Array  # a bracket narrower than this has collapsed


class Search(NamedTuple):
    """A line search in progress along a ``Line``."""

    t: jax.Array  # next trial step
    t_lo: jax.Array  # best step so far meeting sufficient decrease (0: none yet)
    f_lo: jax.Array
    d_lo: jax.Array  # directional derivative at t_lo
    g_lo: jax.Array
    t_hi: jax.Array
    f_hi: jax.Array
    d_hi: jax.Array
    zoom: jax.Array  # a bracket [lo, hi] has been found
    done: jax.Array
    count: jax.Array  # trials evaluated


def _cubic_minimizer(t1, f1, d1, t2, f2, d2, lower, upper):
    """Minimizer of the cubic through two points and slopes, clipped to [lower, upper]."""
    e1 = d1 + d2 - 3 * (f1 - f2) / (t1 - t2)
    disc = e1**2 - d1 * d2
    e2 = jnp.sqrt(jnp.maximum(disc, 0))
    t = jnp.where(
        t1 <= t2,
        t2 - (t2 - t1) * ((d2 + e2 - e1) / (d2 - d1 + 2 * e2)),
        t1 - (t1 - t2) * ((d1 + e2 - e1) / (d1 - d2 + 2 * e2)),
    )
    t = jnp.where((disc >= 0) & jnp.isfinite(t), t, (lower + upper) / 2)
    return jnp.clip(t, lower, upper)


@dataclass(frozen=True)
class StrongWolfe:
    """Strong-Wolfe line search (Nocedal & Wright Alg. 3.5/3.6, cubic interpolation).

    The same conditions as optax's zoom line search and PyTorch's ``strong_wolfe``,
    written as a state machine with one objective evaluation per trial:
    ``start`` -> (evaluate ``trial_point``, ``advance``) until ``finished`` ->
    ``result``; the ``Line`` stays fixed, the ``Search`` advances.
    ``scale_by_strong_wolfe_linesearch`` runs it in a while loop; a batched trainer
    can advance each member by one trial per step instead, so that members never
    wait for each other's searches. If no step meets sufficient
    decrease within ``max_linesearch_steps`` the parameters stay put and ``failed``
    is set.
    """

    max_linesearch_steps: int = 20
    c1: float = 1e-4
    c2: float = 0.9
    approx_dec_rtol: float = 1e-6

    def start(self, value, grad, direction, params=None) -> tuple[Line, Search]:
        """A search from a point with objective ``value`` and gradient ``grad`` (``params``: the
        point, which this search does not need)."""
        dtype = grad.dtype
        slope = jnp.vdot(grad, direction)
        descent = slope < 0  # otherwise fall back to steepest descent
        direction = jnp.where(descent, direction, -grad)
        slope = jnp.where(descent, slope, -jnp.vdot(grad, grad))
        zero = jnp.zeros([], dtype)
        step_tol = jnp.finfo(dtype).eps / jnp.maximum(jnp.max(jnp.abs(direction)), jnp.finfo(dtype).tiny)
        return Line(direction, value, slope, step_tol), Search(
            t=jnp.ones([], dtype), t_lo=zero, f_lo=value, d_lo=slope, g_lo=grad,
            t_hi=zero, f_hi=value, d_hi=slope,
            zoom=jnp.zeros([], bool), done=jnp.zeros([], bool), count=jnp.zeros([], jnp.int32),
        )

    @staticmethod
    def trial_point(line: Line, s: Search, params):
        return params + s.t * line.direction

    def finished(self, s: Search):
        return s.done | (s.count >= self.max_linesearch_steps)

    def step(self, line: Line, s: Search, params, value_and_grad) -> Search:
        """One trial: the objective at ``trial_point`` (``value_and_grad(point)``), then ``advance``."""
        return self.advance(line, s, *value_and_grad(self.trial_point(line, s, params)))

    def advance(self, line: Line, s: Search, f, g) -> Search:
        """The search after the trial at ``s.t`` gave objective ``f`` and gradient ``g``."""
        c1, c2 = self.c1, self.c2
        slope = jnp.vdot(g, line.direction)
        # Sufficient decrease, or its approximate form (Hager & Zhang 2005, as in
        # optax's zoom) once the decrease is below the objective's precision.
        approx = (f <= line.value + self.approx_dec_rtol * jnp.abs(line.value)) & (
            slope <= (2 * c1 - 1) * line.slope
        )
        armijo_fails = ~((f <= line.value + c1 * s.t * line.slope) | approx)
        curvature_ok = jnp.abs(slope) <= -c2 * line.slope
        # Bracketing phase (lo is the previous acceptable trial).
        not_lower = ~(f < s.f_lo)
        b_to_zoom_hi = armijo_fails | ((s.t_lo > 0) & not_lower)  # bracket [lo, t]
        b_done = ~b_to_zoom_hi & curvature_ok
        b_to_zoom_lo = ~b_to_zoom_hi & ~b_done & (slope >= 0)  # bracket [t, lo]
        # Zoom phase.
        z_hi = armijo_fails | not_lower
        z_done = ~z_hi & curvature_ok
        z_flip = ~z_hi & ~z_done & (slope * (s.t_hi - s.t_lo) >= 0)
        zoom = s.zoom
        done = jnp.where(zoom, z_done, b_done)
        new_lo = jnp.where(zoom, ~z_hi, ~b_to_zoom_hi)  # this trial becomes lo
        new_hi_is_trial = jnp.where(zoom, z_hi, b_to_zoom_hi)
        new_hi_is_old_lo = jnp.where(zoom, z_flip, b_to_zoom_lo)
        t_hi = jnp.where(new_hi_is_trial, s.t, jnp.where(new_hi_is_old_lo, s.t_lo, s.t_hi))
        f_hi = jnp.where(new_hi_is_trial, f, jnp.where(new_hi_is_old_lo, s.f_lo, s.f_hi))
        d_hi = jnp.where(new_hi_is_trial, slope, jnp.where(new_hi_is_old_lo, s.d_lo, s.d_hi))
        t_lo = jnp.where(new_lo, s.t, s.t_lo)
        f_lo = jnp.where(new_lo, f, s.f_lo)
        d_lo = jnp.where(new_lo, slope, s.d_lo)
        g_lo = jnp.where(new_lo, g, s.g_lo)
        in_zoom = zoom | b_to_zoom_hi | b_to_zoom_lo
        # Next trial: extrapolate while bracketing, interpolate inside the bracket.
        extrapolated = _cubic_minimizer(
            s.t_lo, s.f_lo, s.d_lo, s.t, f, slope, s.t + 0.01 * (s.t - s.t_lo), 10 * s.t
        )
        lower, upper = jnp.minimum(t_lo, t_hi), jnp.maximum(t_lo, t_hi)
        interpolated = _cubic_minimizer(t_lo, f_lo, d_lo, t_hi, f_hi, d_hi, lower, upper)
        margin = 0.1 * (upper - lower)
        too_close = (interpolated - lower < margin) | (upper - interpolated < margin)
        interpolated = jnp.where(too_close, (lower + upper) / 2, interpolated)
        collapsed = in_zoom & (upper - lower < line.step_tol)
        return Search(
            t=jnp.where(in_zoom, interpolated, extrapolated),
            t_lo=t_lo, f_lo=f_lo, d_lo=d_lo, g_lo=g_lo,
            t_hi=t_hi, f_hi=f_hi, d_hi=d_hi,
            zoom=in_zoom, done=done | collapsed, count=s.count + 1,
        )

    @staticmethod
    def result(line: Line, s: Search, previous=None) -> tuple[jax.Array, StrongWolfeState]:
        """The accepted update and the line-search state at the new point."""
        state = StrongWolfeState(value=s.f_lo, grad=s.g_lo, num_linesearch_steps=s.count, failed=s.t_lo == 0)
        return (s.t_lo * line.direction).astype(line.direction.dtype), state


def scale_by_strong_wolfe_linesearch(search: StrongWolfe = StrongWolfe()) -> optax.GradientTransformationExtraArgs:
    """``StrongWolfe`` as an optax transformation: the whole search in one while loop.

    Keeps the value and gradient at the accepted point in its state for
    ``optax.value_and_grad_from_state``.
    """

    def init_fn(params):
        return StrongWolfeState(
            value=jnp.asarray(jnp.inf, params.dtype),
            grad=jnp.zeros_like(params),
            num_linesearch_steps=jnp.zeros([], jnp.int32),
            failed=jnp.zeros([], bool),
        )

    def update_fn(updates, state, params, *, value, grad, value_fn, **extra):
        value_and_grad = jax.value_and_grad(value_fn)

        line, start = search.start(value, grad, updates)

        def body(s: Search) -> Search:
            return search.step(line, s, params, value_and_grad)

        return search.result(line, jax.lax.while_loop(lambda s: ~search.finished(s), body, start))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


@dataclass(frozen=True)
class Zoom:
    """optax's zoom line search (``optax.scale_by_zoom_linesearch`` with initial step 1, its
    other settings at optax's defaults) behind the same ``start`` -> ``step`` until ``finished``
    -> ``result`` as ``StrongWolfe``, so a batched trainer advances each member by one trial.

    optax chooses each trial inside its own step (a ``lax.cond`` that also evaluates the
    objective), so ``step`` evaluates through the ``value_and_grad`` it is given and there is no
    separate ``trial_point``; the state is optax's ``ZoomLinesearchState``, the result optax's
    ``ScaleByZoomLinesearchState``: the trials, steps and states of optax's own update.
    """

    max_linesearch_steps: int = 20

    @cached_property
    def _zoom(self):
        """optax's (init, step, continue) functions, built once (read while tracing only)."""
        from optax._src.linesearch import zoom_linesearch

        return zoom_linesearch(max_linesearch_steps=self.max_linesearch_steps, max_stepsize=None, tol=0.0,
                               increase_factor=2.0, slope_rtol=1e-4, curv_rtol=0.9, approx_dec_rtol=1e-6,
                               interval_threshold=1e-5, verbose=False)

    def start(self, value, grad, direction, params):
        """A search along ``direction`` from ``params`` (objective ``value``, gradient ``grad``)."""
        dtype = grad.dtype
        zero = jnp.zeros([], dtype)
        line = Line(direction, value, jnp.vdot(grad, direction), zero)
        return line, self._zoom[0](direction, params, value=value, grad=grad, initial_guess_strategy="one")

    def step(self, line: Line, s, params, value_and_grad):
        return self._zoom[1](s, value_and_grad_fn=lambda p: value_and_grad(p), fn_kwargs={})

    def finished(self, s):
        return ~self._zoom[2](s)

    @staticmethod
    def result(line: Line, s, previous):
        """The accepted update and optax's state at the new point (cast like ``previous``)."""
        learning_rate = s.stepsize
        state = optax.ScaleByZoomLinesearchState(
            learning_rate=learning_rate, value=s.value, grad=s.grad,
            info=optax.ZoomLinesearchInfo(num_linesearch_steps=s.count, decrease_error=s.decrease_error,
                                          curvature_error=s.curvature_error))
        return optax.tree.scale(learning_rate, line.direction), optax.tree.cast_like(state, other_tree=previous)


def line_search(linesearch: str, max_linesearch_steps: int) -> StrongWolfe | Zoom:
    """The line search ``lbfgs`` runs for this setting, trial by trial."""
    return Zoom(max_linesearch_steps) if linesearch == "zoom" else StrongWolfe(max_linesearch_steps)
