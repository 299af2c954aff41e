"""Training engine: penalties, L-BFGS, stop rule, NaN handling, resume, batching, bad input."""
import dataclasses
import json
import signal
import subprocess
import sys
import time

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnfail  # noqa: F401  (enables x64)
from pinnfail import jets
from pinnfail import lbfgs as lbfgs_module
from pinnfail.collocation import count_points, training_points
from pinnfail.config import ConfigError, run_config
from pinnfail.lbfgs import compact_lbfgs_update, lbfgs, scale_by_compact_lbfgs
from pinnfail.losses import make_objective
from pinnfail.model import build_network, weight_mask
from pinnfail.pdes import get_pde
from pinnfail.train import Problem, stop_reason, train

TINY = {
    "pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 2, "width": 8,
    "n_test_domain": 64, "n_test_line": 16, "log_every": 10, "stop_window": 0, "checkpoint_every": 0,
}


def tiny(**overrides):
    return run_config({**TINY, **overrides})


def points(config):
    pde = get_pde(config["pde"])
    dtype = np.float64 if config["precision"] == "fp64" else np.float32
    return {k: jnp.asarray(v) for k, v in training_points(pde, config, dtype).items()}


def objective_for(config):
    pde = get_pde(config["pde"])
    net = build_network(pde, config)
    return net, make_objective(pde, net, config)


def test_point_counts_match_paper():
    for pde, grid, n, expected in [("convection", [20, 20], 200, 800), ("reaction", [16, 16], 100, 456),
                                   ("wave", [12, 12], 100, 444), ("allen_cahn", [64, 64], 100, 4396),
                                   ("convection", [101, 101], 101, 10403), ("wave", [101, 101], 101, 10504)]:
        cfg = run_config({"pde": pde, "grid": grid, "n_initial": n, "n_boundary": n})
        assert count_points(training_points(get_pde(pde), cfg, np.float32)) == expected
        assert Problem.from_config(cfg).n_points == expected


def test_network_init_and_precision():
    for precision, dtype in (("fp32", jnp.float32), ("fp64", jnp.float64)):
        cfg = tiny(precision=precision)
        net = build_network(get_pde("convection"), cfg)
        assert net.flat_init.dtype == dtype
        params = net.unravel(net.flat_init)
        assert all(float(jnp.abs(layer["bias"][...]).max()) == 0 for layer in params["layers"].values())
        # Glorot normal: std = sqrt(2 / (fan_in + fan_out)) (truncated, so a bit smaller)
        hidden = np.asarray(params["layers"][1]["kernel"][...])
        assert 0.6 * np.sqrt(2 / 16) < hidden.std() < 1.1 * np.sqrt(2 / 16)
    assert weight_mask(net).sum() == 2 * 8 + 8 * 8 + 8 * 1


def test_inputs_normalized_to_unit_interval():
    cfg = tiny(depth=1, width=1)
    pde = get_pde("convection")
    net = build_network(pde, cfg)
    params = net.unravel(net.flat_init)
    kernel = params["layers"][0]["kernel"][...]
    # the first layer sees z = 2 (xt - lo) / (hi - lo) - 1: at the domain corners z = -1 and 1
    lo = jnp.tanh(jnp.array([-1.0, -1.0]) @ kernel)
    out = params["layers"][1]["kernel"][...]
    assert jnp.allclose(net.apply(net.flat_init, pde.x0, pde.t0), (lo @ out)[0])


@pytest.mark.parametrize("regularizer", ["l2", "l1"])
def test_weight_penalties_by_hand(regularizer):
    cfg = tiny(regularizer=regularizer, precision="fp64", **{"lambda": 0.3})
    net, obj = objective_for(cfg)
    params = net.unravel(net.flat_init)
    kernels = [np.asarray(layer["kernel"][...]) for layer in params["layers"].values()]
    expected = 0.15 * sum((k**2).sum() for k in kernels) if regularizer == "l2" else 0.3 * sum(
        np.abs(k).sum() for k in kernels)
    pts = points(cfg)
    assert np.isclose(float(obj.penalty(net.flat_init, pts)), expected, rtol=1e-12)
    assert np.isclose(float(obj.total(net.flat_init, pts)),
                      sum(float(v) for v in obj.terms(net.flat_init, pts).values()) + expected, rtol=1e-12)


