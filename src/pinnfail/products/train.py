"""PINN training: the host loop over on-device chunks, stop rule, checkpoints, run files.

A job trains S members of one run configuration at once, each with its own seed
and lambda: parameters, L-BFGS states and test points are stacked and each chunk
of ``log_every`` iterations runs on the device for every member (``schedule``).
A member that has stopped is frozen. S = 1 is a single run.

Between chunks the host records the history, applies the stop rule and saves
checkpoints; inside a chunk nothing leaves the device.

A member starts from, in this order: its checkpoint (``<checkpoint>``: the full state,
L-BFGS memory included, of an unfinished run, or of a finished one kept with
``keep_checkpoint``), which resumes it exactly; a finished run of the same configuration but
for a smaller ``max_iters`` (``continue_from``, or the copy ``<checkpoint>.last.h5`` that
``keep_last`` leaves), which *continues* it from its final parameters with an empty L-BFGS
memory; else fresh parameters. A continuation's history goes on from the run's last
iteration and its provenance names the run, its revision and every iteration where the
L-BFGS memory restarted (``lbfgs_restarts``).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
from pinnfail.artifacts import hdf5
from pinnfail.artifacts import formats
from pinnfail.artifacts import provenance
import jax
import jax.numpy as jnp
import numpy as np

from pinnfail.artifacts import checkpoint
from pinnfail.numerics.config import CONTINUABLE, RESUMABLE_KEYS, ConfigError, config_hash, run_config, stop_tolerance
from pinnfail.numerics.schedule import Carry, Problem, make_chunk, make_metrics, member, stack
from pinnfail.numerics import history as H



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
    config: dict  # the run configuration with this member's seed and lambda
    out: Path
    checkpoint: Path
    history: History
    wall_time: float = 0.0
    stop_reason: str | None = None
    resumed_from: int = 0
    revision: str = ""  # the source tree's git revision when training started (provenance.git_revision)
    continue_from: Path | None = None  # a finished run to continue (an error if it cannot be)
    code_version: str = ""  # the code that trains (the workflow's train stage hash): a kept
    # finished run of other code is not continued
    continued: dict = field(default_factory=dict)  # the run continued: path, revision, iteration
    restarts: list = field(default_factory=list)  # iterations where the L-BFGS memory restarted

    @property
    def last(self) -> Path:
        """Where ``keep_last`` copies the finished run.h5 (beside the checkpoint)."""
        return last_of(self.checkpoint)

    @property
    def seed(self) -> int:
        return self.config["seed"]

    @property
    def lam(self) -> float:
        return self.config["lambda"]


def stop_reason(objective: Sequence[float], iteration: int, diverged: bool, lag: int,
                tol: float, max_iters: int) -> str | None:
    """The paper's stop rule on the objective history (one entry per chunk).

    diverged: a non-finite loss; converged: the relative change over the last
    ``lag`` entries is at most ``tol`` (by default sqrt(eps) of the run's precision);
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


def last_of(checkpoint_path) -> Path:
    """The copy of a finished run kept beside its checkpoint: ``X.ckpt.h5`` -> ``X.last.h5``."""
    path = Path(checkpoint_path)
    stem = path.name[: -len(".ckpt.h5")] if path.name.endswith(".ckpt.h5") else path.name
    return path.with_name(stem + ".last.h5")


def _resume_hash(config: dict) -> str:
    return config_hash({k: v for k, v in config.items() if k not in RESUMABLE_KEYS + ("seed",)})


def save_checkpoint(m: Member, carry: Carry) -> None:
    checkpoint.save(m.checkpoint, carry, m.history.arrays(), {
        "resume_hash": _resume_hash(m.config), "seed": m.seed, "wall_time_s": m.wall_time,
        "continued": json.dumps(m.continued, sort_keys=True), "lbfgs_restarts": json.dumps(m.restarts)})


def load_checkpoint(m: Member, template: Carry) -> Carry | None:
    """The saved carry if ``m.checkpoint`` holds a checkpoint of this member, else None."""
    loaded = checkpoint.load(m.checkpoint, template, {"resume_hash": _resume_hash(m.config), "seed": m.seed},
                             required=("wall_time_s",))
    if loaded is None:
        return None
    carry, history, attrs = loaded
    m.history, m.wall_time = History.from_arrays(history), float(attrs["wall_time_s"])
    m.continued = json.loads(attrs.get("continued", "{}"))
    m.restarts = json.loads(attrs.get("lbfgs_restarts", "[]"))
    return carry


def why_not_continued(config: dict, run: formats.Run) -> str | None:
    """Why ``run`` cannot be continued as the run ``config`` (seed included) describes, or None:
    it must have the same settings but ``RESUMABLE_KEYS``, have ended by the cap or the stop
    rule, and have at most ``config``'s ``max_iters`` iterations."""
    theirs = {k: v for k, v in run.config.items() if k not in RESUMABLE_KEYS}
    ours = {k: v for k, v in config.items() if k not in RESUMABLE_KEYS}
    differing = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
    if differing:
        return f"its {differing[0]} is {theirs.get(differing[0])!r}, this run's {ours.get(differing[0])!r}"
    if run.attrs["stop_reason"] not in CONTINUABLE:
        return f"it ended {run.attrs['stop_reason']}"
    if int(run.attrs["iterations"]) > config["max_iters"]:
        return f"it has {int(run.attrs['iterations'])} iterations, more than max_iters {config['max_iters']}"
    return None


def load_continuation(m: Member, problem: Problem) -> Carry | None:
    """The state to continue ``m`` from: its ``continue_from`` run (an error naming the file if
    it cannot be continued), else the finished run kept at ``m.last`` if it can be; None if
    neither. The L-BFGS memory starts empty; the history and wall time go on from the run's."""
    path, explicit = (m.continue_from, True) if m.continue_from is not None else (m.last, False)
    if not explicit and not path.exists():
        return None
    try:
        run = formats.Run.read(path)
        why = why_not_continued(m.config, run)
        if not why and not explicit and run.attrs.get("code_version", "") != m.code_version:
            why = "trained by other code"
    except hdf5.ArtifactError as err:
        if explicit:
            raise
        why = str(err).removeprefix(f"{path}: ")
    if why:
        if explicit:
            raise ConfigError(f"continue_from: cannot continue {path}: {why}")
        print(f"pinnfail: not continuing {path} ({why}); starting fresh", file=sys.stderr)
        return None
    iteration = int(run.attrs["iterations"])
    m.history, m.wall_time = History.from_arrays(run.history), float(run.attrs["wall_time_s"])
    m.continued = {"run": str(path), "git_revision": run.attrs.get("git_revision", "unknown"),
                   "iteration": iteration}
    m.restarts = json.loads(run.attrs.get("lbfgs_restarts", "[]")) + [iteration]
    return problem.carry_at(run.params, m.lam, iteration, int(run.attrs["fevals"]))


def write_member(m: Member, problem: Problem, carry: Carry) -> None:
    """The run artifact: parameters, history, points, final losses, provenance."""
    hist = m.history.arrays()
    attrs = provenance.provenance(m.config, m.wall_time)
    attrs.update({
        "git_revision": m.revision or attrs["git_revision"],  # the code that ran, not the tree at the end
        "stop_reason": m.stop_reason,
        "iterations": int(carry.iteration),
        "fevals": int(carry.fevals),
        "n_points": problem.n_points,
        "config_hash": config_hash(m.config),
        "resumed_from_iteration": m.resumed_from,
        "continued_from_iteration": int(m.continued.get("iteration", 0)),
        "continued_from": json.dumps(m.continued, sort_keys=True),
        "lbfgs_restarts": json.dumps(m.restarts),
        "code_version": m.code_version,
        "final_objective": float(hist[H.OBJECTIVE][-1]),
        "final_train_loss": float(hist[H.TRAIN_TOTAL][-1]),
        "final_test_loss": float(hist[H.TEST_TOTAL][-1]),
        "term_names": list(problem.objective.term_names),
    })
    formats.write_run(m.out, attrs, carry.params, hist, problem.train_points)


@dataclass
class Training:
    """One batched training job under way: its members, problem, per-member lambdas and test
    points, the jitted chunk and metrics (``start`` makes it; ``loop`` and ``finish`` use it)."""

    config: dict
    members: list[Member]
    problem: Problem
    lams: Any
    tests: Any
    chunk: Any
    metrics: Any

    def record(self, carry: Carry, elapsed: float, which) -> None:
        """Append a history row for members ``which`` (``elapsed``: seconds since the last)."""
        values = jax.device_get(self.metrics(carry.params, self.problem.train_points, self.tests, self.lams))
        for i in which:
            m = self.members[i]
            m.wall_time += elapsed
            m.history.append(**H.row(
                iteration=carry.iteration[i], fevals=carry.fevals[i], wall_time=m.wall_time,
                objective=values[H.OBJECTIVE][i], penalty=values[H.PENALTY][i],
                train_terms={k: v[i] for k, v in values["train"].items()},
                test_terms={k: v[i] for k, v in values["test"].items()},
                test_rmae=values[H.TEST_RMAE][i] if H.TEST_RMAE in values else None))

    def decide(self, m: Member, iteration: int, diverged: bool) -> str | None:
        """The member's stop reason after ``iteration`` (None: go on)."""
        window, log_every = self.config["stop_window"], self.config["log_every"]
        lag = window // log_every if window else 0
        return stop_reason(m.history.rows[H.OBJECTIVE], iteration, diverged, lag, stop_tolerance(self.config),
                           self.config["max_iters"])


def start(config: dict, seeds, outs, checkpoints=None, progress: bool = True, lambdas=None,
          continue_from=None, code_version: str = "") -> tuple[Training, Carry]:
    """Members with their seeds, lambdas and outputs, each resumed from its checkpoint where
    one matches, else continued from a finished run where one is given or kept (module
    docstring); the stacked starting carry, its first history row recorded."""
    config = run_config(config)
    lambdas = [config["lambda"]] * len(seeds) if lambdas is None else list(lambdas)
    continue_from = [None] * len(seeds) if continue_from is None else list(continue_from)
    if not len(seeds) == len(outs) == len(lambdas) == len(continue_from):
        raise ValueError(f"train: as many outputs, lambdas and runs to continue as seeds are required "
                         f"(got {len(seeds)} seeds, {len(outs)} outputs, {len(lambdas)} lambdas, "
                         f"{len(continue_from)} runs to continue)")
    checkpoints = checkpoints or [f"{o}.ckpt.h5" for o in outs]
    revision = provenance.git_revision()
    members = [
        Member(config=run_config({**config, "seed": s, "lambda": lam}), out=Path(o), checkpoint=Path(c),
               history=History(), revision=revision, continue_from=None if r is None else Path(r),
               code_version=code_version)
        for s, lam, o, c, r in zip(seeds, lambdas, outs, checkpoints, continue_from)
    ]
    problem = Problem.from_config(config)
    carries = []
    for m in members:
        fresh = problem.init_carry(m.seed, m.lam)
        loaded = load_checkpoint(m, fresh)
        if loaded is not None:
            m.resumed_from = int(loaded.iteration)
            if progress:
                print(f"pinnfail: seed {m.seed} resumes at iteration {m.resumed_from}", file=sys.stderr)
        else:
            loaded = load_continuation(m, problem)
            if loaded is not None and progress:
                print(f"pinnfail: seed {m.seed} continues {m.continued['run']} from iteration "
                      f"{m.continued['iteration']} (L-BFGS memory restarted)", file=sys.stderr)
        carries.append(loaded if loaded is not None else fresh)
    job = Training(config, members, problem, problem.lambdas(lambdas, len(members)),
                   stack([problem.test_points(s) for s in seeds]), make_chunk(problem, len(members)),
                   make_metrics(problem))
    carry = stack(carries)
    job.record(carry, 0.0, [i for i, m in enumerate(members) if not m.history.rows])
    for i, m in enumerate(members):
        if m.resumed_from or m.continued:
            m.stop_reason = job.decide(m, int(carry.iteration[i]), False)
    return job, carry


def loop(job: Training, carry: Carry, progress: bool = True) -> tuple[Carry, bool]:
    """Chunks of ``log_every`` iterations until every member has stopped, recording, deciding
    and checkpointing after each; returns the carry and whether a signal interrupted it."""
    config, members = job.config, job.members
    log_every, max_iters, ckpt_every = config["log_every"], config["max_iters"], config["checkpoint_every"]
    active = np.array([m.stop_reason is None for m in members])
    last_print = time.perf_counter()
    with Interrupt() as interrupt:
        while active.any():
            began = time.perf_counter()
            n = int(min(log_every, max_iters - np.asarray(carry.iteration)[active].max()))
            carry = job.chunk(carry, job.problem.train_points, n, jnp.asarray(active), job.lams)
            iterations = jax.device_get(carry.iteration)
            elapsed = time.perf_counter() - began
            ran = np.flatnonzero(active)
            job.record(carry, elapsed, ran)
            diverged = jax.device_get(carry.diverged)
            for i in ran:
                members[i].stop_reason = job.decide(members[i], int(iterations[i]), bool(diverged[i]))
                active[i] = members[i].stop_reason is None
            due = ckpt_every and any(iterations[i] % ckpt_every == 0 for i in np.flatnonzero(active))
            if interrupt.requested or due:
                for i in np.flatnonzero(active):
                    save_checkpoint(members[i], member(carry, i))
            if progress and (time.perf_counter() - last_print > 5 or not active.any()):
                last_print = time.perf_counter()
                _print_progress(config, members, iterations, elapsed, n)
            if interrupt.requested:
                for i in np.flatnonzero(active):
                    members[i].stop_reason = "interrupted"
                break
    return carry, interrupt.requested


def finish(job: Training, carry: Carry, keep_last: bool = False) -> None:
    """Each member's run.h5; its checkpoint kept if asked (or interrupted), else removed; with
    ``keep_last`` a copy of each finished run.h5 beside the checkpoint (``Member.last``), which
    a later job of the same run with a larger ``max_iters`` continues."""
    for i, m in enumerate(job.members):
        write_member(m, job.problem, member(carry, i))
        if m.stop_reason == "interrupted":
            continue
        if job.config["keep_checkpoint"]:
            save_checkpoint(m, member(carry, i))
        elif m.checkpoint.exists():
            m.checkpoint.unlink()
        if keep_last:
            hdf5.copy_artifact(m.out, m.last)


def train(
    config: dict,
    seeds: Sequence[int],
    outs: Sequence[str | os.PathLike],
    checkpoints: Sequence[str | os.PathLike] | None = None,
    progress: bool = True,
    lambdas: Sequence[float] | None = None,
    continue_from: Sequence[str | os.PathLike | None] | None = None,
    keep_last: bool = False,
    code_version: str = "",
) -> list[Member]:
    """Train one configuration for several members at once; one run.h5 per member.

    Member i has seed ``seeds[i]`` and lambda ``lambdas[i]`` (None: the config's
    lambda for all); its run.h5 records its own seed and lambda. ``continue_from[i]``
    (None: none) is a finished run of the same settings with fewer iterations that
    member i continues unless its checkpoint resumes it; ``keep_last`` keeps a copy
    of each finished run beside its checkpoint (``finish``), continued only by code of the same
    ``code_version``. Returns the
    members with their stop reasons. On SIGTERM/SIGINT it saves checkpoints,
    writes run.h5 files marked ``interrupted`` and raises ``SystemExit(143)``.
    """
    job, carry = start(config, seeds, outs, checkpoints, progress, lambdas, continue_from, code_version)
    carry, interrupted = loop(job, carry, progress)
    finish(job, carry, keep_last)
    if interrupted:
        raise SystemExit(143)
    return job.members


def _print_progress(config: dict, members: Sequence[Member], iterations, elapsed: float, n: int) -> None:
    for m, it in zip(members, iterations):
        h = m.history.rows
        rate = n / elapsed if elapsed > 0 else float("nan")
        print(
            f"[{config['pde']} {config['regularizer']} {config['precision']} seed {m.seed}"
            + (f" lambda {m.lam:g}" if config["regularizer"] != "none" else "") + "] "
            f"it {int(it)}/{config['max_iters']}  train {float(h[H.TRAIN_TOTAL][-1]):.3e}  "
            f"test {float(h[H.TEST_TOTAL][-1]):.3e}  {rate:.0f} it/s"
            + (f"  ({m.stop_reason})" if m.stop_reason else ""),
            file=sys.stderr, flush=True,
        )
