"""Artifacts: the one atomic writer, the typed readers, and bad files as one-line errors.

The artifacts are real: a reference, a tiny run and its evaluation, made once.
"""
import errno
import json
import os
import subprocess
import sys
from typing import NamedTuple

import h5py
import numpy as np
import pytest

from pinnfail.products import formatting
from pinnfail.artifacts import hdf5
from pinnfail.artifacts import files
from pinnfail.products.evaluate import evaluate, write_result
from pinnfail.artifacts.formats import write_reference
from pinnfail.numerics.reference import compute_reference
from pinnfail.products.train import train
from pinnfail.artifacts import formats

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
    write_result(ev, evaluate(run, ref, residual_grid=(8, 8), slice_grid=(33, 3)))
    return {"reference": ref, "run": run, "evaluation": ev}


# --- the atomic writer -------------------------------------------------------------------


def test_atomic_paths_write_all_targets_with_umask_permissions(tmp_path):
    a, b = tmp_path / "new" / "a.txt", tmp_path / "b.txt"
    with files.atomic_paths(a, b) as (ta, tb):
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
        with files.atomic_paths(old, tmp_path / "new" / "deeper" / "x.txt") as (t_old, t_new):
            t_old.write_text("half")
            raise RuntimeError("disk full")
    assert old.read_text() == "previous"
    assert [p.name for p in tmp_path.rglob("*")] == ["old.txt"]


def test_text_and_hdf5_writers_are_atomic(tmp_path):
    files.write_text(tmp_path / "t.csv", "a,b\n")
    assert (tmp_path / "t.csv").read_text() == "a,b\n"
    with pytest.raises(ValueError, match="boom"):
        with hdf5.atomic_h5(tmp_path / "x.h5") as f:
            f.create_dataset("a", data=np.arange(3))
            raise ValueError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _h5py_enospc(*args, **kwargs):  # how h5py reports it: the number only in the text
    raise OSError("Can't synchronously write data (file write failed: time = Tue Dec  2 13:00:00 2025\n, "
                  "filename = 'x.h5', file descriptor = 5, errno = 28, error message = 'No space left on device', "
                  "buf = 0x1, total write size = 800, bytes this sub-write = 800, bytes actually written = "
                  "18446744073709551615, offset = 0)")


class _Carry(NamedTuple):
    params: np.ndarray


def _writers(artifacts, tmp_path):
    """(what, targets, write) for every kind of artifact, each written through the atomic writer."""
    from pinnfail.artifacts import checkpoint
    from pinnfail.products.figures.panels import new_figure, render

    ref, run, ev = (formats.read_reference(artifacts["reference"]), formats.Run.read(artifacts["run"]),
                    formats.Evaluation.read(artifacts["evaluation"]))

    def figure(png, pdf):
        def draw(style):
            fig = new_figure(style, 2.0)
            fig.add_subplot().plot([0, 1], [1, 0])
            return fig
        render("fig1", png, pdf, {"dpi": 20}, draw)

    t = tmp_path
    return [
        ("text", [t / "table.csv"], lambda: files.write_text(t / "table.csv", "a,b\n")),
        ("reference", [t / "ref.h5"], lambda: formats.write_reference(t / "ref.h5", ref)),
        ("run", [t / "run.h5"], lambda: formats.write_run(t / "run.h5", run.attrs, run.params, run.history, run.points)),
        ("evaluation", [t / "eval.h5"], lambda: formats.write_evaluation(t / "eval.h5", ev.metrics, ev.fields, ev.config)),
        ("checkpoint", [t / "run.h5.ckpt.h5"],
         lambda: checkpoint.save(t / "run.h5.ckpt.h5", _Carry(np.arange(3.0)), {"x": np.arange(2)}, {"seed": 0})),
        ("figure", [t / "f.png", t / "f.pdf"], lambda: figure(t / "f.png", t / "f.pdf")),
    ]