@pytest.mark.parametrize("form", ["residual", "loss"])
@pytest.mark.parametrize("coords", ["physical", "normalized"])
@pytest.mark.parametrize("pde_name", ["convection", "wave"])
def test_double_penalty_matches_finite_differences(form, coords, pde_name):
    lam = 0.7
    cfg = tiny(pde=pde_name, regularizer="double", double_form=form, double_coords=coords,
               precision="fp64", **{"lambda": lam})
    pde = get_pde(pde_name)
    net, obj = objective_for(cfg)
    pts = points(cfg)
    p = pde.params()
    flat = net.flat_init
    u = lambda x, t: net.apply(flat, x, t)  # noqa: E731
    h = 1e-5
    sx = (pde.x1 - pde.x0) / 2 if coords == "normalized" else 1.0
    st = (pde.t1 - pde.t0) / 2 if coords == "normalized" else 1.0

    def g(r):  # the quantity whose input-gradient is penalized
        return r if form == "residual" else r**2

    def dom(x, t):
        return g(pde.residual_of(u, x, t, p))

    expected = 0.0
    xt = np.asarray(pts["domain"])
    dx = np.array([(dom(x + h, t) - dom(x - h, t)) / (2 * h) for x, t in xt]) * sx
    dt = np.array([(dom(x, t + h) - dom(x, t - h)) / (2 * h) for x, t in xt]) * st
    expected += np.mean(dx**2) + np.mean(dt**2)
    for c in pde.conditions:
        scale = sx if c.line == "initial" else st
        s = np.asarray(pts[c.name])
        ds = np.array([(np.asarray(g(c.residual_of(u, v + h, pde, p))) - np.asarray(g(c.residual_of(u, v - h, pde, p))))
                       / (2 * h) for v in s]) * scale
        expected += np.mean(ds**2)
    got = float(obj.penalty(flat, pts))
    assert np.isclose(got, lam * expected, rtol=1e-6), (got, lam * expected)


def test_double_penalty_vanishes_for_exact_solution_in_residual_form():
    # the exact solution has r = 0 everywhere, so every residual gradient is zero
    cfg = tiny(regularizer="double", precision="fp64", **{"lambda": 1.0})
    pde = get_pde("convection")
    p = pde.params()
    net, obj = objective_for(cfg)
    def exact_jet(flat, x, t, order):
        return jets.of_callable(lambda a, b: pde.exact(a, b, p), x, t, order)

    exact_net = dataclasses.replace(net, jet=exact_jet)
    obj = make_objective(pde, exact_net, cfg)
    assert float(obj.penalty(net.flat_init, points(cfg))) < 1e-20


@pytest.mark.parametrize("products", ["platform", "reduction"])
def test_compact_direction_equals_optax_two_loop(products, monkeypatch):
    """Both forms of the history products (the GPU's reduction runs here too) match optax."""
    if products == "reduction":
        monkeypatch.setattr(lbfgs_module, "history_products", lbfgs_module._products_by_reduction)
    rng = np.random.default_rng(0)
    n, m = 40, 6
    a = rng.normal(size=(n, n))
    hess = a @ a.T / n + 0.1 * np.eye(n)
    grad_fn = lambda x: hess @ x - 1.0  # noqa: E731
    for dtype, tol in ((jnp.float64, 1e-12), (jnp.float32, 2e-5)):
        ours, ref = scale_by_compact_lbfgs(m), optax.scale_by_lbfgs(m)
        x = jnp.zeros(n, dtype)
        s_ours, s_ref = ours.init(x), ref.init(x)
        for _ in range(3 * m):  # wraps the ring buffer twice
            g = jnp.asarray(grad_fn(np.asarray(x, np.float64)), dtype)
            d_ours, s_ours = ours.update(g, s_ours, x)
            d_ref, s_ref = ref.update(g, s_ref, x)
            assert d_ours.dtype == dtype
            assert float(jnp.linalg.norm(d_ours - d_ref) / jnp.linalg.norm(d_ref)) < tol
            x = x - 0.2 * d_ours


def test_lbfgs_solves_quadratic_like_optax():
    rng = np.random.default_rng(1)
    n = 30
    a = rng.normal(size=(n, n))
    hess = jnp.asarray(a @ a.T / n + 0.05 * np.eye(n))
    b = jnp.asarray(rng.normal(size=n))
    f = lambda x: 0.5 * x @ hess @ x - b @ x  # noqa: E731
    solution = np.linalg.solve(np.asarray(hess), np.asarray(b))
    for opt in (lbfgs(10), lbfgs(10, linesearch="zoom"), optax.lbfgs(memory_size=10)):
        x, state = jnp.zeros(n), opt.init(jnp.zeros(n))
        vg = optax.value_and_grad_from_state(f)
        step = jax.jit(lambda x, s: _step(opt, vg, f, x, s))
        for _ in range(100):
            x, state = step(x, state)
        assert np.abs(np.asarray(x) - solution).max() < 1e-8


