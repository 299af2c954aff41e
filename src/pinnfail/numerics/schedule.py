"""On-device chunks of L-BFGS iterations for S members of one run configuration.

A ``Problem`` is what a run configuration fixes (network, objective, points,
optimizer); a ``Carry`` is one member's state (stacked over members in a chunk).
Members share the configuration except for their seed and their regularization
strength lambda, which the objective takes as a traced per-member value: one
compiled chunk serves every member. ``make_chunk`` runs ``n`` iterations per
member on the device; ``make_metrics`` evaluates every member's loss terms.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from typing import Callable, NamedTuple, Sequence

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp
import optax

from pinnfail.numerics import lbfgs
from pinnfail.numerics.collocation import count_points, test_points, training_points
from pinnfail.numerics.linesearch import Line, Search, StrongWolfe, Zoom, line_search
from pinnfail.numerics.lbfgs import begin_iteration, end_iteration
from pinnfail.numerics.losses import Objective, make_objective
from pinnfail.numerics.model import DTYPES, Network, build_network
from pinnfail.numerics.pdes import PDE, get_pde
from pinnfail.numerics import history as H

SCHEDULES = ("auto", "while", "fixed_trip", "lockstep")
BLOCK, TAIL = 32, 4  # trial steps per block of the fixed-trip schedule: while iterations are owed, then to finish


class Carry(NamedTuple):
    params: jax.Array
    opt_state: lbfgs.LBFGSState
    iteration: jax.Array
    fevals: jax.Array
    diverged: jax.Array


@dataclass
class Problem:
    """Everything a run configuration fixes: network, objective, points, optimizer."""

    config: dict
    pde: PDE
    network: Network
    objective: Objective
    dtype: type
    train_points: dict
    optimizer: optax.GradientTransformationExtraArgs
    search: StrongWolfe | Zoom  # the optimizer's line search, trial by trial

    @classmethod
    def from_config(cls, config: dict) -> "Problem":
        pde = get_pde(config["pde"])
        network = build_network(pde, config)
        dtype = DTYPES[config["precision"]]
        return cls(
            config=config,
            pde=pde,
            network=network,
            objective=make_objective(pde, network, config),
            dtype=dtype,
            train_points={k: jnp.asarray(v) for k, v in training_points(pde, config, dtype).items()},
            optimizer=lbfgs.lbfgs(config["memory"], config["max_linesearch_steps"], config["linesearch"]),
            search=line_search(config["linesearch"], config["max_linesearch_steps"]),
        )

    @property
    def n_points(self) -> int:
        return count_points(self.train_points)

    def test_points(self, seed: int) -> dict:
        return {k: jnp.asarray(v) for k, v in test_points(self.pde, self.config, self.dtype, seed).items()}

    def lambdas(self, lams: Sequence[float] | None, n_members: int) -> jax.Array:
        """Per-member lambda as an array of the run's dtype (None: the config's for all)."""
        lams = [self.config["lambda"]] * n_members if lams is None else lams
        return jnp.asarray(lams, self.dtype)

    @cached_property
    def value_and_grad(self) -> Callable:
        return jax.jit(jax.value_and_grad(self.objective.total))

    def init_carry(self, seed: int, lam: float | None = None) -> Carry:
        """Fresh parameters and optimizer state, with the objective at the start in the state."""
        return self.carry_at(build_network(self.pde, self.config, seed).flat_init, lam)

    def carry_at(self, params, lam: float | None = None, iteration: int = 0, fevals: int = 0) -> Carry:
        """The state at ``params`` after ``iteration`` iterations and ``fevals`` objective
        evaluations, with an empty L-BFGS memory (a fresh start, or a finished run continued
        without its checkpoint): the first step is a gradient step, as at iteration 0."""
        params = jnp.asarray(params, self.dtype)
        lam = self.lambdas(None if lam is None else [lam], 1)[0]
        value, grad = self.value_and_grad(params, self.train_points, lam)
        return Carry(
            params=params,
            opt_state=lbfgs.at_point(self.optimizer.init(params), value, grad),
            iteration=jnp.asarray(iteration, jnp.int64),
            fevals=jnp.asarray(fevals, jnp.int64),
            diverged=jnp.zeros([], bool),
        )


class InFlight(NamedTuple):
    """Per member, within a trial-by-trial chunk: the iteration under way."""

    line: Line
    search: Search
    started: jax.Array  # the iteration has its direction
    done: jax.Array  # iterations finished in this chunk


def stack(trees: Sequence):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def member(tree, i: int):
    return jax.tree.map(lambda x: x[i], tree)


def _where(mask, new, old):
    """``new`` where ``mask`` (a scalar per member), else ``old``, leaf by leaf."""
    return jax.tree.map(lambda a, b: jnp.where(mask, a, b), new, old)


def _commit(carry: Carry, opt_state, params, finished, steps) -> Carry:
    """The tail every step shares: members whose iteration ``finished`` take ``params`` if
    the objective and parameters are finite (else they are marked diverged and keep theirs),
    and count the iteration's ``steps`` objective evaluations (plus the initial one)."""
    ok = jnp.isfinite(lbfgs.value(opt_state)) & jnp.all(jnp.isfinite(params))
    moved = finished & ok
    return Carry(
        params=jnp.where(moved, params, carry.params),
        opt_state=opt_state,
        iteration=carry.iteration + moved,
        fevals=carry.fevals + finished * (steps + (carry.iteration == 0)),
        diverged=carry.diverged | (finished & ~ok),
    )


