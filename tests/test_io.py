"""Artifacts: the one atomic writer, the typed readers, and bad files as one-line errors.

The artifacts are real: a reference, a tiny run and its evaluation, made once.
"""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from pinnfail import io
from pinnfail.evaluate import evaluate, write_evaluation
from pinnfail.reference import compute_reference, write_reference
from pinnfail.train import train

TINY = {"pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 1, "width": 8,
        "n_test_domain": 64, "n_test_line": 16, "log_every": 5, "stop_window": 0, "checkpoint_every": 0,
        "max_iters": 10}


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("artifacts")
    ref, run, ev = tmp / "ref.h5", tmp / "run.h5", tmp / "eval.h5"
    write_reference(ref, compute_reference("convection", None, {"nx": 24, "nt": 9}))
    train(TINY, [0], [run], progress=False)
    write_evaluation(ev, evaluate(run, ref, residual_grid=(8, 8), slice_grid=(33, 3)))
    return {"reference": ref, "run": run, "evaluation": ev}


# --- the atomic writer -------------------------------------------------------------------


def test_atomic_paths_write_all_targets_with_umask_permissions(tmp_path):
    a, b = tmp_path / "new" / "a.txt", tmp_path / "b.txt"
    with io.atomic_paths(a, b) as (ta, tb):
        assert ta.parent == a.parent and tb.parent == b.parent and not a.exists()
        ta.write_text("A")
        tb.write_text("B")
    assert a.read_text() == "A" and b.read_text() == "B"
    for path in (a, b):
        assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "b.txt", "new"]


def test_atomic_paths_failure_leaves_targets_and_folders_untouched(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("previous")
    with pytest.raises(RuntimeError, match="disk full"):
        with io.atomic_paths(old, tmp_path / "new" / "deeper" / "x.txt") as (t_old, t_new):
            t_old.write_text("half")
            raise RuntimeError("disk full")
    assert old.read_text() == "previous"
    assert [p.name for p in tmp_path.rglob("*")] == ["old.txt"]


def test_text_and_hdf5_writers_are_atomic(tmp_path):
    io.write_text(tmp_path / "t.csv", "a,b\n")
    assert (tmp_path / "t.csv").read_text() == "a,b\n"
    with pytest.raises(ValueError, match="boom"):
        with io.atomic_h5(tmp_path / "x.h5") as f:
            f.create_dataset("a", data=np.arange(3))
            raise ValueError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_format_number():
    cases = {12000.0: "12000", 0.5: "0.5", 1.2345e-5: "1.23e-05", 123456.7: "1.23e+05", 0.0: "0",
             3.14159: "3.14", float("inf"): "inf", 7: "7", "x": "x"}
    for value, text in cases.items():
        assert io.format_number(value) == text
    assert io.format_number(float("nan")) == "nan" and io.format_number(float("nan"), nan="–") == "–"


# --- typed readers -----------------------------------------------------------------------


def test_readers_return_what_was_written(artifacts):
    ref = io.Reference.read(artifacts["reference"])
    assert ref.pde == "convection" and ref.u.shape == (9, 24) and ref.params == {"beta": 50.0}
    run = io.Run.read(artifacts["run"])
    assert run.config["grid"] == [6, 5] and run.term_names == ["domain", "initial", "periodic"]
    assert run.points["domain"].shape == (30, 2) and run.params.ndim == 1
    ev = io.Evaluation.read(artifacts["evaluation"])
    assert ev.config == run.config and set(ev.fields) == set(io.EVALUATION_FIELDS)
    assert ev.metrics == io.read_metrics(artifacts["evaluation"])
    # the residual slices: the run's 5 training times plus the regular ones not among them
    train_t = np.unique(run.points["domain"][:, 1].astype(np.float64))
    assert set(train_t) <= set(ev.fields["slice_t"])
    assert ev.fields["slice_t"].size == len(set(train_t) | {0.0, 0.5, 1.0})
    assert ev.fields["slice_residual"].shape == (ev.fields["slice_t"].size, 33)


def test_slice_residual_is_the_residual_of_the_network(artifacts):
    from pinnfail.evaluate import field_functions

    run, ev = io.Run.read(artifacts["run"]), io.Evaluation.read(artifacts["evaluation"])
    _, residual = field_functions(run.config, run.params)
    f = ev.fields
    i = len(f["slice_t"]) // 2
    import jax.numpy as jnp

    direct = np.asarray(residual(jnp.asarray(f["slice_x"]), jnp.full(f["slice_x"].shape, f["slice_t"][i])))
    np.testing.assert_allclose(f["slice_residual"][i], direct, rtol=1e-5, atol=1e-6)


def _truncated(path, tmp_path):
    out = tmp_path / f"truncated_{path.name}"
    data = path.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def _foreign(tmp_path):
    out = tmp_path / "foreign.h5"
    with h5py.File(out, "w") as f:
        f.create_dataset("data", data=np.arange(4))
        f.attrs["owner"] = "someone else"
    return out


@pytest.mark.parametrize("kind, reader", [("reference", io.Reference.read), ("run", io.Run.read),
                                          ("evaluation", io.Evaluation.read),
                                          ("evaluation", io.read_metrics)])
def test_bad_files_are_one_line_artifact_errors(artifacts, tmp_path, kind, reader):
    text = tmp_path / "text.h5"
    text.write_text("not hdf5\n")
    other = "run" if kind != "run" else "evaluation"
    bad = {
        _truncated(artifacts[kind], tmp_path): "truncated or not an HDF5 file",
        text: "truncated or not an HDF5 file",
        _foreign(tmp_path): f"not an? {kind} file \\(missing '",
        artifacts[other]: f"not an? {kind} file \\(missing",
        tmp_path / "missing.h5": f"{kind} file does not exist",
    }
    for path, message in bad.items():
        with pytest.raises(io.ArtifactError, match=message) as err:
            reader(path)
        assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pinnfail.cli", *args], capture_output=True, text=True)


def test_every_subcommand_reports_a_bad_artifact_in_one_line(artifacts, tmp_path):
    run, ev, ref = (str(artifacts[k]) for k in ("run", "evaluation", "reference"))
    bad_run = str(_truncated(artifacts["run"], tmp_path))
    bad_ref = str(_truncated(artifacts["reference"], tmp_path))
    foreign = str(_foreign(tmp_path))
    out = tmp_path / "out"
    settings = json.dumps({"v": {k: v for k, v in TINY.items()}})
    commands = [
        (["evaluate", bad_run, "--reference", ref, "--out", str(out / "e.h5")], bad_run, "truncated"),
        (["evaluate", run, "--reference", bad_ref, "--out", str(out / "e.h5")], bad_ref, "truncated"),
        (["evaluate", foreign, "--reference", ref], foreign, "not a run file (missing 'params'"),
        (["table1", "--row", f"m={foreign}", "--csv", str(out / "t.csv")], foreign,
         "not an evaluation file"),
        (["figure", "fig1", "--run", f"failure={bad_run}:{ev}", "--run", f"regularized={run}:{ev}",
          "--reference", ref, "--png", str(out / "f.png"), "--pdf", str(out / "f.pdf")], bad_run, "truncated"),
        (["study", "--variant", f"v={bad_run}:{ev}", "--settings", settings, "--csv", str(out / "s.csv")],
         bad_run, "truncated"),
    ]
    for argv, path, message in commands:
        proc = _cli(*argv)
        assert proc.returncode == 2, (argv, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert f"{path}: " in lines[0] and message in lines[0], lines[0]
        assert lines[0].startswith(f"pinnfail {argv[0]}: error: ")
    assert not out.exists()