@pytest.mark.parametrize("fail_at", ["fsync", "h5py_write", "replace"])
def test_full_disk_while_writing_any_artifact_is_one_line_and_leaves_nothing(artifacts, tmp_path, monkeypatch, fail_at):
    """ENOSPC from the data's fsync (where a full disk shows on most file systems), from HDF5's
    own write (the errno only in its text) or from the rename: a WriteError naming the targets,
    the old targets untouched, no temporary file left."""
    import h5py as h5

    for what, targets, write in _writers(artifacts, tmp_path):
        for target in targets:
            target.write_bytes(b"previous " + what.encode())
        before = sorted(p.name for p in tmp_path.iterdir())
        with monkeypatch.context() as m:
            if fail_at == "fsync":
                m.setattr(files, "_fsync", _enospc)
            elif fail_at == "replace":
                m.setattr(files.os, "replace", _enospc)
            elif what in ("text", "figure"):
                m.setattr(files, "_fsync", _h5py_enospc)
            else:
                m.setattr(h5.Group, "create_dataset", _h5py_enospc)
            with pytest.raises(files.WriteError) as err:
                write()
        names = ", ".join(map(str, targets))
        assert str(err.value) == f"{names}: cannot write (No space left on device)", what
        assert err.value.errno == errno.ENOSPC and isinstance(err.value, OSError)
        assert sorted(p.name for p in tmp_path.iterdir()) == before, what  # no temporary file
        for target in targets:
            assert target.read_bytes() == b"previous " + what.encode(), what


def test_unwritable_output_paths_are_one_line_write_errors(tmp_path, monkeypatch):
    """A file where a folder should be, a folder where the file should be, a folder that may not
    be written: the error names the target; folders created for it are removed again."""
    (tmp_path / "file").write_text("")
    (tmp_path / "folder.csv").mkdir()
    for target, reason in {tmp_path / "file" / "sub" / "t.csv": "Not a directory",
                           tmp_path / "folder.csv": "Is a directory"}.items():
        with pytest.raises(files.WriteError) as err:
            files.write_text(target, "x")
        assert str(err.value) == f"{target}: cannot write ({reason})"
    target = tmp_path / "new" / "deeper" / "t.csv"  # a folder that may not be written (root may
                                                   # write anywhere: simulated), below new folders

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(files.WriteError) as err:
        files.write_text(target, "x")
    assert str(err.value) == f"{target}: cannot write (Permission denied)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.csv"]  # new/deeper removed