def _step(opt, vg, f, x, state):
    v, g = vg(x, state=state)
    u, state = opt.update(g, state, x, value=v, grad=g, value_fn=f)
    return optax.apply_updates(x, u), state


def test_lbfgs_direction_matches_optax_along_a_pinn_run():
    """Feed optax's scale_by_lbfgs the iterates of our optimizer on a PINN: same directions."""
    cfg = tiny(precision="fp64", memory=5)
    problem = Problem.from_config(cfg)
    total, pts = problem.objective.total, problem.train_points
    opt = problem.optimizer
    vg = optax.value_and_grad_from_state(total)
    x, state = problem.network.flat_init, opt.init(problem.network.flat_init)
    ref = optax.scale_by_lbfgs(5)
    s_ref = ref.init(x)
    losses = []
    for _ in range(15):
        v, g = vg(x, pts, state=state)
        ours_dir, _ = scale_by_compact_lbfgs(5).update(g, state[0], x)
        ref_dir, s_ref = ref.update(g, s_ref, x)
        assert float(jnp.linalg.norm(ours_dir - ref_dir) / jnp.linalg.norm(ref_dir)) < 1e-10
        u, state = opt.update(g, state, x, value=v, grad=g, value_fn=lambda p: total(p, pts))
        x = x + u
        losses.append(float(v))
    assert losses[-1] < 0.5 * losses[0]


def test_stop_rule():
    tol = np.sqrt(np.finfo(np.float32).eps)
    assert stop_reason([1.0, 0.5], 200, False, 1, tol, 1000) is None
    assert stop_reason([1.0, 1.0 - tol / 2], 200, False, 1, tol, 1000) == "converged"
    assert stop_reason([1.0, 1.0 - 2 * tol], 200, False, 1, tol, 1000) is None
    assert stop_reason([1.0, 0.5, 0.5], 300, False, 2, tol, 1000) is None  # 2-chunk window
    assert stop_reason([1.0, 0.5], 1000, False, 1, tol, 1000) == "max_iters"
    assert stop_reason([1.0, np.nan], 200, False, 1, tol, 1000) == "diverged"
    assert stop_reason([1.0, 0.5], 200, True, 1, tol, 1000) == "diverged"
    assert stop_reason([1.0, 0.5], 200, False, 0, tol, 1000) is None  # stop rule disabled


def test_run_stops_by_rule_and_records_history(tmp_path):
    out = tmp_path / "run.h5"
    members = train(tiny(max_iters=5000, stop_window=10, precision="fp32"), [0], [out], progress=False)
    assert members[0].stop_reason == "converged"
    with h5py.File(out) as f:
        assert f.attrs["stop_reason"] == "converged"
        h = {k: f["history"][k][()] for k in f["history"]}
        cfg = json.loads(f.attrs["config"])
        assert f["params"].dtype == np.float32
        assert f.attrs["n_points"] == 30 + 7 + 5
        for key in ("package_versions", "git_revision", "device", "wall_time_s"):
            assert key in f.attrs
    assert cfg["max_iters"] == 5000
    assert h["iteration"][-1] < 5000 and np.all(np.diff(h["iteration"]) == 10)
    assert np.all(np.diff(h["wall_time"]) >= 0) and np.all(np.diff(h["fevals"]) >= 10)
    rel = abs(h["objective"][-2] - h["objective"][-1]) / abs(h["objective"][-2])
    assert rel <= np.sqrt(np.finfo(np.float32).eps)
    for key in ("train_domain", "train_initial", "train_periodic", "test_domain", "test_rmae", "penalty"):
        assert key in h and len(h[key]) == len(h["iteration"])
    assert not (tmp_path / "run.h5.ckpt.h5").exists()


def test_nan_stops_at_once_and_keeps_finite_params(tmp_path, monkeypatch):
    import pinnfail.train as train_module

    original = train_module.make_objective

    def poisoned(pde, network, config):
        obj = original(pde, network, config)
        total = lambda flat, pts: jnp.where(jnp.sum(flat) != 12345.0, jnp.nan, obj.total(flat, pts))  # noqa: E731
        return type(obj)(obj.terms, obj.penalty, total, obj.term_names)

    monkeypatch.setattr(train_module, "make_objective", poisoned)
    out = tmp_path / "run.h5"
    members = train(tiny(max_iters=100), [0], [out], progress=False)
    assert members[0].stop_reason == "diverged"
    with h5py.File(out) as f:
        assert f.attrs["stop_reason"] == "diverged"
        assert np.all(np.isfinite(f["params"][()]))
        assert f.attrs["iterations"] == 0


