"""Table 1: mean and std over seeds, classifications, the paper's cited rows."""
import csv
import math

import numpy as np
import pytest

from pinnfail.products import tables
from pinnfail.artifacts.formats import read_metrics
from pinnfail.products.classes import CLASSES
from pinnfail.products.evaluate import evaluate, write_result
from pinnfail.products.train import train


def test_table1_rows_mean_std_and_cited_rows(evaluated, tiny_settings, tmp_path):
    _, _, paths = evaluated
    rows = tables.table1([("PINN FP32", [str(p) for p in paths])])
    ours = [r for r in rows if r["source"] == "pipeline"]
    assert len(ours) == 1
    row = ours[0]
    metrics = [read_metrics(p) for p in paths]
    values = [m["rmae"] for m in metrics]
    assert math.isclose(row["rmae_mean"], np.mean(values))
    assert math.isclose(row["rmae_std"], np.std(values, ddof=1))
    assert row["n_seeds"] == 2 and row["N"] == 30 + 7 + 5
    assert row["failure_mode"] == f"{sum(m['failure_mode'] for m in metrics)}/2"
    assert row["n_overfit"] == sum(m["classification"] == "overfit" for m in metrics)
    classes = [m["classification"] for m in metrics]
    assert sum(row[f"n_{c.replace(' ', '_')}"] for c in CLASSES) == 2
    assert all(f"{c} {classes.count(c)}/2" in row["classification"] for c in set(classes))
    assert row["max_iters"] == str(tiny_settings["max_iters"])
    cited = [r for r in rows if r["source"] in ("literature", "paper")]
    assert {r["method"] for r in cited} == {"PINNsFormer", "PINNMamba", "PINN FP64", "double PINN"}
    assert all(r["equation"] == "convection" for r in rows)
    out = tmp_path / "t.csv"
    tables.write_table_csv(out, rows)
    with open(out) as f:
        read = list(csv.DictReader(f))
    assert len(read) == len(rows) and read[0].keys() >= {"equation", "method", "rmae_mean", "source", "classification"}
    assert "± " in tables.markdown(rows)
    flagged = {**row, "classification": "overfit 1/2, not converged 1/2"}
    assert "| overfit 1/2, not converged 1/2 | pipeline |" in tables.markdown([flagged])
    assert tables.markdown(rows, note="Left out: wave.").rstrip().endswith("Left out: wave.")


def test_classification_summary_counts_present_classes():
    assert tables.classification_summary({"overfit": 3, "not converged": 0, "plateau": 0, "solved": 0}) == "overfit 3/3"
    assert tables.classification_summary({"overfit": 0, "not converged": 1, "plateau": 0, "solved": 2}) \
        == "not converged 1/3, solved 2/3"


def test_table1_rejects_mixed_configurations(evaluated, tiny_settings, tmp_path):
    tmp, ref, paths = evaluated
    run = tmp_path / "other.h5"
    train({**tiny_settings, "grid": [7, 5]}, [0], [run], progress=False)
    write_result(tmp_path / "other_eval.h5", evaluate(run, ref, residual_grid=(8, 8)))
    with pytest.raises(ValueError, match="mixes configurations"):
        tables.table1([("x", [str(paths[0]), str(tmp_path / "other_eval.h5")])])
