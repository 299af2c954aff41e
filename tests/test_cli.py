"""The pinnfail command: a clear error naming the field, exit status 2, nothing written."""
import json
import subprocess
import sys

import h5py
import pytest

CLI = [sys.executable, "-m", "pinnfail.cli"]


def run(*args, cwd=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args, message", [
    (["--pde", "heat"], "invalid choice: 'heat'"),
    (["--pde", "wave", "--set", "nx=-3"], "reference.nx"),
    (["--pde", "wave", "--set", "grid=3"], "grid"),
    (["--pde", "wave", "--param", "gamma=2"], "gamma"),
    (["--pde", "wave", "--set", "nx"], "NAME=VALUE"),
])
def test_reference_bad_input(tmp_path, args, message):
    out = tmp_path / "ref.h5"
    proc = run("reference", *args, "--out", str(out))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not list(tmp_path.iterdir())


def test_reference_cli_writes_file(tmp_path):
    out = tmp_path / "wave.h5"
    proc = run("reference", "--pde", "wave", "--set", "nx=21", "--set", "nt=11", "--param", "beta=2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["shape"] == [11, 21]
    with h5py.File(out) as f:
        assert json.loads(f.attrs["params"]) == {"c": 2.0, "beta": 2.0}
        assert f["u"].shape == (11, 21)


def test_train_config_file_and_flags(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("pde: convection\ngrid: [5, 5]\nn_initial: 6\nn_boundary: 6\ndepth: 1\nwidth: 4\n"
                   "n_test_domain: 20\nn_test_line: 8\nlog_every: 5\nstop_window: 0\nmax_iters: 50\n")
    out = tmp_path / "run.h5"
    proc = run("train", "--config", str(cfg), "--max-iters", "10", "--param", "beta=20", "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out) as f:
        config = json.loads(f.attrs["config"])
    assert config["max_iters"] == 10 and config["pde_params"] == {"beta": 20.0} and config["width"] == 4


def test_train_malformed_config_file(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("pde: [convection\n")
    proc = run("train", "--config", str(cfg), "--out", str(tmp_path / "x.h5"))
    assert proc.returncode == 2 and "--config: cannot parse" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]
