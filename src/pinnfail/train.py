"""PINN training with L-BFGS: on-device chunks, stop rule, checkpoints, batched seeds.

A job trains S members (seeds) of one run configuration at once: parameters,
L-BFGS states and test points are stacked and the chunk of ``log_every``
iterations is ``jax.vmap``-ed over members, each member taking its own line-search
trials (see ``make_chunk``). A member that has stopped is frozen. S = 1 is a
single run.

Between chunks the host records the history, applies the stop rule and saves
checkpoints; inside a chunk nothing leaves the device.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import io
from .collocation import count_points, test_points, training_points
from .config import config_hash, run_config
from .lbfgs import Line, Search, StrongWolfe, begin_iteration, end_iteration, lbfgs, strong_wolfe
from .losses import Objective, make_objective
from .model import DTYPES, Network, build_network
from .pdes import PDE, get_pde

STOP_REASONS = ("converged", "max_iters", "diverged", "interrupted")
RESUMABLE_KEYS = ("max_iters", "checkpoint_every", "keep_checkpoint")  # may change without invalidating a checkpoint


class Carry(NamedTuple):
    params: jax.Array
    opt_state: tuple
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
    search: StrongWolfe | None  # the optimizer's line search, if it can run trial by trial

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
            optimizer=lbfgs(config["memory"], config["max_linesearch_steps"], config["linesearch"]),
            search=strong_wolfe(config["linesearch"], config["max_linesearch_steps"]),
        )

    @property
    def n_points(self) -> int:
        return count_points(self.train_points)

    def test_points(self, seed: int) -> dict:
        return {k: jnp.asarray(v) for k, v in test_points(self.pde, self.config, self.dtype, seed).items()}

    @cached_property
    def value_and_grad(self) -> Callable:
        return jax.jit(jax.value_and_grad(self.objective.total))

    def init_carry(self, seed: int) -> Carry:
        """Fresh parameters and optimizer state, with the objective at the start in the state."""
        params = build_network(self.pde, self.config, seed).flat_init
        value, grad = self.value_and_grad(params, self.train_points)
        return Carry(
            params=params,
            opt_state=optax.tree.set(self.optimizer.init(params), value=value, grad=grad),
            iteration=jnp.zeros([], jnp.int64),
            fevals=jnp.zeros([], jnp.int64),
            diverged=jnp.zeros([], bool),
        )


class InFlight(NamedTuple):
    """Per member, within a decoupled chunk: the iteration under way."""

    line: Line
    search: Search
    started: jax.Array  # the iteration has its direction
    done: jax.Array  # iterations finished in this chunk


def _select(mask, new, old):
    """Per-member choice between two stacked pytrees."""
    return jax.tree.map(lambda a, b: jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b), new, old)


def make_chunk(problem: Problem, n_members: int) -> Callable:
    """A jitted, member-batched function running ``n`` L-BFGS iterations per member.

    One member runs the optax chain in a ``fori_loop`` (no vmap). Several members
    with the strong-Wolfe search run *decoupled*: each loop step evaluates one
    line-search trial for every member at once, and a member whose search ends
    takes its step and starts its next iteration at the following step. Members
    thus never wait for each other's line searches: a chunk costs the largest
    number of trials any member needs for its ``n`` iterations, not the sum over
    iterations of the per-iteration maximum (lockstep). Each member follows exactly
    the trials it would follow alone. Optax's zoom search runs whole iterations in
    lockstep. Members that are inactive or have diverged keep their parameters and
    counters.
    """
    total = problem.objective.total
    opt, search = problem.optimizer, problem.search

    def step(carry: Carry, points, live) -> Carry:
        # The objective at the current parameters is always in the line search state
        # (init_carry puts the first one there). optax.value_and_grad_from_state would
        # guard it with a lax.cond, which vmap turns into evaluating both branches.
        value = optax.tree.get(carry.opt_state, "value")
        grad = optax.tree.get(carry.opt_state, "grad")
        updates, opt_state = opt.update(
            grad, carry.opt_state, carry.params, value=value, grad=grad,
            value_fn=lambda p: total(p, points),
        )
        params = optax.apply_updates(carry.params, updates)
        ok = jnp.isfinite(opt_state[-1].value) & jnp.all(jnp.isfinite(params))
        moved = live & ok
        return Carry(
            params=jnp.where(moved, params, carry.params),
            opt_state=opt_state,
            iteration=carry.iteration + moved,
            fevals=carry.fevals + live * (_linesearch_steps(opt_state[-1]) + (carry.iteration == 0)),
            diverged=carry.diverged | (live & ~ok),
        )

    def lockstep_step(carry: Carry, points, live) -> Carry:
        # Members start together and every member's optimizer state advances every
        # iteration, so their L-BFGS counters are equal. Passing the counter unbatched
        # keeps the history write an in-place slice update.
        count = carry.opt_state[0].count[0]

        def one(c: Carry, alive) -> Carry:
            state = (c.opt_state[0]._replace(count=count), *c.opt_state[1:])
            return step(c._replace(opt_state=state), points, alive)

        return jax.vmap(one)(carry, live)

    value_and_grad = jax.vmap(jax.value_and_grad(total), (0, None))

    def decoupled_step(carry: Carry, flight: InFlight, points, alive) -> tuple[Carry, InFlight]:
        begin = alive & ~flight.started
        opt_state, new_line, new_search = jax.vmap(lambda s, x, a: begin_iteration(s, x, search, a))(
            carry.opt_state, carry.params, begin
        )
        line, s = _select(begin, (new_line, new_search), (flight.line, flight.search))
        f, g = value_and_grad(jax.vmap(search.trial_point)(line, s, carry.params), points)
        s = _select(alive, jax.vmap(search.advance)(line, s, f, g), s)
        finished = alive & jax.vmap(search.finished)(s)
        updates, ended = jax.vmap(end_iteration)(opt_state, line, s)
        params = carry.params + updates
        ok = jnp.isfinite(ended[-1].value) & jnp.all(jnp.isfinite(params), axis=-1)
        moved = finished & ok
        carry = Carry(
            params=_select(moved, params, carry.params),
            opt_state=(*opt_state[:-1], _select(finished, ended[-1], opt_state[-1])),
            iteration=carry.iteration + moved,
            fevals=carry.fevals + finished * (s.count + (carry.iteration == 0)),
            diverged=carry.diverged | (finished & ~ok),
        )
        return carry, InFlight(line, s, (flight.started | begin) & ~finished, flight.done + finished)

    def chunk(carry: Carry, points, n, active):
        if n_members == 1:  # no vmap: batched ring-buffer writes become full scatters
            single = jax.tree.map(lambda a: a[0], carry)
            single = jax.lax.fori_loop(
                0, n, lambda i, c: step(c, points, active[0] & ~c.diverged), single
            )
            return jax.tree.map(lambda a: a[None], single)
        if search is None:
            return jax.lax.fori_loop(
                0, n, lambda i, c: lockstep_step(c, points, active & ~c.diverged), carry
            )
        line = carry.opt_state[-1]
        placeholder_line, placeholder_search = jax.vmap(search.start)(line.value, line.grad, line.grad)
        flight = InFlight(
            line=placeholder_line, search=placeholder_search,  # never read: no member has started
            started=jnp.zeros(n_members, bool),
            done=jnp.zeros(n_members, carry.iteration.dtype),
        )

        def alive(state):
            c, f = state
            return active & ~c.diverged & (f.done < n)

        carry, _ = jax.lax.while_loop(
            lambda state: alive(state).any(),
            lambda state: decoupled_step(*state, points, alive(state)),
            (carry, flight),
        )
        return carry

    return jax.jit(chunk, donate_argnums=0)


def _linesearch_steps(search_state) -> jax.Array:
    return getattr(search_state, "info", search_state).num_linesearch_steps


def make_metrics(problem: Problem) -> Callable:
    """Jitted per-member train terms, penalty, objective and test terms.

    Where the PDE has an exact solution, the rMAE on the test domain points is
    recorded too (monitoring only: nothing is selected or stopped on it).
    """
    obj, pde, network = problem.objective, problem.pde, problem.network
    pde_params = pde.params(problem.config["pde_params"])

    def one_member(params, train_pts, test_pts):
        out = {
            "train": obj.terms(params, train_pts),
            "penalty": obj.penalty(params, train_pts),
            "objective": obj.total(params, train_pts),
            "test": obj.terms(params, test_pts),
        }
        if pde.exact is not None:
            x, t = test_pts["domain"][:, 0], test_pts["domain"][:, 1]
            u = network.apply(params, x, t)
            exact = pde.exact(x, t, pde_params)
            out["test_rmae"] = jnp.sum(jnp.abs(u - exact)) / jnp.sum(jnp.abs(exact))
        return out

    return jax.jit(jax.vmap(one_member, in_axes=(0, None, 0)))


def stack(trees: Sequence):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def member(tree, i: int):
    return jax.tree.map(lambda x: x[i], tree)


@dataclass
class History:
    """Host-side record of one member, one row per ``log_every`` iterations."""

    rows: dict = field(default_factory=dict)

    def append(self, **values) -> None:
        for key, value in values.items():
            self.rows.setdefault(key, []).append(np.asarray(value))

    def arrays(self) -> dict:
        return {k: np.asarray(v) for k, v in self.rows.items()}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "History":
        return cls({k: list(np.asarray(v)) for k, v in arrays.items()})

    def last(self, key: str):
        return self.rows[key][-1] if self.rows.get(key) else None


class Interrupt:
    """Turns SIGTERM/SIGINT into a flag checked between chunks."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self._old = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not in the main thread
                pass
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


