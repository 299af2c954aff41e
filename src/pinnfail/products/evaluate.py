"""Test-set evaluation of a trained run: errors, losses, residual maps, its classification."""
from __future__ import annotations

import math

from pinnfail.numerics import _jax  # noqa: F401  (JAX's settings, before JAX is used)
import jax
import jax.numpy as jnp
import numpy as np

from pinnfail.artifacts.formats import Run
from pinnfail.numerics.model import build_network
from pinnfail.numerics.config import stop_tolerance
from pinnfail.numerics.pdes import get_pde
from pinnfail.artifacts.formats import read_reference

DEFAULT_THRESHOLDS = {"overfit_ratio": 100.0, "solved_rmae": 5e-2}
# What a run is, by the paper's reading: only "overfit" is a failure mode.
from pinnfail.products.classes import run_flags
from pinnfail.numerics import history as H
from pinnfail.artifacts import formats


def field_functions(config: dict, params):
    """Vectorized u(x, t) and PDE residual r(x, t) of trained parameters."""
    pde = get_pde(config["pde"])
    network = build_network(pde, config)
    pde_params = pde.params(config["pde_params"])
    flat = jnp.asarray(params)
    dtype = flat.dtype

    @jax.jit
    def predict(x, t):
        return network.apply(flat, x, t)

    @jax.jit
    def residual(x, t):
        x, t = x.astype(dtype), t.astype(dtype)
        return pde.residual(network.jet(flat, x, t, pde.reads), x, t, pde_params)

    return predict, residual


def on_grid(fn, x: np.ndarray, t: np.ndarray, batch: int = 65536) -> np.ndarray:
    """fn evaluated on the grid, as an array of shape (len(t), len(x))."""
    tt, xx = np.meshgrid(t, x, indexing="ij")
    xs, ts = xx.ravel(), tt.ravel()
    out = [np.asarray(fn(jnp.asarray(xs[i:i + batch]), jnp.asarray(ts[i:i + batch])))
           for i in range(0, xs.size, batch)]
    return np.concatenate(out).reshape(tt.shape).astype(np.float64)


def relative_errors(u: np.ndarray, u_ref: np.ndarray) -> dict[str, float]:
    """rMAE = sum|u - u_ref| / sum|u_ref|, rRMSE = sqrt(sum (u - u_ref)^2 / sum u_ref^2)."""
    diff = u - u_ref
    return {
        "rmae": float(np.abs(diff).sum() / np.abs(u_ref).sum()),
        "rrmse": float(np.sqrt((diff**2).sum() / (u_ref**2).sum())),
    }


def residual_slices(residual, pde, points: dict, slice_grid=(2001, 11)) -> dict:
    """The residual on a fine x line (``slice_grid[0]`` points) at the run's training times
    and at ``slice_grid[1]`` regular times (those within 1e-6 of the span of a training time
    left out): Fig. 3's slice through the collocation points, drawn from eval.h5."""
    nx, nt = slice_grid
    train_t = np.unique(np.asarray(points["domain"][:, 1], dtype=np.float64))
    regular = np.linspace(pde.t0, pde.t1, nt)
    near = np.abs(regular[:, None] - train_t[None, :]).min(axis=1) <= 1e-6 * (pde.t1 - pde.t0)
    t = np.union1d(train_t, regular[~near])
    x = np.linspace(pde.x0, pde.x1, nx)
    return {"slice_x": x, "slice_t": t, "slice_residual": on_grid(residual, x, t)}


def collocation_signature(residual, points: dict) -> dict[str, float]:
    """Whether the residual is small exactly at the training points (Fig. 1(c), 3(c)), on three
    point sets: the domain grid's points, midway between neighbouring points along x (at the
    training times) and midway along t (at the training x). Per set the median |r| (the
    typical point: ``residual_at_points``, ``residual_midway_x``, ``residual_midway_t``) and
    the root mean square (what the loss sees, so a strip of large residual counts:
    ``residual_rms_*``); the two median ratios midway / at the points.

    The training domain points form a grid (``collocation.training_points``); its axes are
    the distinct x and t values. A grid with a single value along an axis has no midway
    points there: those values are NaN.
    """
    domain = np.asarray(points["domain"], dtype=np.float64)
    x, t = np.unique(domain[:, 0]), np.unique(domain[:, 1])
    sets = {"at_points": (x, t), "midway_x": ((x[1:] + x[:-1]) / 2, t), "midway_t": (x, (t[1:] + t[:-1]) / 2)}
    out = {}
    for name, (xs, ts) in sets.items():
        r = np.abs(on_grid(residual, xs, ts)) if xs.size and ts.size else np.array([math.nan])
        out[f"residual_{name}"] = float(np.median(r))
        out[f"residual_rms_{name}"] = float(np.sqrt(np.mean(r ** 2)))
    at = out["residual_at_points"]
    for axis in ("x", "t"):
        mid = out[f"residual_midway_{axis}"]
        out[f"residual_midway_{axis}_ratio"] = (math.nan if math.isnan(mid) or math.isnan(at) else mid / at
                                                if at > 0 else math.inf if mid > 0 else 1.0)
    return out


