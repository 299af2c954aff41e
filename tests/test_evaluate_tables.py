"""Evaluation metrics, Table 1 aggregation and the regularizer study's bookkeeping."""
import csv
import math

import h5py
import numpy as np
import pytest

from pinnfail import study, tables
from pinnfail.evaluate import evaluate, read_metrics, relative_errors, write_evaluation
from pinnfail.reference import compute_reference, write_reference
from pinnfail.train import train

TINY = {"pde": "convection", "grid": [6, 5], "n_initial": 7, "n_boundary": 5, "depth": 2, "width": 8,
        "n_test_domain": 64, "n_test_line": 16, "log_every": 10, "stop_window": 0, "checkpoint_every": 0,
        "max_iters": 20}


def test_relative_errors_by_hand():
    ref = np.array([[1.0, -2.0], [3.0, 0.0]])
    u = np.array([[1.5, -2.0], [2.0, 1.0]])
    m = relative_errors(u, ref)
    assert math.isclose(m["rmae"], (0.5 + 0 + 1 + 1) / 6)
    assert math.isclose(m["rrmse"], math.sqrt((0.25 + 1 + 1) / 14))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    ref = tmp / "ref.h5"
    write_reference(ref, compute_reference("convection", None, {"nx": 40, "nt": 21}))
    paths = []
    for seed in (0, 1):
        run = tmp / f"run{seed}.h5"
        train({**TINY, "seed": seed}, [seed], [run], progress=False)
        result = evaluate(run, ref, residual_grid=(16, 8))
        write_evaluation(tmp / f"eval{seed}.h5", result)
        paths.append(tmp / f"eval{seed}.h5")
    return tmp, ref, paths


def test_evaluation_file_layout_and_metrics(evaluated):
    tmp, ref, paths = evaluated
    with h5py.File(paths[0]) as f:
        assert f["u_pred"].shape == (21, 40) and f["error"].shape == (21, 40)
        assert f["residual"].shape == (8, 16)
        assert "config" in f.attrs and "git_revision" in f.attrs
    m = read_metrics(paths[0])
    with h5py.File(tmp / "run0.h5") as f:
        h = f["history"]
        assert math.isclose(m["train_loss"], float(h["train_total"][-1]), rel_tol=1e-6)
        assert math.isclose(m["test_loss"], float(h["test_total"][-1]), rel_tol=1e-6)
    assert math.isclose(m["test_train_ratio"], m["test_loss"] / m["train_loss"])
    assert set(m["term_test_train_ratios"]) == {"domain", "initial", "periodic"}
    assert m["failure_mode"] == (m["overfit"] or m["error_near_one"])
    with h5py.File(paths[0]) as f:
        u_pred, err = f["u_pred"][()], f["error"][()]
    with h5py.File(ref) as f:
        u_ref = f["u"][()]
    np.testing.assert_allclose(u_pred - u_ref, err, atol=1e-12)
    assert math.isclose(m["rmae"], relative_errors(u_pred, u_ref)["rmae"])


def test_evaluation_refuses_mismatched_reference(evaluated, tmp_path):
    tmp, _, _ = evaluated
    other = tmp_path / "beta30.h5"
    write_reference(other, compute_reference("convection", {"beta": 30}, {"nx": 40, "nt": 21}))
    with pytest.raises(ValueError, match="parameters"):
        evaluate(tmp / "run0.h5", other)
    wave = tmp_path / "wave.h5"
    write_reference(wave, compute_reference("wave", None, {"nx": 20, "nt": 11}))
    with pytest.raises(ValueError, match="reference is for 'wave'"):
        evaluate(tmp / "run0.h5", wave)