def test_resume_continues_bitwise_fp64(tmp_path):
    cfg = tiny(precision="fp64", max_iters=60, keep_checkpoint=True)
    straight, first = tmp_path / "straight.h5", tmp_path / "resumed.h5"
    train(cfg, [3], [straight], progress=False)
    train({**cfg, "max_iters": 30}, [3], [first], progress=False)
    assert (tmp_path / "resumed.h5.ckpt.h5").exists()
    members = train(cfg, [3], [first], progress=False)
    assert members[0].resumed_from == 30
    with h5py.File(straight) as a, h5py.File(first) as b:
        np.testing.assert_array_equal(a["params"][()], b["params"][()])
        np.testing.assert_array_equal(a["history"]["objective"][()], b["history"]["objective"][()])
        assert b.attrs["resumed_from_iteration"] == 30


def test_checkpoint_of_another_config_is_ignored(tmp_path):
    cfg = tiny(max_iters=20, keep_checkpoint=True)
    out = tmp_path / "run.h5"
    train(cfg, [0], [out], progress=False)
    members = train({**cfg, "grid": [7, 5]}, [0], [out], progress=False)
    assert members[0].resumed_from == 0


@pytest.mark.parametrize("linesearch", ["strong_wolfe", "zoom"])  # decoupled, lockstep schedule
def test_batched_seeds_equal_sequential_fp64(tmp_path, linesearch):
    """Batched members follow their sequential runs to round-off, across ring-buffer wraps.

    Round-off differences (vmap orders some sums differently) grow exponentially along an
    L-BFGS trajectory on this nonconvex loss: measured ~1e-13 relative at 30 iterations and
    ~1e-7 at 50, O(1) after ~150. Hence a short horizon, with a 10-pair history so the ring
    buffer wraps three times. The members need different numbers of line-search trials, so
    the decoupled schedule has members in different iterations at the same step.
    """
    cfg = tiny(precision="fp64", max_iters=30, memory=10, linesearch=linesearch)
    seeds = [0, 1, 2]
    batched = [tmp_path / f"b{s}.h5" for s in seeds]
    train(cfg, seeds, batched, progress=False)
    fevals = set()
    for s, path in zip(seeds, batched):
        single = tmp_path / f"s{s}.h5"
        train(cfg, [s], [single], progress=False)
        with h5py.File(path) as a, h5py.File(single) as b:
            np.testing.assert_allclose(a["params"][()], b["params"][()], rtol=1e-9, atol=1e-11)
            assert a.attrs["iterations"] == b.attrs["iterations"] == 30
            np.testing.assert_array_equal(a["history"]["fevals"][()], b["history"]["fevals"][()])
            assert json.loads(a.attrs["config"])["seed"] == s
            fevals.add(int(a.attrs["fevals"]))
    assert len(fevals) > 1


def test_masked_lbfgs_update_leaves_the_state_unchanged():
    """apply=False keeps every leaf bitwise; apply=True is the plain update."""
    rng = np.random.default_rng(3)
    opt = scale_by_compact_lbfgs(4)
    x = jnp.asarray(rng.normal(size=12))
    state = opt.init(x)
    for _ in range(6):  # fill and wrap the history
        g = jnp.asarray(rng.normal(size=12))
        direction, state = opt.update(g, state, x)
        x = x - 0.1 * direction
    g = jnp.asarray(rng.normal(size=12))
    plain_dir, plain = compact_lbfgs_update(g, state, x)
    kept_dir, kept = compact_lbfgs_update(g, state, x, jnp.asarray(False))
    applied_dir, applied = compact_lbfgs_update(g, state, x, jnp.asarray(True))
    for old, same, new, ref in zip(state, kept, applied, plain):
        np.testing.assert_array_equal(same, old)
        np.testing.assert_array_equal(new, ref)
    np.testing.assert_array_equal(applied_dir, plain_dir)