def whole_step(total, opt, carry: Carry, points, lam, live) -> Carry:
    """One whole L-BFGS iteration of one member through optax's update (its own line search
    inside: optax's zoom, or ours).

    The objective at the current parameters is always in the line search state (init_carry
    puts the first one there). optax.value_and_grad_from_state would guard it with a
    lax.cond, which vmap turns into evaluating both branches.
    """
    value, grad = lbfgs.value(carry.opt_state), lbfgs.grad(carry.opt_state)
    updates, opt_state = opt.update(grad, carry.opt_state, carry.params, value=value, grad=grad,
                                    value_fn=lambda p: total(p, points, lam))
    params = optax.apply_updates(carry.params, updates)
    return _commit(carry, opt_state, params, live, lbfgs.linesearch_steps(opt_state))


def lockstep_step(total, opt, carry: Carry, points, lams, live) -> Carry:
    """``whole_step`` for every member at once. Members start together and every member's
    optimizer state advances every iteration, so their L-BFGS counters are equal; passing the
    counter unbatched keeps the history write an in-place slice update."""
    count = lbfgs.count(carry.opt_state)[0]

    def one(c: Carry, lam, alive) -> Carry:
        return whole_step(total, opt, c._replace(opt_state=lbfgs.with_count(c.opt_state, count)), points, lam, alive)

    return jax.vmap(one)(carry, lams, live)


def idle(search: Search, carry: Carry) -> InFlight:
    """No iteration under way (the line and search are placeholders, never read)."""
    value, grad = lbfgs.value(carry.opt_state), lbfgs.grad(carry.opt_state)
    line, s = search.start(value, grad, grad, carry.params)
    return InFlight(line, s, jnp.zeros([], bool), jnp.zeros([], carry.iteration.dtype))


def trial_step(total, search: Search, carry: Carry, flight: InFlight, points, lam, alive) -> tuple[Carry, InFlight]:
    """One member's next line-search trial (starting an iteration first if it has none); an
    iteration whose search finishes is committed (``_commit``)."""
    begin = alive & ~flight.started
    opt_state, new_line, new_search = begin_iteration(carry.opt_state, carry.params, search, begin)
    line, s = _where(begin, (new_line, new_search), (flight.line, flight.search))
    s = _where(alive, search.step(line, s, carry.params, lambda p: jax.value_and_grad(total)(p, points, lam)), s)
    finished = alive & search.finished(s)
    updates, opt_state = end_iteration(opt_state, search, line, s, finished)
    carry = _commit(carry, opt_state, carry.params + updates, finished, s.count)
    return carry, InFlight(line, s, (flight.started | begin) & ~finished, flight.done + finished)


