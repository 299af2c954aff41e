"""Evaluation metrics and the classification of a run (overfit / not converged / plateau / solved)."""
import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from pinnfail.artifacts.formats import read_metrics
from pinnfail.products.classes import CLASSES
from pinnfail.products.evaluate import (DEFAULT_THRESHOLDS, classify, collocation_signature, evaluate,
                                        objective_change, relative_errors)
from pinnfail.artifacts.formats import write_reference
from pinnfail.numerics.reference import compute_reference

HISTORIES = Path(__file__).parent / "data" / "histories.json"


def test_relative_errors_by_hand():
    ref = np.array([[1.0, -2.0], [3.0, 0.0]])
    u = np.array([[1.5, -2.0], [2.0, 1.0]])
    m = relative_errors(u, ref)
    assert math.isclose(m["rmae"], (0.5 + 0 + 1 + 1) / 6)
    assert math.isclose(m["rrmse"], math.sqrt((0.25 + 1 + 1) / 14))


def test_evaluation_file_layout_and_metrics(evaluated):
    tmp, ref, paths = evaluated
    with h5py.File(paths[0]) as f:
        assert f["u_pred"].shape == (21, 40) and f["error"].shape == (21, 40)
        assert f["residual"].shape == (8, 16)
        assert "config" in f.attrs and "git_revision" in f.attrs
        assert f.attrs["classification"] in CLASSES
    m = read_metrics(paths[0])
    with h5py.File(tmp / "run0.h5") as f:
        h = f["history"]
        assert math.isclose(m["train_loss"], float(h["train_total"][-1]), rel_tol=1e-6)
        assert math.isclose(m["test_loss"], float(h["test_total"][-1]), rel_tol=1e-6)
    assert math.isclose(m["test_train_ratio"], m["test_loss"] / m["train_loss"])
    assert set(m["term_test_train_ratios"]) == {"domain", "initial", "periodic"}
    # only overfitting is a failure mode; the decision's inputs are stored beside it
    assert m["failure_mode"] == (m["classification"] == "overfit")
    assert m["thresholds"] == DEFAULT_THRESHOLDS and m["classification_reason"]
    assert math.isclose(m["stop_tolerance"], math.sqrt(np.finfo(np.float32).eps))
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


def test_evaluation_refuses_unknown_threshold(evaluated):
    tmp, ref, _ = evaluated
    with pytest.raises(ValueError, match="unknown threshold.*'error'"):
        evaluate(tmp / "run0.h5", ref, thresholds={"error": 0.9})


def recorded():
    return json.loads(HISTORIES.read_text())


@pytest.mark.parametrize("name", sorted(recorded()))
def test_classification_of_recorded_runs(name):
    """Histories and final metrics of real runs (tests/data/histories.json, 'source' says which)."""
    run = recorded()[name]
    change = objective_change(run["objective"], run["stop_window"], run["log_every"])
    decision = classify(rmae=run["rmae"], term_ratios=run["term_ratios"], stop_reason=run["stop_reason"],
                        objective_change=change, stop_tolerance=math.sqrt(np.finfo(run["precision"].replace("fp", "float")).eps),
                        thresholds=DEFAULT_THRESHOLDS)
    assert decision["classification"] == run["expected"], decision


def test_recorded_runs_cover_every_class():
    assert sorted({run["expected"] for run in recorded().values()}) == sorted(CLASSES)


def test_classification_rules_in_order():
    def cls(rmae=0.5, ratios=None, stop="max_iters", change=1e-2):
        return classify(rmae=rmae, term_ratios=ratios or {"domain": 1.0, "initial": 2.0}, stop_reason=stop,
                        objective_change=change, stop_tolerance=1e-4, thresholds=DEFAULT_THRESHOLDS)

    assert cls(rmae=0.01, ratios={"domain": 1e4})["classification"] == "solved"  # a right solution
    overfit = cls(ratios={"domain": 1.0, "initial": 1e3})
    assert overfit["classification"] == "overfit" and "initial test/train 1e+03 > 100" in overfit["classification_reason"]
    assert cls(stop="converged")["classification"] == "plateau"
    assert cls(change=1e-5)["classification"] == "plateau"  # stop rule off, objective flat
    assert cls()["classification"] == "not converged"
    assert cls(rmae=math.nan, stop="diverged", change=math.nan)["classification"] == "not converged"