def test_cli_reports_a_write_error_in_one_line(tmp_path, monkeypatch, capsys):
    """Any subcommand: status 1 (the machine, not the input), one line naming the file, nothing written."""
    from pinnfail.interfaces.cli import main

    monkeypatch.setattr(files, "_fsync", _enospc)
    out = tmp_path / "sub" / "ref.h5"
    status = main(["reference", "--pde", "wave", "--set", "nx=21", "--set", "nt=11", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert err == f"pinnfail reference: error: {out}: cannot write (No space left on device)\n"
    assert not list(tmp_path.iterdir())
    monkeypatch.undo()
    (tmp_path / "sub").write_text("a file")  # where the output's folder should be
    status = main(["reference", "--pde", "wave", "--set", "nx=21", "--set", "nt=11", "--out", str(out)])
    assert status == 1 and capsys.readouterr().err == (
        f"pinnfail reference: error: {out}: cannot write (Not a directory)\n")


def test_format_number():
    cases = {12000.0: "12000", 0.5: "0.5", 1.2345e-5: "1.23e-05", 123456.7: "1.23e+05", 0.0: "0",
             3.14159: "3.14", float("inf"): "inf", 7: "7", "x": "x"}
    for value, text in cases.items():
        assert formatting.format_number(value) == text
    assert formatting.format_number(float("nan")) == "nan" and formatting.format_number(float("nan"), nan="–") == "–"


# --- typed readers -----------------------------------------------------------------------


def test_readers_return_what_was_written(artifacts):
    ref = formats.read_reference(artifacts["reference"])
    assert ref.pde == "convection" and ref.u.shape == (9, 24) and ref.params == {"beta": 50.0}
    run = formats.Run.read(artifacts["run"])
    assert run.config["grid"] == [6, 5] and run.term_names == ["domain", "initial", "periodic"]
    assert run.points["domain"].shape == (30, 2) and run.params.ndim == 1
    ev = formats.Evaluation.read(artifacts["evaluation"])
    assert ev.config == run.config and set(ev.fields) == set(formats.EVALUATION_FIELDS)
    assert ev.metrics == formats.read_metrics(artifacts["evaluation"])
    # the residual slices: the run's 5 training times plus the regular ones not among them
    train_t = np.unique(run.points["domain"][:, 1].astype(np.float64))
    assert set(train_t) <= set(ev.fields["slice_t"])
    assert ev.fields["slice_t"].size == len(set(train_t) | {0.0, 0.5, 1.0})
    assert ev.fields["slice_residual"].shape == (ev.fields["slice_t"].size, 33)


def test_slice_residual_is_the_residual_of_the_network(artifacts):
    from pinnfail.products.evaluate import field_functions

    run, ev = formats.Run.read(artifacts["run"]), formats.Evaluation.read(artifacts["evaluation"])
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


@pytest.mark.parametrize("kind, reader", [("reference", formats.read_reference), ("run", formats.Run.read),
                                          ("evaluation", formats.Evaluation.read),
                                          ("evaluation", formats.read_metrics)])
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
        with pytest.raises(hdf5.ArtifactError, match=message) as err:
            reader(path)
        assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_every_subcommand_reports_a_bad_artifact_in_one_line(artifacts, tmp_path, cli):
    """The first command as its own process (nothing else on its stderr either: no warning,
    no traceback), the others in this process."""
    run, ev, ref = (str(artifacts[k]) for k in ("run", "evaluation", "reference"))
    bad_run = str(_truncated(artifacts["run"], tmp_path))
    bad_ref = str(_truncated(artifacts["reference"], tmp_path))
    foreign = str(_foreign(tmp_path))
    out = tmp_path / "out"
    def manifest(**entry):
        return json.dumps(entry)

    pair = {"run": bad_run, "eval": ev}
    commands = [
        (["evaluate", bad_run, "--reference", ref, "--out", str(out / "e.h5")], bad_run, "truncated"),
        (["evaluate", run, "--reference", bad_ref, "--out", str(out / "e.h5")], bad_ref, "truncated"),
        (["evaluate", foreign, "--reference", ref], foreign, "not a run file (missing 'params'"),
        (["table1", "--manifest", manifest(rows=[{"method": "m", "evals": [foreign]}]), "--csv", str(out / "t.csv")],
         foreign, "not an evaluation file"),
        (["figure", "--manifest", manifest(name="fig1", runs={"failure": pair, "regularized": {"run": run, "eval": ev}},
                                           references={TINY["pde"]: ref}),
          "--png", str(out / "f.png"), "--pdf", str(out / "f.pdf")], bad_run, "truncated"),
        (["study", "--manifest", manifest(title="t", variants={"v": {"settings": dict(TINY), "runs": [pair]}}),
          "--csv", str(out / "s.csv")], bad_run, "truncated"),
        (["runs", "--manifest", manifest(runs=[{"experiment": "e", "method": "m", **pair}]), "--csv", str(out / "r.csv")],
         bad_run, "truncated"),
    ]
    for i, (argv, path, message) in enumerate(commands):
        proc = (subprocess.run([sys.executable, "-m", "pinnfail.interfaces.cli", *argv], capture_output=True, text=True)
                if i == 0 else cli(*argv))
        assert proc.returncode == 2, (argv, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert f"{path}: " in lines[0] and message in lines[0], lines[0]
        assert lines[0].startswith(f"pinnfail {argv[0]}: error: ")
    assert not out.exists()