@dataclass
class Member:
    seed: int
    out: Path
    checkpoint: Path
    history: History
    wall_time: float = 0.0
    stop_reason: str | None = None
    resumed_from: int = 0


def stop_reason(objective: Sequence[float], iteration: int, diverged: bool, lag: int,
                tol: float, max_iters: int) -> str | None:
    """The paper's stop rule on the objective history (one entry per chunk).

    diverged: a non-finite loss; converged: the relative change over the last
    ``lag`` entries is at most ``tol`` (sqrt(eps) of the run's precision);
    max_iters: the iteration budget is spent; None: go on.
    """
    if diverged or not np.isfinite(objective[-1]):
        return "diverged"
    if lag and len(objective) > lag:
        before = float(objective[-1 - lag])
        if abs(before - float(objective[-1])) <= tol * abs(before):
            return "converged"
    if iteration >= max_iters:
        return "max_iters"
    return None


def _resume_hash(config: dict) -> str:
    return config_hash({k: v for k, v in config.items() if k not in RESUMABLE_KEYS + ("seed",)})


def save_checkpoint(path: Path, problem: Problem, carry: Carry, m: Member) -> None:
    leaves = jax.tree.leaves(carry)
    with io.atomic_h5(path) as f:
        io.set_attrs(f, {"resume_hash": _resume_hash(problem.config), "wall_time_s": m.wall_time,
                         "seed": m.seed})
        io.write_group(f.create_group("carry"), {f"{i:04d}": np.asarray(x) for i, x in enumerate(leaves)})
        io.write_group(f.create_group("history"), m.history.arrays())


