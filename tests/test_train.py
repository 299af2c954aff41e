"""The host training loop: stop rule, NaN handling, checkpoints and resume, batching, bad input, signals."""
import json
import signal
import subprocess
import sys
import time

import h5py
import jax.numpy as jnp
import numpy as np
import pytest

from pinnfail.numerics.config import ConfigError
from pinnfail.products.train import stop_reason, train


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


def test_run_stops_by_rule_and_records_history(tmp_path, monkeypatch, tiny):
    from pinnfail.artifacts import provenance
    from pinnfail.products import train as training

    # git_revision is read when training starts: a checkout moved on while a run is going (a long
    # study beside development) does not relabel the run
    tree = {"revision": "started-here"}
    monkeypatch.setattr(provenance, "git_revision", lambda: tree["revision"])
    write_member = training.write_member

    def moved_then_written(*args):
        tree["revision"] = "moved-on"
        write_member(*args)

    monkeypatch.setattr(training, "write_member", moved_then_written)
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
        assert f.attrs["git_revision"] == "started-here"
    assert cfg["max_iters"] == 5000
    assert h["iteration"][-1] < 5000 and np.all(np.diff(h["iteration"]) == 10)
    assert np.all(np.diff(h["wall_time"]) >= 0) and np.all(np.diff(h["fevals"]) >= 10)
    rel = abs(h["objective"][-2] - h["objective"][-1]) / abs(h["objective"][-2])
    assert rel <= np.sqrt(np.finfo(np.float32).eps)
    for key in ("train_domain", "train_initial", "train_periodic", "test_domain", "test_rmae", "penalty"):
        assert key in h and len(h[key]) == len(h["iteration"])
    assert not (tmp_path / "run.h5.ckpt.h5").exists()


def test_nan_stops_at_once_and_keeps_finite_params(tmp_path, monkeypatch, tiny):
    import pinnfail.numerics.schedule as schedule_module

    original = schedule_module.make_objective

    def poisoned(pde, network, config):
        obj = original(pde, network, config)
        total = lambda flat, pts, lam=None: jnp.where(jnp.sum(flat) != 12345.0, jnp.nan, obj.total(flat, pts, lam))  # noqa: E731
        return type(obj)(obj.terms, obj.penalty, total, obj.term_names)

    monkeypatch.setattr(schedule_module, "make_objective", poisoned)
    out = tmp_path / "run.h5"
    members = train(tiny(max_iters=100), [0], [out], progress=False)
    assert members[0].stop_reason == "diverged"
    with h5py.File(out) as f:
        assert f.attrs["stop_reason"] == "diverged"
        assert np.all(np.isfinite(f["params"][()]))
        assert f.attrs["iterations"] == 0


def test_resume_continues_bitwise_fp64(tmp_path, tiny):
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


def test_checkpoint_of_another_config_is_ignored(tmp_path, tiny):
    cfg = tiny(max_iters=20, keep_checkpoint=True)
    out = tmp_path / "run.h5"
    train(cfg, [0], [out], progress=False)
    members = train({**cfg, "grid": [7, 5]}, [0], [out], progress=False)
    assert members[0].resumed_from == 0


def test_checkpoint_stores_the_carry_by_field_name_and_refuses_the_old_format(tmp_path, tiny, capsys):
    cfg = tiny(max_iters=20, keep_checkpoint=True)
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.h5.ckpt.h5"
    train(cfg, [0], [out], progress=False)
    with h5py.File(ckpt, "a") as f:
        assert f["carry/opt_state/history/memory"].shape == (2 * cfg["memory"], f["carry/params"].shape[0])
        assert int(f["carry/iteration"][()]) == 20
        del f.attrs["checkpoint_format"]  # what a checkpoint of the leaf-by-index format lacks
    capsys.readouterr()
    members = train({**cfg, "max_iters": 30}, [0], [out], progress=False)
    assert members[0].resumed_from == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(ckpt) in lines[0] and "format 1" in lines[0] and "starting fresh" in lines[0]


def test_batched_members_stop_independently(tmp_path, tiny):
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
def test_bad_run_config_names_the_field(bad, field, tiny):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        tiny(**bad)