def _owing(active, n):
    """Members still owed iterations of the chunk: active, not diverged, fewer than ``n`` done."""
    def alive(state):
        c, f = state
        return active & ~c.diverged & (f.done < n)
    return alive


def run_while(step_fn, carry: Carry, flight: InFlight, points, n, active, lams) -> Carry:
    """Trial steps in a ``while_loop`` until every active member has its ``n`` iterations."""
    alive = _owing(active, n)
    carry, _ = jax.lax.while_loop(lambda st: alive(st).any(),
                                  lambda st: step_fn(*st, points, lams, alive(st)), (carry, flight))
    return carry


def run_fixed_trip(step_fn, carry: Carry, flight: InFlight, points, n, active, lams, block: int, tail: int,
                   unroll: int) -> Carry:
    """Trial steps in ``fori_loop`` blocks of a trip count known at compile time: blocks of
    ``block`` while some member owes at least ``block`` iterations, then of ``tail`` until
    every member has its ``n``."""
    alive = _owing(active, n)

    def owed(state):
        return jnp.max(jnp.where(alive(state), n - state[1].done, 0))

    def blocks(size, keep_going, state):
        def run(st):
            return jax.lax.fori_loop(0, size, lambda i, st: step_fn(*st, points, lams, alive(st)), st,
                                     unroll=min(unroll, size))
        return jax.lax.while_loop(keep_going, run, state)

    state = blocks(block, lambda st: owed(st) >= block, (carry, flight))
    carry, _ = blocks(tail, lambda st: alive(st).any(), state)
    return carry


@dataclass(frozen=True)
class Chunk:
    """A jitted chunk of iterations (``make_chunk``) and the schedule it runs.

    Schedules (``schedule="auto"``: ``fixed_trip`` on GPUs, ``while`` elsewhere):

    * ``while``, one member: the optax-style update in a ``fori_loop`` over
      iterations, each with its line search in a ``while_loop`` (no vmap).
      Several members with the strong-Wolfe search run *decoupled*: each loop step
      evaluates one line-search trial for every member at once, and a member whose
      search ends takes its step and starts its next iteration at the following
      step, in a ``while_loop`` until every member has its ``n`` iterations.
      Members thus never wait for each other's line searches: a chunk costs the
      largest number of trials any member needs for its ``n`` iterations, not the
      sum over iterations of the per-iteration maximum (lockstep). Each member
      follows exactly the trials it would follow alone, with either line search
      (``linesearch.StrongWolfe``, ``linesearch.Zoom``: one trial per ``step``).
    * ``fixed_trip``: the decoupled trial steps (also for one
      member, unbatched) in ``fori_loop`` blocks of a trip count known at compile
      time, so a GPU copies a loop predicate to the host once per block instead of
      once per trial: blocks of ``block`` steps while some member still owes at
      least ``block`` iterations (every iteration takes at least one trial, so such
      a member wastes nothing), then blocks of ``tail`` steps until every member has
      its ``n`` iterations. A member that is done sits out the rest of a block (its
      trials are evaluated and discarded). The iterates are those of ``while``;
      ``unroll``: trial steps per loop trip.
    * ``lockstep`` (for comparison, ``benchmarks/gpu_batching.py``): whole iterations of
      every member at once, optax's update vmapped; a batched line search runs until its
      slowest member is done: the trials of ``while``, summed in another order (round-off).
    """

    jitted: Callable
    schedule: str
    n_members: int
    lambdas: Callable

    def __call__(self, carry: Carry, points, n, active, lams=None) -> Carry:
        return self.jitted(carry, points, n, active, self.lambdas(lams, self.n_members))