def load_checkpoint(path: Path, problem: Problem, template: Carry, m: Member) -> Carry | None:
    """The saved carry if ``path`` holds a checkpoint of this configuration, else None."""
    if not path.exists():
        return None
    with h5py.File(path, "r") as f:
        if f.attrs.get("resume_hash") != _resume_hash(problem.config) or f.attrs.get("seed") != m.seed:
            print(f"pinnfail: ignoring checkpoint {path} (another configuration)", file=sys.stderr)
            return None
        stored = io.read_group(f["carry"])
        history = io.read_group(f["history"])
        wall = float(f.attrs["wall_time_s"])
    treedef = jax.tree.structure(template)
    leaves = [jnp.asarray(stored[k]) for k in sorted(stored)]
    m.history, m.wall_time = History.from_arrays(history), wall
    return jax.tree.unflatten(treedef, leaves)


def write_run(m: Member, problem: Problem, carry: Carry) -> None:
    """The run artifact: parameters, history, points, final losses, provenance."""
    hist = m.history.arrays()
    config = {**problem.config, "seed": m.seed}
    attrs = io.provenance(config, m.wall_time)
    attrs.update({
        "stop_reason": m.stop_reason,
        "iterations": int(carry.iteration),
        "fevals": int(carry.fevals),
        "n_points": problem.n_points,
        "config_hash": config_hash(config),
        "resumed_from_iteration": m.resumed_from,
        "final_objective": float(hist["objective"][-1]),
        "final_train_loss": float(hist["train_total"][-1]),
        "final_test_loss": float(hist["test_total"][-1]),
        "term_names": list(problem.objective.term_names),
    })
    io.write_run(m.out, attrs, carry.params, hist, problem.train_points)