def test_objective_change_over_the_stop_window():
    objective = [1.0, 0.5, 0.4, 0.2]
    assert objective_change(objective, stop_window=200, log_every=100) == pytest.approx(0.6)
    assert objective_change(objective, stop_window=0, log_every=100) == pytest.approx(0.5)
    assert objective_change([1.0], stop_window=100, log_every=100) == math.inf


def test_a_term_zero_on_train_and_test_points_is_not_overfit():
    """A network collapsed to a constant (strong L1) fits a periodic condition exactly everywhere:
    0/0 is no overfitting; zero on the training points only is."""
    from pinnfail.products.evaluate import _ratio

    assert _ratio(0.0, 0.0) == 1.0
    assert _ratio(1e-9, 0.0) == math.inf
    assert _ratio(2.0, 1.0) == 2.0


def _grid_points(x, t):
    xx, tt = np.meshgrid(x, t, indexing="ij")
    return {"domain": np.stack([xx.ravel(), tt.ravel()], axis=1)}


def test_collocation_signature_of_a_residual_vanishing_on_the_grid():
    # r = |sin(pi x / h)| (1 + t) + 1e-3: zero at every grid x, |r| = 1 + t midway along x; unchanged along t
    h = 0.25
    x, t = np.arange(5) * h, np.array([0.0, 0.5, 1.0])
    points = _grid_points(x, t)

    def residual(xs, ts):
        return np.abs(np.sin(np.pi * np.asarray(xs) / h)) * (1 + np.asarray(ts)) + 1e-3

    m = collocation_signature(residual, points)
    assert math.isclose(m["residual_at_points"], 1e-3, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(m["residual_midway_x"], np.median([1 + 1e-3 + tt for tt in t]), rel_tol=1e-9)
    assert math.isclose(m["residual_midway_t"], 1e-3, rel_tol=1e-9, abs_tol=1e-12)  # x still on the grid
    assert m["residual_midway_x_ratio"] > 1e3 and math.isclose(m["residual_midway_t_ratio"], 1, rel_tol=1e-6)
    rms_mid_x = math.sqrt(np.mean([(1 + 1e-3 + tt) ** 2 for tt in t]))
    assert math.isclose(m["residual_rms_midway_x"], rms_mid_x, rel_tol=1e-9)
    assert math.isclose(m["residual_rms_at_points"], 1e-3, rel_tol=1e-6)


def test_collocation_signature_rms_sees_a_strip_the_median_does_not():
    # large midway between the first two training times only (Fig. 1's strip near t = 0)
    x, t = np.linspace(0, 1, 5), np.linspace(0, 1, 9)
    m = collocation_signature(lambda xs, ts: 1e-3 + 100.0 * (np.asarray(ts) < 0.1) * (np.asarray(ts) > 0),
                              _grid_points(x, t))
    assert math.isclose(m["residual_midway_t_ratio"], 1.0)
    assert m["residual_rms_midway_t"] / m["residual_rms_at_points"] > 1e4


def test_collocation_signature_along_t_only_and_degenerate_axes():
    x, t = np.linspace(0, 1, 4), np.linspace(0, 1, 3)
    # r = distance of 2t to the nearest integer: exactly 0 at t = 0, 0.5, 1 and 0.5 midway
    m = collocation_signature(lambda xs, ts: np.abs(2 * np.asarray(ts) - np.round(2 * np.asarray(ts))) + 0 * np.asarray(xs),
                              _grid_points(x, t))
    assert m["residual_midway_t"] == pytest.approx(0.5) and m["residual_at_points"] == 0
    assert m["residual_midway_t_ratio"] == math.inf  # zero at the points, not zero midway
    one_time = collocation_signature(lambda xs, ts: 1 + 0 * np.asarray(xs), _grid_points(x, [0.5]))
    assert math.isnan(one_time["residual_midway_t"]) and math.isnan(one_time["residual_midway_t_ratio"])
    assert one_time["residual_midway_x_ratio"] == pytest.approx(1.0)


def test_evaluation_stores_the_collocation_signature(evaluated):
    _, _, paths = evaluated
    m = read_metrics(paths[0])
    for key in ("residual_at_points", "residual_midway_x", "residual_midway_t"):
        assert m[key] > 0
    assert math.isclose(m["residual_midway_x_ratio"], m["residual_midway_x"] / m["residual_at_points"])


def test_amending_an_old_evaluation_adds_the_signature_and_nothing_else(evaluated, tmp_path):
    import shutil

    import h5py

    from pinnfail.artifacts import formats, hdf5
    from pinnfail.products.evaluate import amend_signature

    folder, _, paths = evaluated
    old = tmp_path / "eval.h5"
    shutil.copyfile(paths[0], old)
    signature_keys = [k for k in read_metrics(old) if k.startswith("residual_") and k != "residual_grid"]
    with h5py.File(old, "r+") as f:  # an evaluation made before the signature existed
        for k in signature_keys:
            del f.attrs[k]
    before = read_metrics(old)
    run = next(p for p in folder.glob("run*.h5") if p.name.endswith("0.h5"))
    signature = amend_signature(run, old)
    after = read_metrics(old)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {*signature_keys, "amended"} and after["amended"][0]["what"] == "collocation signature"
    fresh = read_metrics(paths[0])
    assert all(math.isclose(after[k], fresh[k], rel_tol=1e-12) for k in signature_keys)
    with h5py.File(old) as a, h5py.File(paths[0]) as b:
        assert all(np.array_equal(a[k][()], b[k][()]) for k in b)
    amend_signature(run, old)  # the same values again: allowed, recorded twice
    assert len(read_metrics(old)["amended"]) == 2
    with pytest.raises(hdf5.ArtifactError, match="would change"):
        formats.amend_evaluation(old, {"rmae": 0.5}, "a different rMAE")
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(b"not hdf5")
    with pytest.raises(hdf5.ArtifactError, match="damaged.h5"):
        formats.amend_evaluation(damaged, signature, "signature")


def test_a_fresh_test_set_measures_what_the_history_did(evaluated):
    """With the run's own test-set size and seed, the fresh test set is the history's: the same
    terms (round-off); a larger set, drawn with a fixed seed, is recorded as such and classifies
    the run from its own ratios."""
    folder, refs, _ = evaluated
    run = folder / "run0.h5"
    from pinnfail.artifacts.formats import Run

    config = Run.read(run).config
    history = evaluate(run, refs, residual_grid=(8, 8))["metrics"]
    own = evaluate(run, refs, residual_grid=(8, 8), test_set={
        "domain": config["n_test_domain"], "line": config["n_test_line"], "seed": config["seed"]})["metrics"]
    assert history["test_set"]["source"] == "training history" and own["test_set"]["source"] == "evaluation"
    for key in ("train_terms", "test_terms"):
        for term, value in history[key].items():
            assert own[key][term] == pytest.approx(value, rel=1e-9), (key, term)
    bigger = evaluate(run, refs, residual_grid=(8, 8), test_set={"domain": 500, "line": 40, "seed": 0})["metrics"]
    assert bigger["test_set"] == {"source": "evaluation", "domain": 500, "line": 40, "seed": 0}
    assert bigger["test_terms"] != own["test_terms"]
    ratios = {k: bigger["test_terms"][k] / bigger["train_terms"][k] for k in bigger["train_terms"]}
    assert bigger["max_term_test_train_ratio"] == pytest.approx(max(ratios.values()))


def test_an_evaluation_is_matched_to_the_planned_test_set():
    from pinnfail.workflow.archive import same_test_set

    history = {"source": "training history", "domain": 64, "line": 16, "seed": 0}
    fresh = {"source": "evaluation", "domain": 10000, "line": 10000, "seed": 0}
    assert same_test_set(None, None) and same_test_set(history, None)  # before the setting existed, or null
    assert not same_test_set(fresh, None) and not same_test_set(history, {"domain": 10000, "line": 10000})
    assert same_test_set(fresh, {"domain": 10000, "line": 10000}) and same_test_set(fresh, {**fresh})
    assert not same_test_set(fresh, {"domain": 10000, "line": 10000, "seed": 1})