def test_table1_rows_mean_std_and_cited_rows(evaluated, tmp_path):
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
    assert row["n_overfit"] == sum(m["overfit"] for m in metrics)
    assert row["n_error_near_one"] == sum(m["error_near_one"] for m in metrics)
    cited = [r for r in rows if r["source"] in ("literature", "paper")]
    assert {r["method"] for r in cited} == {"PINNsFormer", "PINNMamba", "PINN FP64", "double PINN"}
    assert all(r["equation"] == "convection" for r in rows)
    out = tmp_path / "t.csv"
    tables.write_csv(out, rows)
    with open(out) as f:
        read = list(csv.DictReader(f))
    assert len(read) == len(rows) and read[0].keys() >= {"equation", "method", "rmae_mean", "source"}
    assert "± " in tables.markdown(rows)
    flagged = {**row, "failure_mode": "2/2", "n_overfit": 1, "n_error_near_one": 2}
    assert "| 2/2 (overfit 1, rMAE near 1: 2) |" in tables.markdown([flagged])
    assert "| 0/2 |" in tables.markdown([{**row, "failure_mode": "0/2", "n_overfit": 0, "n_error_near_one": 0}])


def test_table1_rejects_mixed_configurations(evaluated, tmp_path):
    tmp, ref, paths = evaluated
    run = tmp_path / "other.h5"
    train({**TINY, "grid": [7, 5]}, [0], [run], progress=False)
    write_evaluation(tmp_path / "other_eval.h5", evaluate(run, ref, residual_grid=(8, 8)))
    with pytest.raises(ValueError, match="mixes configurations"):
        tables.table1([("x", [str(paths[0]), str(tmp_path / "other_eval.h5")])])


def test_study_expansion_names_and_grids():
    spec = {"base": {"pde": "convection", "grid": [20, 20]}, "seeds": [0],
            "variants": [{"regularizer": "none", "precision": ["fp32", "fp64"]},
                         {"regularizer": "double", "double_form": ["residual", "loss"], "lambda": [1e-4, 1e-3]},
                         {"pde": "wave", "grid": [12, 12], "regularizer": "l2", "lambda": 1e-5}]}
    variants = study.expand_study(spec)
    assert len(variants) == 2 + 4 + 1
    assert variants["convection_double_loss_1em03_fp32"]["lambda"] == 1e-3
    assert variants["wave_l2_1em05_fp32"]["grid"] == [12, 12]
    assert all(v["grid"] in ([20, 20], [12, 12]) for v in variants.values())


def test_first_crossing_and_lambda_selection_ignore_the_reference():
    history = {"iteration": np.array([0, 100, 200, 300]), "wall_time": np.array([0.0, 1.0, 2.0, 3.0]),
               "test_rmae": np.array([0.9, 0.2, 0.05, 0.005])}
    assert study.first_crossing(history, "test_rmae", 1e-1) == (200.0, 2.0)
    assert all(math.isnan(v) for v in study.first_crossing(history, "test_rmae", 1e-3))
    rows = [
        {"variant": "a", "pde": "convection", "regularizer": "l2", "double_form": "", "precision": "fp32",
         "lambda": 1e-5, "test_loss_median": 1e-3, "rmae_median": 0.5},
        {"variant": "b", "pde": "convection", "regularizer": "l2", "double_form": "", "precision": "fp32",
         "lambda": 1e-4, "test_loss_median": 1e-4, "rmae_median": 0.9},
    ]
    selected = study.select_lambda(rows)
    # the lower TEST loss wins even though its reference error is worse
    assert len(selected) == 1 and selected[0]["lambda"] == 1e-4 and selected[0]["rmae_median"] == 0.9