def train(
    config: dict,
    seeds: Sequence[int],
    outs: Sequence[str | os.PathLike],
    checkpoints: Sequence[str | os.PathLike] | None = None,
    progress: bool = True,
) -> list[Member]:
    """Train one configuration for several seeds at once; one run.h5 per seed.

    Returns the members with their stop reasons. On SIGTERM/SIGINT it saves
    checkpoints, writes run.h5 files marked ``interrupted`` and raises ``SystemExit(143)``.
    """
    config = run_config(config)
    if len(seeds) != len(outs):
        raise ValueError("train: one output path per seed is required")
    checkpoints = checkpoints or [f"{o}.ckpt.h5" for o in outs]
    problem = Problem.from_config(config)
    members = [
        Member(seed=s, out=Path(o), checkpoint=Path(c), history=History())
        for s, o, c in zip(seeds, outs, checkpoints)
    ]
    fresh = [problem.init_carry(s) for s in seeds]
    carries = []
    for m, c in zip(members, fresh):
        loaded = load_checkpoint(m.checkpoint, problem, c, m)
        if loaded is not None:
            m.resumed_from = int(loaded.iteration)
            if progress:
                print(f"pinnfail: seed {m.seed} resumes at iteration {m.resumed_from}", file=sys.stderr)
        carries.append(loaded if loaded is not None else c)
    carry = stack(carries)
    tests = stack([problem.test_points(s) for s in seeds])
    chunk, metrics = make_chunk(problem, len(members)), make_metrics(problem)
    eps = float(jnp.finfo(problem.dtype).eps)
    tol = math.sqrt(eps)
    log_every, window = config["log_every"], config["stop_window"]
    max_iters, ckpt_every = config["max_iters"], config["checkpoint_every"]

    def record(carry, elapsed, which):
        values = jax.device_get(metrics(carry.params, problem.train_points, tests))
        for i in which:
            m = members[i]
            m.wall_time += elapsed
            train_terms = {k: v[i] for k, v in values["train"].items()}
            test_terms = {k: v[i] for k, v in values["test"].items()}
            m.history.append(
                iteration=carry.iteration[i], fevals=carry.fevals[i], wall_time=m.wall_time,
                objective=values["objective"][i], penalty=values["penalty"][i],
                train_total=sum(train_terms.values()), test_total=sum(test_terms.values()),
                **{f"train_{k}": v for k, v in train_terms.items()},
                **{f"test_{k}": v for k, v in test_terms.items()},
                **({"test_rmae": values["test_rmae"][i]} if "test_rmae" in values else {}),
            )

    def decide(m: Member, iteration: int, diverged: bool) -> str | None:
        lag = window // log_every if window else 0
        return stop_reason(m.history.rows["objective"], iteration, diverged, lag, tol, max_iters)

    record(carry, 0.0, [i for i, m in enumerate(members) if not m.history.rows])
    for i, m in enumerate(members):
        if m.resumed_from:
            m.stop_reason = decide(m, m.resumed_from, False)
    active = np.array([m.stop_reason is None for m in members])
    last_print = time.perf_counter()
    with Interrupt() as interrupt:
        while active.any():
            start = time.perf_counter()
            n = int(min(log_every, max_iters - np.asarray(carry.iteration)[active].max()))
            carry = chunk(carry, problem.train_points, n, jnp.asarray(active))
            iterations = jax.device_get(carry.iteration)
            elapsed = time.perf_counter() - start
            ran = np.flatnonzero(active)
            record(carry, elapsed, ran)
            diverged = jax.device_get(carry.diverged)
            for i in ran:
                members[i].stop_reason = decide(members[i], int(iterations[i]), bool(diverged[i]))
                active[i] = members[i].stop_reason is None
            due = ckpt_every and any(iterations[i] % ckpt_every == 0 for i in np.flatnonzero(active))
            if interrupt.requested or due:
                for i in np.flatnonzero(active):
                    save_checkpoint(members[i].checkpoint, problem, member(carry, i), members[i])
            if progress and (time.perf_counter() - last_print > 5 or not active.any()):
                last_print = time.perf_counter()
                _print_progress(config, members, iterations, elapsed, n)
            if interrupt.requested:
                for i in np.flatnonzero(active):
                    members[i].stop_reason = "interrupted"
                break
    for i, m in enumerate(members):
        write_run(m, problem, member(carry, i))
        if config["keep_checkpoint"] and m.stop_reason != "interrupted":
            save_checkpoint(m.checkpoint, problem, member(carry, i), m)
        elif m.stop_reason != "interrupted" and m.checkpoint.exists():
            m.checkpoint.unlink()
    if interrupt.requested:
        raise SystemExit(143)
    return members


def _print_progress(config: dict, members: Sequence[Member], iterations, elapsed: float, n: int) -> None:
    for m, it in zip(members, iterations):
        h = m.history.rows
        rate = n / elapsed if elapsed > 0 else float("nan")
        print(
            f"[{config['pde']} {config['regularizer']} {config['precision']} seed {m.seed}] "
            f"it {int(it)}/{config['max_iters']}  train {float(h['train_total'][-1]):.3e}  "
            f"test {float(h['test_total'][-1]):.3e}  {rate:.0f} it/s"
            + (f"  ({m.stop_reason})" if m.stop_reason else ""),
            file=sys.stderr, flush=True,
        )