@pytest.mark.parametrize("args, message", [
    (["--regularizer", "l3"], "invalid choice"),
    (["--lambda", "-1", "--regularizer", "l2"], "run.lambda"),
    (["--precision", "fp16"], "invalid choice"),
    (["--grid", "0x20"], "run.grid"),
    (["--regularizer", "double", "--lambdas", "1e-4", "1e-3"], "--lambdas needs one value per seed (1), got 2"),
    (["--seeds", "0", "1", "--outs", "a.h5", "b.h5", "--lambdas", "1e-4", "-1", "--regularizer", "l2"], "run.lambda"),
])
def test_cli_bad_input_writes_nothing(tmp_path, cli, args, message):
    out = tmp_path / "run.h5"
    proc = cli("train", "--pde", "convection", "--out", str(out), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_cli_sigterm_checkpoints_and_resume_matches(tmp_path):
    """SIGTERM mid-run: checkpoint, exit 143; the rerun resumes and ends where an uninterrupted run does."""
    base = [sys.executable, "-m", "pinnfail.interfaces.cli", "train", "--pde", "convection", "--grid", "6x5",
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


def test_kept_final_checkpoint_rewrites_a_finished_run_at_once(tmp_path, tiny):
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


# --- damaged checkpoints: moved aside in one line, the run starts afresh --------------------


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path):
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _drop(name):
    def damage(path):
        with h5py.File(path, "a") as f:
            if name.startswith("@"):
                del f.attrs[name[1:]]
            else:
                del f[name]
    return damage


def _reshape(name):
    def damage(path):
        with h5py.File(path, "a") as f:
            data = f[name][()]
            del f[name]
            f[name] = np.concatenate([data, data])  # another shape: not this run's carry
    return damage


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """(config, the kept checkpoint of a 20-iteration run, params of a 30-iteration run from scratch)."""
    from conftest import TINY

    from pinnfail.numerics.config import run_config

    tmp = tmp_path_factory.mktemp("kept")
    cfg = run_config({**TINY, "max_iters": 20, "keep_checkpoint": True})
    train(cfg, [0], [tmp / "run.h5"], progress=False)
    train({**cfg, "max_iters": 30}, [0], [tmp / "fresh.h5"], progress=False)
    with h5py.File(tmp / "fresh.h5") as f:
        return cfg, (tmp / "run.h5.ckpt.h5").read_bytes(), f["params"][()]


@pytest.mark.parametrize("damage, why", [
    (_truncate, "truncated or not an HDF5 file"),
    (_garbage, "truncated or not an HDF5 file"),
    (_drop("history"), "history missing or of another shape"),
    (_drop("carry/opt_state/history"), "carry/opt_state/history missing or of another shape"),
    (_drop("carry/params"), "carry/params missing or of another shape"),
    (_drop("@wall_time_s"), "attribute wall_time_s missing or of another shape"),
    (_reshape("carry/params"), "carry/params missing or of another shape"),
], ids=["truncated", "garbage", "no_history", "no_lbfgs_memory", "no_params", "no_wall_time", "wrong_shape"])
def test_damaged_checkpoint_is_moved_aside_and_the_run_starts_afresh(tmp_path, kept, capsys, damage, why):
    """One line naming the file; the run ends where one that never had a checkpoint does; the
    damaged bytes are kept beside it."""
    cfg, checkpoint_bytes, fresh_params = kept
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.h5.ckpt.h5"
    ckpt.write_bytes(checkpoint_bytes)
    damage(ckpt)
    damaged = ckpt.read_bytes()
    capsys.readouterr()
    member = train({**cfg, "max_iters": 30}, [0], [out], progress=False)[0]
    assert capsys.readouterr().err == (f"pinnfail: checkpoint {ckpt} is damaged ({why}); moved it to "
                                       "run.h5.ckpt.h5.damaged and starting fresh\n")
    assert member.resumed_from == 0 and member.stop_reason == "max_iters"
    assert (tmp_path / "run.h5.ckpt.h5.damaged").read_bytes() == damaged  # nothing lost
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["params"][()], fresh_params)
        assert f.attrs["resumed_from_iteration"] == 0 and f.attrs["iterations"] == 30


def test_the_intact_checkpoint_resumes(tmp_path, kept):
    """The control of the test above: the same checkpoint, undamaged, is resumed from."""
    cfg, checkpoint_bytes, _ = kept
    (tmp_path / "run.h5.ckpt.h5").write_bytes(checkpoint_bytes)
    assert train({**cfg, "max_iters": 30}, [0], [tmp_path / "run.h5"], progress=False)[0].resumed_from == 20


def test_a_second_damaged_checkpoint_keeps_the_first(tmp_path, kept, capsys):
    cfg, checkpoint_bytes, _ = kept
    ckpt = tmp_path / "run.h5.ckpt.h5"
    for expected in ("run.h5.ckpt.h5.damaged", "run.h5.ckpt.h5.damaged.2"):
        ckpt.write_bytes(checkpoint_bytes)
        _truncate(ckpt)
        train({**cfg, "max_iters": 25, "keep_checkpoint": False}, [0], [tmp_path / "run.h5"], progress=False)
        assert f"moved it to {expected} " in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.glob("*.damaged*")) == ["run.h5.ckpt.h5.damaged",
                                                                   "run.h5.ckpt.h5.damaged.2"]


