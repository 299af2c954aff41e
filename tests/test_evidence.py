"""pinnfail.products.evidence: runs.csv lines and the convergence figure, from real tiny runs."""
import csv
import json

import h5py
import pytest

from pinnfail.products import evidence
from pinnfail.interfaces.cli import main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two seeds of a tiny convection double PINN, evaluated against a small reference."""
    base = tmp_path_factory.mktemp("evidence")
    ref = base / "convection.h5"
    assert main(["reference", "--pde", "convection", "--out", str(ref), "--set", "nx=32", "--set", "nt=17"]) == 0
    outs = [base / f"s{s}/run.h5" for s in (0, 1)]
    assert main(["train", "--pde", "convection", "--regularizer", "double", "--lambda", "1e-4", "--grid", "6x6",
                 "--n-initial", "8", "--n-boundary", "8", "--width", "8", "--depth", "2", "--max-iters", "20",
                 "--log-every", "5", "--stop-window", "0", "--checkpoint-every", "0", "--n-test-domain", "50",
                 "--n-test-line", "20", "--precision", "fp64", "--seeds", "0", "1",
                 "--outs", *map(str, outs), "--quiet", "--no-require-gpu"]) == 0
    pairs = []
    for out in outs:
        ev = out.with_name("eval.h5")
        assert main(["evaluate", str(out), "--reference", str(ref), "--out", str(ev), "--residual-grid", "8x8"]) == 0
        pairs.append((str(out), str(ev)))
    return base, pairs


def test_runs_csv_has_one_line_per_run_from_the_artifacts(runs):
    base, pairs = runs
    manifest = {"runs": [{"experiment": "exp", "method": "double PINN, 'quoted'", "run": run, "eval": ev}
                         for run, ev in pairs]}
    assert main(["runs", "--csv", str(base / "runs.csv"), "--manifest", json.dumps(manifest)]) == 0
    rows = list(csv.DictReader(open(base / "runs.csv")))
    assert [row["seed"] for row in rows] == ["0", "1"]
    for row, (run, ev) in zip(rows, pairs):
        with h5py.File(run) as f, h5py.File(ev) as g:
            assert row["method"] == "double PINN, 'quoted'" and row["experiment"] == "exp"
            assert (row["pde"], row["regularizer"], row["precision"]) == ("convection", "double", "fp64")
            assert float(row["lambda"]) == 1e-4 and int(row["iterations"]) == int(f.attrs["iterations"])
            assert row["device"] == f.attrs["device"] and row["stop_reason"] == f.attrs["stop_reason"]
            assert row["git_revision"] == f.attrs["git_revision"]
            assert float(row["rmae"]) == pytest.approx(float(g.attrs["rmae"]), rel=1e-12)
            assert float(row["test_train_ratio"]) == pytest.approx(float(g.attrs["test_train_ratio"]), rel=1e-12)
            assert json.loads(f.attrs["config"])["seed"] == int(row["seed"])


def test_convergence_figure_is_written(runs):
    base, pairs = runs
    manifest = {"runs": [{"label": "double PINN", "run": run, "eval": ev} for run, ev in pairs]}
    argv = ["convergence", "--png", str(base / "c.png"), "--pdf", str(base / "c.pdf"), "--manifest", json.dumps(manifest)]
    assert main(argv) == 0
    assert (base / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (base / "c.pdf").stat().st_size > 1000


def test_rmae_axis_spans_at_least_a_decade():
    assert evidence.decade_limits(0.302, 0.308) == (0.1, 1.0)
    assert evidence.decade_limits(1e-3, 0.5) == (1e-3, 0.5)  # already more than a decade: kept
    assert evidence.decade_limits(0.1, 0.1) == (0.1, 1.0)  # one value on a power of ten
    lo, hi = evidence.decade_limits(2e-3, 9e-3)
    assert (lo, hi) == pytest.approx((1e-3, 1e-2))


@pytest.mark.parametrize("manifest, message", [
    ({"runs": [{"experiment": "e", "method": "m", "run": "r.h5"}]}, "manifest.runs[0].eval: missing"),
    ({"runs": [{"experiment": "e", "method": 3, "run": "r.h5", "eval": "e.h5"}]},
     "manifest.runs[0].method: expected a string, got 3"),
    ({"runs": {"e": "r.h5"}}, "manifest.runs: expected a list"),
    ({"runs": [{"experiment": "e", "method": "m", "run": "nothing.h5", "eval": "e.h5"}]}, "nothing.h5"),
])
def test_a_bad_manifest_is_one_line_naming_the_field(runs, capsys, manifest, message):
    base, _ = runs
    assert main(["runs", "--csv", str(base / "x.csv"), "--manifest", json.dumps(manifest)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and not (base / "x.csv").exists()