def test_claims_verdicts_follow_the_numbers():
    def row(variant, reg, rmae, ratio, failures, lam=0.0, form="", iters=math.nan):
        return {"variant": variant, "pde": "convection", "regularizer": reg, "double_form": form,
                "precision": "fp32", "lambda": lam, "n_seeds": 3, "rmae_median": rmae,
                "test_train_ratio_median": ratio, "failure_modes": failures, "test_loss_median": rmae,
                "iters_to_1e-2": iters}

    rows = [row("n", "none", 0.9, 1e4, 3), row("d", "double", 4e-3, 1.0, 0, 1e-4, "residual", 7800),
            row("dl", "double", 0.7, 300, 2, 1e-4, "loss"), row("l2", "l2", 6e-3, 1.0, 0, 1e-5, iters=8300),
            row("l1", "l1", 0.8, 1.0, 0, 1e-5)]
    selected = study.select_lambda(rows)
    verdicts = {c: v for c, v, _ in study.claims(rows, selected)}
    assert verdicts["convection: the unregularized FP32 PINN is a failure mode and regularization removes it "
                    "in FP32 (Fig. 1)"] == "holds"
    assert verdicts["convection: double PINN converges fastest and lowest (Fig. 6)"] == "holds"
    assert verdicts["convection: L1 is the worst regularizer (Fig. 6)"] == "holds"
    forms = "convection: double PINN as the gradient of each residual (form a) vs of its square (form b), " \
        "lambda 1e-4, FP32"
    assert verdicts[forms] == "form a succeeds; form b is a failure mode"
    for r in rows[1:]:  # every regularizer still on the plateau at the budget
        r.update(rmae_median=0.5, failure_modes=0, test_train_ratio_median=1.0, **{"iters_to_1e-2": math.nan})
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts["convection: double PINN converges fastest and lowest (Fig. 6)"].startswith("not decided")
    assert verdicts[forms] == ("form a is still on the plateau (no failure mode, rMAE above 1e-2); "
                               "form b is still on the plateau (no failure mode, rMAE above 1e-2)")
    rows[0]["failure_modes"] = 0
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert "does not hold" in verdicts["convection: the unregularized FP32 PINN is a failure mode and "
                                       "regularization removes it in FP32 (Fig. 1)"]
    doc = study.document(rows, selected, "t", "cmd")
    assert "| claim | verdict | evidence |" in doc and "cmd" in doc


def test_precision_claims_compare_fp32_with_fp64_twins():
    def row(variant, reg, precision, rmae, failures, lam=0.0, form=""):
        return {"variant": variant, "pde": "convection", "regularizer": reg, "double_form": form,
                "precision": precision, "lambda": lam, "n_seeds": 3, "rmae_median": rmae,
                "test_train_ratio_median": 1e4 if failures else 1.0, "failure_modes": failures,
                "test_loss_median": rmae, "iters_to_1e-2": math.nan}

    rows = [row("n32", "none", "fp32", 0.9, 3), row("l2_32", "l2", "fp32", 0.5, 0, 1e-5),
            row("n64", "none", "fp64", 0.9, 3), row("l2_64", "l2", "fp64", 1.2, 2, 1e-5),
            row("d64", "double", "fp64", 5e-3, 0, 1e-4, "residual")]
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    fig3 = "convection: FP64 with few points fails without regularization and succeeds with it (Fig. 3)"
    assert verdicts[fig3] == "holds"
    # FP32 L2 sits on a plateau (no failure mode), its FP64 twin overfits: a different solution
    assert verdicts["convection: precision changes which solution L-BFGS finds (l2 lambda 1e-05, FP32 vs FP64)"] \
        == "observed"
    rows[3].update(failure_modes=0, test_train_ratio_median=1.0)
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts["convection: precision changes which solution L-BFGS finds (l2 lambda 1e-05, FP32 vs FP64)"] \
        == "not observed"
    assert not any("not tested" in v for v in verdicts.values())
    rows[4]["rmae_median"] = 0.4  # FP64 double PINN still on the plateau, no failure mode
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts[fig3].startswith("partly: the unregularized PINN fails")
    rows[4]["rmae_median"] = 5e-3
    rows[1]["rmae_median"] = 5e-3  # FP32 succeeds, FP64 is on the plateau: a speed difference only
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts["convection: precision changes which solution L-BFGS finds (l2 lambda 1e-05, FP32 vs FP64)"] \
        == "not observed: no failure mode either way; FP64 was still on the plateau at its budget"