def test_batched_members_stop_independently(tmp_path):
    """Each member stops by the stop rule on its own history, at the first chunk it holds."""
    cfg = tiny(precision="fp32", max_iters=3000, stop_window=10)
    seeds = [0, 1, 2, 3]
    outs = [tmp_path / f"m{s}.h5" for s in seeds]
    members = train(cfg, seeds, outs, progress=False)
    tol = float(np.sqrt(np.finfo(np.float32).eps))
    iterations = set()
    for m, out in zip(members, outs):
        with h5py.File(out) as f:
            objective = f["history"]["objective"][()]
            its = f["history"]["iteration"][()]
            assert f.attrs["stop_reason"] == m.stop_reason == "converged"
            assert int(f.attrs["iterations"]) == its[-1]
        first = next(k for k in range(1, len(objective) + 1)
                     if stop_reason(objective[:k], int(its[k - 1]), False, 1, tol, 3000))
        assert first == len(objective)
        iterations.add(int(its[-1]))
    assert len(iterations) > 1


@pytest.mark.parametrize("bad, field", [
    ({"regularizer": "l3"}, "run.regularizer"),
    ({"regularizer": "l2", "lambda": -1.0}, "run.lambda"),
    ({"precision": "fp16"}, "run.precision"),
    ({"grid": [0, 20]}, "run.grid.0"),
    ({"pde": "heat"}, "run.pde"),
    ({"bogus": 1}, "bogus"),
    ({"weights": {"nope": 2.0}}, "run.weights"),
    ({"pde_params": {"gamma": 2.0}}, "gamma"),
])
def test_bad_run_config_names_the_field(bad, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        run_config({**TINY, **bad})


@pytest.mark.parametrize("args, message", [
    (["--regularizer", "l3"], "invalid choice"),
    (["--lambda", "-1", "--regularizer", "l2"], "run.lambda"),
    (["--precision", "fp16"], "invalid choice"),
    (["--grid", "0x20"], "run.grid"),
])
def test_cli_bad_input_writes_nothing(tmp_path, args, message):
    out = tmp_path / "run.h5"
    proc = subprocess.run([sys.executable, "-m", "pinnfail.cli", "train", "--pde", "convection",
                           "--out", str(out), *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_cli_sigterm_checkpoints_and_resume_matches(tmp_path):
    """SIGTERM mid-run: checkpoint, exit 143; the rerun resumes and ends where an uninterrupted run does."""
    base = [sys.executable, "-m", "pinnfail.cli", "train", "--pde", "convection", "--grid", "6x5",
            "--n-initial", "7", "--n-boundary", "5", "--depth", "2", "--width", "8", "--precision", "fp64",
            "--n-test-domain", "64", "--n-test-line", "16", "--log-every", "10", "--stop-window", "0",
            "--checkpoint-every", "10", "--max-iters", "100000", "--quiet"]
    out = tmp_path / "run.h5"
    ckpt = tmp_path / "run.h5.ckpt.h5"
    proc = subprocess.Popen(base + ["--out", str(out)], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, proc.stderr.read()
    with h5py.File(out) as f:
        assert f.attrs["stop_reason"] == "interrupted"
        stopped = int(f.attrs["iterations"])
    assert ckpt.exists() and stopped > 0
    target = stopped + 40
    resumed = subprocess.run(base[:-3] + ["--max-iters", str(target), "--quiet", "--out", str(out)],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    straight = tmp_path / "straight.h5"
    subprocess.run(base[:-3] + ["--max-iters", str(target), "--quiet", "--out", str(straight)], check=True)
    with h5py.File(out) as a, h5py.File(straight) as b:
        assert a.attrs["resumed_from_iteration"] == stopped
        assert a.attrs["iterations"] == b.attrs["iterations"] == target
        np.testing.assert_array_equal(a["params"][()], b["params"][()])
    assert not ckpt.exists()


def test_kept_final_checkpoint_rewrites_a_finished_run_at_once(tmp_path):
    """A job killed after training but before exiting loses nothing: the rerun ends immediately."""
    cfg = tiny(precision="fp32", max_iters=5000, stop_window=10, keep_checkpoint=True)
    out = tmp_path / "run.h5"
    first = train(cfg, [0], [out], progress=False)[0]
    assert first.stop_reason == "converged" and (tmp_path / "run.h5.ckpt.h5").exists()
    with h5py.File(out) as f:
        params, iterations = f["params"][()], int(f.attrs["iterations"])
    out.unlink()  # what Snakemake does to the output of a job it considers failed
    again = train(cfg, [0], [out], progress=False)[0]
    assert again.stop_reason == "converged" and again.resumed_from == iterations
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["params"][()], params)
        assert int(f.attrs["iterations"]) == iterations