def _ratio(test: float, train: float) -> float:
    """test / train; a term that is exactly zero on both (e.g. the periodic term of a network
    that collapsed to a constant) is not overfit: 1."""
    if train > 0:
        return test / train
    return 1.0 if test == 0 else float("inf")


def objective_change(objective, stop_window: int, log_every: int) -> float:
    """Relative change of the objective over the last stop window (one log interval if the rule is off)."""
    lag = max(stop_window // log_every, 1)
    values = np.asarray(objective, dtype=float)
    if values.size <= lag:
        return math.inf
    before, last = values[-1 - lag], values[-1]
    return float(abs(before - last) / abs(before)) if before != 0 else math.inf


def classify(*, rmae: float, term_ratios: dict[str, float], stop_reason: str, objective_change: float,
             stop_tolerance: float, thresholds: dict) -> dict:
    """One of CLASSES, and why, from a run's final metrics (first rule that applies):

    - solved: rMAE < ``solved_rmae`` (a right solution is no failure mode, whatever the ratios);
    - overfit: some term's test/train loss ratio > ``overfit_ratio`` (the paper's failure mode);
    - plateau: stopped by the stop rule (relative objective change <= sqrt(eps)), or the objective
      no longer falls by more than that, at a high rMAE without overfitting;
    - not converged: stopped otherwise (max_iters, interrupted, diverged) with the objective still
      falling: the budget, not the method, decided.
    """
    worst = max(term_ratios, key=lambda k: term_ratios[k])
    ratio = term_ratios[worst]
    if rmae < thresholds["solved_rmae"]:
        label, reason = "solved", f"rMAE {rmae:.3g} < {thresholds['solved_rmae']:.3g}"
    elif ratio > thresholds["overfit_ratio"]:
        label, reason = "overfit", f"{worst} test/train {ratio:.3g} > {thresholds['overfit_ratio']:.3g}"
    elif stop_reason == "converged" or objective_change <= stop_tolerance:
        label = "plateau"
        reason = (f"objective change {objective_change:.2g} <= {stop_tolerance:.2g} ({stop_reason}) "
                  f"at rMAE {rmae:.3g}, test/train at most {ratio:.3g}")
    else:
        label = "not converged"
        reason = (f"{stop_reason} with the objective still falling ({objective_change:.2g} > "
                  f"{stop_tolerance:.2g}) at rMAE {rmae:.3g}, test/train at most {ratio:.3g}")
    return {"classification": label, "classification_reason": reason, "objective_change": objective_change,
            "stop_tolerance": stop_tolerance}


def fresh_test_losses(run: Run, test_set: dict) -> tuple[dict, dict]:
    """(train terms, test terms) of a run's final parameters, the test terms on a test set of its
    own: ``test_set["domain"]`` random domain points and ``test_set["line"]`` points on each line,
    drawn with ``test_set["seed"]`` (the same for every run: the paper's 10,000 and 10,000, fixed),
    the train terms on the run's training points by the same code."""
    from pinnfail.numerics.collocation import test_points
    from pinnfail.numerics.schedule import Problem

    problem = Problem.from_config(run.config)
    params = jnp.asarray(run.params, problem.dtype)
    sized = {**run.config, "n_test_domain": int(test_set["domain"]), "n_test_line": int(test_set["line"])}
    points = {k: jnp.asarray(v) for k, v in
              test_points(problem.pde, sized, problem.dtype, seed=int(test_set.get("seed", 0))).items()}
    terms = jax.jit(problem.objective.terms)
    return ({k: float(v) for k, v in terms(params, problem.train_points).items()},
            {k: float(v) for k, v in terms(params, points).items()})


def loss_metrics(run: Run, test_set: dict | None = None) -> dict:
    """Train and test loss at the end of a run, their ratio per term and in all, and what the run
    was (settings, iterations, stop reason, time). The test loss is the training history's last
    (the run's own test points, ``n_test_domain`` / ``n_test_line``), or, with ``test_set``, on a
    fresh set of that size (``fresh_test_losses``); ``test_set`` in the result says which."""
    hist, config = run.history, run.config
    if test_set is None:
        train_terms = {k: float(hist[H.train_term(k)][-1]) for k in run.term_names}
        test_terms = {k: float(hist[H.test_term(k)][-1]) for k in run.term_names}
        used = {"source": "training history", "domain": config["n_test_domain"], "line": config["n_test_line"],
                "seed": config["seed"]}
    else:
        train_terms, test_terms = fresh_test_losses(run, test_set)
        used = {"source": "evaluation", "domain": int(test_set["domain"]), "line": int(test_set["line"]),
                "seed": int(test_set.get("seed", 0))}
    train_loss, test_loss = sum(train_terms.values()), sum(test_terms.values())
    return {
        "test_set": used,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "objective": float(hist[H.OBJECTIVE][-1]),
        "penalty": float(hist[H.PENALTY][-1]),
        "test_train_ratio": _ratio(test_loss, train_loss),
        "term_test_train_ratios": {k: _ratio(test_terms[k], train_terms[k]) for k in train_terms},
        "train_terms": train_terms,
        "test_terms": test_terms,
        "iterations": int(run.attrs["iterations"]),
        "fevals": int(run.attrs["fevals"]),
        "stop_reason": run.attrs["stop_reason"],
        "n_points": int(run.attrs["n_points"]),
        "wall_time_s": float(run.attrs["wall_time_s"]),
        **{k: config[k] for k in ("pde", "regularizer", "lambda", "precision", "seed")},
    }


def evaluate(run_path, reference_path, residual_grid=(256, 256), thresholds=None,
             slice_grid=(2001, 11), test_set: dict | None = None) -> dict:
    """Metrics and fields of one run; see ``formats.write_evaluation`` for the file layout."""
    unknown = sorted(set(thresholds or {}) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise ValueError(f"evaluate: unknown threshold(s) {unknown}; known: {sorted(DEFAULT_THRESHOLDS)}")
    thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    run = Run.read(run_path)
    ref = read_reference(reference_path)
    config = run.config
    if ref.pde != config["pde"]:
        raise ValueError(f"evaluate: reference is for {ref.pde!r}, run is for {config['pde']!r}")
    run_params = get_pde(config["pde"]).params(config["pde_params"])
    if {k: float(v) for k, v in ref.params.items()} != run_params:
        raise ValueError(f"evaluate: reference parameters {ref.params} differ from the run's {run_params}")
    predict, residual = field_functions(config, run.params)
    u_pred = on_grid(predict, ref.x, ref.t)
    pde = get_pde(config["pde"])
    x_res = np.linspace(pde.x0, pde.x1, residual_grid[0])
    t_res = np.linspace(pde.t0, pde.t1, residual_grid[1])
    r = on_grid(residual, x_res, t_res)
    metrics = {**relative_errors(u_pred, ref.u), **loss_metrics(run, test_set)}
    metrics["max_term_test_train_ratio"] = max(metrics["term_test_train_ratios"].values())
    metrics.update(collocation_signature(residual, run.points))
    metrics.update(classify(
        rmae=metrics["rmae"], term_ratios=metrics["term_test_train_ratios"], stop_reason=metrics["stop_reason"],
        objective_change=objective_change(run.history[H.OBJECTIVE], config["stop_window"], config["log_every"]),
        stop_tolerance=stop_tolerance(config),
        thresholds=thresholds))
    metrics.update(run_flags(metrics, thresholds["overfit_ratio"]))
    metrics["failure_mode"] = metrics["classification"] == "overfit"
    metrics["thresholds"] = thresholds
    fields = {
        "x": ref.x, "t": ref.t, "u_pred": u_pred, "error": u_pred - ref.u,
        "residual_x": x_res, "residual_t": t_res, "residual": r,
        **residual_slices(residual, pde, run.points, slice_grid),
    }
    return {"metrics": metrics, "fields": fields, "config": config}


def write_result(path, result: dict) -> None:
    """eval.h5 (``formats.write_evaluation``): attrs hold the metrics (dicts as JSON) and
    provenance; datasets the fields."""
    formats.write_evaluation(path, result["metrics"], result["fields"], result["config"])


def amend_signature(run_path, eval_path) -> dict:
    """Add the collocation signature (``collocation_signature``) to an eval.h5 made before it
    existed, leaving every other metric and field untouched; returns the signature."""
    run = Run.read(run_path)
    _, residual = field_functions(run.config, run.params)
    signature = collocation_signature(residual, run.points)
    formats.amend_evaluation(eval_path, signature, "collocation signature")
    return signature