def make_chunk(problem: Problem, n_members: int, schedule: str = "auto", block: int = BLOCK, tail: int = TAIL,
               unroll: int = 1) -> Chunk:
    """A ``Chunk``: ``chunk(carry, points, n, active, lams=None)`` runs ``n`` L-BFGS
    iterations for every active member (stacked carries; lams: per-member lambda,
    None for the config's), jitted whole.

    Schedules: see ``Chunk``.
    Members that are inactive or have diverged keep their parameters and counters.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule: {schedule!r} is not one of {SCHEDULES}")
    if schedule == "auto":
        schedule = "while" if jax.default_backend() == "cpu" else "fixed_trip"
    total, opt, search = problem.objective.total, problem.optimizer, problem.search
    one = n_members == 1  # one member runs unbatched: batched ring-buffer writes become full scatters

    def trials(carry: Carry):
        """The trial step, unbatched for one member; its carry; the members' idle flights."""
        if one:
            single = member(carry, 0)
            return partial(trial_step, total, search), single, idle(search, single)
        return jax.vmap(partial(trial_step, total, search), in_axes=(0, 0, None, 0, 0)), carry, \
            jax.vmap(partial(idle, search))(carry)

    def while_chunk(carry: Carry, points, n, active, lams):
        if one:
            single, lam = member(carry, 0), lams[0]
            single = jax.lax.fori_loop(0, n, lambda i, c: whole_step(total, opt, c, points, lam, active[0] & ~c.diverged),
                                       single)
            return jax.tree.map(lambda a: a[None], single)
        step_fn, carry, flight = trials(carry)
        return run_while(step_fn, carry, flight, points, n, active, lams)

    def fixed_trip_chunk(carry: Carry, points, n, active, lams):
        step_fn, carry, flight = trials(carry)
        if one:
            active, lams = active[0], lams[0]
        carry = run_fixed_trip(step_fn, carry, flight, points, n, active, lams, block, tail, unroll)
        return jax.tree.map(lambda a: a[None], carry) if one else carry

    def lockstep_chunk(carry: Carry, points, n, active, lams):
        return jax.lax.fori_loop(0, n, lambda i, c: lockstep_step(total, opt, c, points, lams, active & ~c.diverged),
                                 carry)

    chunks = {"while": while_chunk, "fixed_trip": fixed_trip_chunk, "lockstep": lockstep_chunk}
    jitted = jax.jit(chunks[schedule], donate_argnums=0)
    return Chunk(jitted, schedule, n_members, problem.lambdas)


def make_metrics(problem: Problem) -> Callable:
    """Jitted per-member train terms, penalty, objective and test terms:
    ``metrics(params, train_points, test_points, lams=None)``.

    Where the PDE has an exact solution, the rMAE on the test domain points is
    recorded too (monitoring only: nothing is selected or stopped on it).
    """
    obj, pde, network = problem.objective, problem.pde, problem.network
    pde_params = pde.params(problem.config["pde_params"])

    def one_member(params, train_pts, test_pts, lam):
        out = {
            "train": obj.terms(params, train_pts),
            H.PENALTY: obj.penalty(params, train_pts, lam),
            H.OBJECTIVE: obj.total(params, train_pts, lam),
            "test": obj.terms(params, test_pts),
        }
        if pde.exact is not None:
            x, t = test_pts["domain"][:, 0], test_pts["domain"][:, 1]
            u = network.apply(params, x, t)
            exact = pde.exact(x, t, pde_params)
            out[H.TEST_RMAE] = jnp.sum(jnp.abs(u - exact)) / jnp.sum(jnp.abs(exact))
        return out

    jitted = jax.jit(jax.vmap(one_member, in_axes=(0, None, 0, 0)))

    def metrics(params, train_pts, test_pts, lams=None):
        return jitted(params, train_pts, test_pts, problem.lambdas(lams, params.shape[0]))

    return metrics
