"""The pinnfail command: a clear error naming the field, exit status 2, nothing written.

Run in this process (conftest's ``cli``); the reference command runs once as its own process
(``python -m pinnfail.interfaces.cli``), the entry point users call."""
import json
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

CLI = [sys.executable, "-m", "pinnfail.interfaces.cli"]


def run_process(*args, cwd=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args, message", [
    (["--pde", "heat"], "invalid choice: 'heat'"),
    ([], "give --pde or --manifest"),
    (["--manifest", '{"pde": "wave", "settings": {"nx": -3}}'], "reference.nx"),
    (["--manifest", '{"pde": "wave", "params": [1]}'], "manifest.params: expected a mapping"),
    (["--manifest", '{"pde": "wave", "colour": 1}'], "unknown field(s) ['colour']"),
    (["--manifest", '{"pde": "wave"'], "manifest: not JSON"),
    (["--pde", "wave", "--set", "nx=-3"], "reference.nx"),
    (["--pde", "wave", "--set", "grid=3"], "grid"),
    (["--pde", "wave", "--param", "gamma=2"], "gamma"),
    (["--pde", "wave", "--set", "nx"], "NAME=VALUE"),
])
def test_reference_bad_input(tmp_path, cli, args, message):
    out = tmp_path / "ref.h5"
    proc = cli("reference", *args, "--out", str(out))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not list(tmp_path.iterdir())