def test_cli_damaged_checkpoint_that_cannot_be_moved_aside_says_what_to_delete(tmp_path, monkeypatch, capsys):
    """A folder where nothing may be renamed: one line naming the file and what to delete, status 1,
    the checkpoint and the run file left as they were."""
    import errno
    import os

    from pinnfail.artifacts import checkpoint
    from pinnfail.interfaces.cli import main

    out, ckpt = tmp_path / "run.h5", tmp_path / "run.h5.ckpt.h5"
    ckpt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)  # an HDF5 signature, then nothing

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(src))

    monkeypatch.setattr(checkpoint.os, "replace", refuse)
    status = main(["train", "--pde", "convection", "--grid", "6x5", "--n-initial", "7", "--n-boundary", "5",
                   "--depth", "2", "--width", "8", "--max-iters", "10", "--log-every", "5", "--quiet",
                   "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 1 and "\n" not in err and "Traceback" not in err
    assert err == (f"pinnfail train: error: checkpoint {ckpt} is damaged (truncated or not an HDF5 file) and "
                   "cannot be moved aside (Permission denied): delete it to start this run afresh")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5.ckpt.h5"]


def test_stop_tolerance_zero_stops_only_at_a_standstill():
    """stop_tolerance 0: only an objective unchanged to the last bit over the window ends a run."""
    from pinnfail.products.train import stop_reason

    moving = [1.0, 0.5, 0.5 * (1 - 1e-15)]
    assert stop_reason(moving, 200, False, lag=1, tol=0.0, max_iters=1000) is None
    assert stop_reason([1.0, 0.5, 0.5], 200, False, lag=1, tol=0.0, max_iters=1000) == "converged"
    assert stop_reason(moving, 200, False, lag=1, tol=3.45e-4, max_iters=1000) == "converged"  # the paper's rule



# --- continuing a finished run: a larger max_iters goes on from its final parameters ---------

def _attrs(path):
    with h5py.File(path) as f:
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}, \
            {k: f["history"][k][()] for k in f["history"]}, f["params"][()]


def test_continuing_a_finished_run_goes_on_from_its_last_iteration(tmp_path, tiny):
    """From the run's final parameters with an empty L-BFGS memory: the history goes on from
    iteration 20 (its rows kept), the provenance names the run, its revision and the restart;
    an exact resume (the kept checkpoint) differs from it only by the memory."""
    cfg = tiny(precision="fp64", max_iters=20, keep_checkpoint=True)
    short, exact, continued = tmp_path / "short.h5", tmp_path / "exact.h5", tmp_path / "continued.h5"
    train(cfg, [1], [short], progress=False)
    train({**cfg, "max_iters": 40}, [1], [exact], checkpoints=[tmp_path / "short.h5.ckpt.h5"], progress=False)
    members = train({**cfg, "max_iters": 40}, [1], [continued], continue_from=[short], progress=False)
    assert members[0].continued["iteration"] == 20 and members[0].resumed_from == 0
    a_short, h_short, p_short = _attrs(short)
    a, h, p = _attrs(continued)
    a_exact, h_exact, p_exact = _attrs(exact)
    assert a["iterations"] == a_exact["iterations"] == 40 and a["stop_reason"] == "max_iters"
    assert list(h["iteration"]) == list(range(0, 41, 10))
    for key in h_short:  # the continued run's first rows are the original's, unchanged
        np.testing.assert_array_equal(h[key][:3], h_short[key])
    assert a["continued_from_iteration"] == 20 and json.loads(a["lbfgs_restarts"]) == [20]
    assert json.loads(a["continued_from"]) == {"run": str(short), "git_revision": a_short["git_revision"],
                                               "iteration": 20}
    assert a["wall_time_s"] >= a_short["wall_time_s"] and a["fevals"] > a_short["fevals"]
    assert a_exact["continued_from_iteration"] == 0 and a_exact["resumed_from_iteration"] == 20
    # the restart is the only difference: both objectives fall, the parameters differ
    assert h["objective"][-1] < h_short["objective"][-1] and h_exact["objective"][-1] < h_short["objective"][-1]
    assert not np.array_equal(p, p_exact)
    # continued again: every restart is recorded
    again = tmp_path / "again.h5"
    train({**cfg, "max_iters": 50}, [1], [again], continue_from=[continued], progress=False)
    a2, h2, _ = _attrs(again)
    assert json.loads(a2["lbfgs_restarts"]) == [20, 40] and a2["continued_from_iteration"] == 40
    assert list(h2["iteration"]) == list(range(0, 51, 10))


def test_a_continued_run_restarts_like_a_fresh_start_at_its_parameters(tmp_path, tiny):
    """The continuation's first step is the first step of a run started at the same parameters:
    the L-BFGS memory really is empty (not carried over from anything)."""
    from pinnfail.numerics.schedule import Problem
    from pinnfail.products.train import start

    cfg = tiny(precision="fp64", max_iters=20)
    short = tmp_path / "short.h5"
    train(cfg, [2], [short], progress=False)
    _, _, params = _attrs(short)
    job, carry = start({**cfg, "max_iters": 30}, [2], [tmp_path / "c.h5"], continue_from=[short], progress=False)
    problem = Problem.from_config(job.config)
    fresh = problem.carry_at(params, cfg["lambda"], 20, 0)
    import jax

    for got, want in zip(jax.tree.leaves(carry.opt_state), jax.tree.leaves(fresh.opt_state)):
        np.testing.assert_array_equal(np.asarray(got)[0], np.asarray(want))
    np.testing.assert_array_equal(np.asarray(carry.params)[0], params)
    assert int(carry.iteration[0]) == 20


@pytest.mark.parametrize("change, why", [
    ({"lambda": 1e-3}, "its lambda is 0.0001, this run's 0.001"),
    ({"max_iters": 10}, "it has 20 iterations, more than max_iters 10"),
    ({"seed": 5}, "its seed is 1, this run's 5"),
])
def test_a_run_that_cannot_be_continued_is_refused_naming_the_file(tmp_path, tiny, change, why):
    cfg = tiny(precision="fp64", max_iters=20, regularizer="double", **{"lambda": 1e-4})
    short = tmp_path / "short.h5"
    train(cfg, [1], [short], progress=False)
    seed = change.pop("seed", 1)
    with pytest.raises(ConfigError, match=f"cannot continue {short}: {why}"):
        train({**cfg, **change, "max_iters": change.get("max_iters", 40)}, [seed], [tmp_path / "c.h5"],
              continue_from=[short], progress=False)
    assert not (tmp_path / "c.h5").exists()


def test_an_interrupted_or_damaged_run_is_not_continued(tmp_path, tiny):
    from pinnfail.artifacts.hdf5 import ArtifactError

    cfg = tiny(precision="fp64", max_iters=20)
    short = tmp_path / "short.h5"
    train(cfg, [1], [short], progress=False)
    with h5py.File(short, "a") as f:
        f.attrs["stop_reason"] = "interrupted"
    with pytest.raises(ConfigError, match="it ended interrupted"):
        train({**cfg, "max_iters": 40}, [1], [tmp_path / "c.h5"], continue_from=[short], progress=False)
    short.write_bytes(b"not hdf5")
    with pytest.raises(ArtifactError, match=str(short)):
        train({**cfg, "max_iters": 40}, [1], [tmp_path / "c.h5"], continue_from=[short], progress=False)


def test_keep_last_lets_a_larger_max_iters_continue_a_deleted_output(tmp_path, tiny, capsys):
    """What the workflow does: Snakemake deletes run.h5 before rerunning a job whose max_iters
    was raised; the copy kept beside the checkpoint is continued. Another configuration is not:
    one line says why and the run starts fresh."""
    cfg = tiny(precision="fp64", max_iters=20)
    out, ckpt = tmp_path / "run.h5", tmp_path / "ck" / "seed1.ckpt.h5"
    train(cfg, [1], [out], checkpoints=[ckpt], keep_last=True, progress=False)
    assert (tmp_path / "ck" / "seed1.last.h5").is_file() and not ckpt.exists()
    out.unlink()
    members = train({**cfg, "max_iters": 30}, [1], [out], checkpoints=[ckpt], keep_last=True, progress=False)
    assert members[0].continued["iteration"] == 20
    assert _attrs(out)[0]["iterations"] == 30
    out.unlink()
    members = train({**cfg, "max_iters": 40, "width": 6}, [1], [out], checkpoints=[ckpt], progress=False)
    assert not members[0].continued
    assert "not continuing" in capsys.readouterr().err
    assert list(_attrs(out)[1]["iteration"]) == list(range(0, 41, 10))


def test_cli_continue_from(tmp_path):
    from conftest import run_cli

    common = ["train", "--pde", "convection", "--grid", "6x5", "--n-initial", "7", "--n-boundary", "5",
              "--depth", "2", "--width", "8", "--n-test-domain", "64", "--n-test-line", "16", "--log-every", "10",
              "--stop-window", "0", "--checkpoint-every", "0", "--precision", "fp64", "--quiet"]
    short, longer = tmp_path / "s.h5", tmp_path / "l.h5"
    assert run_cli(*common, "--max-iters", "20", "--out", str(short)).returncode == 0
    done = run_cli(*common, "--max-iters", "30", "--out", str(longer), "--continue-from", str(short))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["continued_from_iteration"] == 20
    bad = run_cli(*common, "--max-iters", "30", "--seeds", "0", "1", "--outs", "a.h5", "b.h5",
                  "--continue-from", str(short), cwd=tmp_path)
    assert bad.returncode != 0 and "--continue-from needs one value per seed (2), got 1" in bad.stderr