def test_reference_cli_writes_file(tmp_path):
    out = tmp_path / "wave.h5"
    proc = run_process("reference", "--pde", "wave", "--set", "nx=21", "--set", "nt=11", "--param", "beta=2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["shape"] == [11, 21]
    with h5py.File(out) as f:
        assert json.loads(f.attrs["params"]) == {"c": 2.0, "beta": 2.0}
        assert f["u"].shape == (11, 21)


def test_train_config_file_and_flags(tmp_path, cli):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("pde: convection\ngrid: [5, 5]\nn_initial: 6\nn_boundary: 6\ndepth: 1\nwidth: 4\n"
                   "n_test_domain: 20\nn_test_line: 8\nlog_every: 5\nstop_window: 0\nmax_iters: 50\n")
    out = tmp_path / "run.h5"
    proc = cli("train", "--config", str(cfg), "--max-iters", "10", "--param", "beta=20", "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out) as f:
        config = json.loads(f.attrs["config"])
    assert config["max_iters"] == 10 and config["pde_params"] == {"beta": 20.0} and config["width"] == 4


def test_train_malformed_config_file(tmp_path, cli):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("pde: [convection\n")
    proc = cli("train", "--config", str(cfg), "--out", str(tmp_path / "x.h5"))
    assert proc.returncode == 2 and "--config: cannot parse" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_archive_copies_finished_runs_compressed_and_equal(tmp_path, evaluated, cli):
    """`pinnfail archive`: run.h5 and eval.h5 of the matching experiments, every value equal,
    large arrays stored compressed; no checkpoint, no interrupted run; nothing matched is an error."""
    import numpy as np

    from pinnfail.artifacts.formats import Evaluation, Run

    folder, _, evals = evaluated
    runs = tmp_path / "runs"
    for name in ("study__a", "study__b", "other"):
        seed = runs / name / "seed0"
        seed.mkdir(parents=True)
        (seed / "run.h5").write_bytes((folder / "run0.h5").read_bytes())
        (seed / "eval.h5").write_bytes(evals[0].read_bytes())
        (seed / "run.h5.ckpt.h5").write_bytes(b"checkpoint")
    with h5py.File(runs / "study__b" / "seed0" / "run.h5", "a") as f:
        f.attrs["stop_reason"] = "interrupted"
    proc = cli("archive", "study__", "--from", str(runs), "--to", str(tmp_path / "arch"))
    assert proc.returncode == 0, proc.stderr
    assert "interrupted" in proc.stderr
    copied = sorted(p.relative_to(tmp_path / "arch").as_posix() for p in (tmp_path / "arch").rglob("*.h5"))
    assert copied == ["study__a/seed0/eval.h5", "study__a/seed0/run.h5"]
    a, b = Run.read(runs / "study__a/seed0/run.h5"), Run.read(tmp_path / "arch/study__a/seed0/run.h5")
    assert a.config == b.config and a.attrs == b.attrs and np.array_equal(a.params, b.params)
    e, f = Evaluation.read(evals[0]), Evaluation.read(tmp_path / "arch/study__a/seed0/eval.h5")
    assert e.metrics == f.metrics and all(np.array_equal(e.fields[k], f.fields[k]) for k in e.fields)
    proc = cli("archive", "nothing__", "--from", str(runs), "--to", str(tmp_path / "arch2"))
    assert proc.returncode == 2 and "no experiment" in proc.stderr and not (tmp_path / "arch2").exists()


def test_study_lists_added_seeds_only_for_a_staged_study(tmp_path):
    """`pinnfail study` on committed runs (docs/results/cpu/table1_reaction): without --sweep-seeds
    (a study with no confirm_seeds) no seed counts as added after the selection; with them, the
    others are compared with the sweep's majority."""
    root = Path(__file__).resolve().parents[1] / "docs/results/cpu/table1_reaction/runs"
    runs = sorted(root.glob("*/seed*/run.h5"))
    assert len(runs) == 3
    with h5py.File(runs[0], "r") as f:
        settings = json.loads(f.attrs["config"])
    manifest = {"title": "t", "variants": {"v": {"settings": settings, "runs": [
        {"run": str(r), "eval": str(r.with_name("eval.h5"))} for r in runs]}}}
    plain, staged = tmp_path / "plain.md", tmp_path / "staged.md"
    from pinnfail.interfaces.cli import main
    assert main(["study", "--manifest", json.dumps(manifest), "--md", str(plain)]) == 0
    assert main(["study", "--manifest", json.dumps({**manifest, "sweep_seeds": [0]}), "--md", str(staged)]) == 0
    assert "Seeds added after the selection" not in plain.read_text()
    text = staged.read_text()
    assert "Seeds added after the selection" in text
    assert "| v | solved (solved 1) | 1: solved, 2: solved | yes | solved (solved 3/3) |" in text


def test_a_plugin_is_accepted_after_the_subcommand_too(tmp_path, capsys):
    """--pde-plugin before or after the subcommand: the plugin's equation is a choice either way."""
    from pinnfail.interfaces.cli import main
    from pinnfail.numerics import pdes

    plugin = str(Path(__file__).resolve().parents[1] / "docs/examples/advection_diffusion.py")
    with pdes.registry_kept():  # the registry as it was for the other tests of this worker
        for argv in (["--pde-plugin", plugin, "reference"], ["reference", "--pde-plugin", plugin]):
            out = tmp_path / f"ref{len(argv[0])}.h5"
            assert main([*argv, "--pde", "advection_diffusion", "--set", "nx=16", "--set", "nt=5",
                         "--out", str(out)]) == 0
            assert out.is_file()


def test_a_run_of_an_unknown_equation_says_to_pass_its_plugin(tmp_path, capsys):
    from pinnfail.numerics.config import ConfigError, run_config

    with pytest.raises(ConfigError, match=r"run.pde: 'heat' is not allowed; .*needs it: pinnfail --pde-plugin FILE"):
        run_config({"pde": "heat"}, prefix="run")


def test_a_command_without_its_optional_dependency_names_the_extra(monkeypatch, capsys):
    """`pinnfail cost` without Snakemake: one line naming the extra to install, no traceback."""
    from pinnfail.interfaces.cli import main

    monkeypatch.setitem(sys.modules, "snakemake", None)  # import snakemake fails as if absent
    monkeypatch.setitem(sys.modules, "snakemake.api", None)
    assert main(["cost", "results/table1.csv"]) == 2
    err = capsys.readouterr().err
    assert err == ("pinnfail cost: error: needs snakemake, which is not installed: python3 -m pip install "
                   "'pinnfail[workflow]' (or -e \".[workflow]\" in a checkout)\n")
