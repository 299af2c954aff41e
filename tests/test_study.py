"""The regularizer study: expansion, aggregation bookkeeping, and the claims' verdicts."""
import math

import numpy as np
import pytest

from pinnfail.products import study
from pinnfail.workflow import variants
from pinnfail.products.classes import CLASSES
from pinnfail.products.tables import classification_summary


def test_study_expansion_names_and_grids():
    spec = {"base": {"pde": "convection", "grid": [20, 20]}, "seeds": [0],
            "variants": [{"regularizer": "none", "precision": ["fp32", "fp64"]},
                         {"regularizer": "double", "double_form": ["residual", "loss"], "lambda": [1e-4, 1e-3]},
                         {"pde": "wave", "grid": [12, 12], "regularizer": "l2", "lambda": 1e-5}]}
    found = variants.expand_study(spec)
    assert len(found) == 2 + 4 + 1
    assert found["convection_double_loss_1em03_fp32"]["lambda"] == 1e-3
    assert found["wave_l2_1em05_fp32"]["grid"] == [12, 12]
    assert all(v["grid"] in ([20, 20], [12, 12]) for v in found.values())


def test_variants_differing_only_in_grid_are_named_with_it():
    spec = {"base": {"pde": "wave", "precision": "fp64"}, "seeds": [0],
            "variants": [{"grid": [12, 12], "regularizer": "none"}, {"grid": [12, 12], "regularizer": "double",
                                                                     "lambda": 1e-4},
                         {"grid": [[24, 24], [36, 36]], "regularizer": "none"}]}
    assert list(variants.expand_study(spec)) == ["wave_none_fp64_12x12", "wave_double_residual_1em04_fp64",
                                              "wave_none_fp64_24x24", "wave_none_fp64_36x36"]
    twice = {"base": {"pde": "wave"}, "seeds": [0], "variants": [{"regularizer": "none"}, {"regularizer": "none"}]}
    with pytest.raises(ValueError, match="defined twice"):
        variants.expand_study(twice)


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


def test_markdown_lists_the_selection_only_when_a_strength_was_selected():
    rows = [row("none32", "none", 0.6, {"overfit": 3}), row("l2", "l2", 0.02, {"solved": 3}, lam=1e-5)]
    with_sel = study.markdown(rows, study.select_lambda(rows), "T")
    assert "Selected strength" in with_sel and "| convection | l2 | – | fp32 | 1e-05 |" in with_sel
    without = study.markdown(rows[:1], study.select_lambda(rows[:1]), "T")
    assert "| none32 | 3 |" in without and "Selected strength" not in without and "| pde |" not in without


def row(variant, reg, rmae, classes, lam=0.0, form="", iters=math.nan, precision="fp32", pde="convection"):
    """A synthetic study row; ``classes`` maps class -> seeds (3 seeds in all)."""
    counts = {c: classes.get(c, 0) for c in CLASSES}
    n = sum(counts.values())
    return {"variant": variant, "pde": pde, "regularizer": reg, "double_form": form, "precision": precision,
            "lambda": lam, "n_seeds": n, "rmae_median": rmae, "rmae_min": rmae, "rmae_max": rmae,
            "test_train_ratio_median": 1e4 if counts["overfit"] else 1.0, "test_loss_median": rmae,
            "iters_to_1e-2": iters, "seconds_to_1e-2": iters / 10, "seeds_below_1e-2": n if iters == iters else 0,
            "iters_to_1e-1": iters / 2, "seconds_to_1e-1": iters / 20, "seeds_below_1e-1": n if iters == iters else 0,
            "n_cap": 0, "cap_seeds": "", "classification": classification_summary(counts),
            **{f"n_{c.replace(' ', '_')}": k for c, k in counts.items()}}


def set_class(r, classes):
    r.update(row(r["variant"], r["regularizer"], r["rmae_median"], classes, r["lambda"], r["double_form"],
                 r["iters_to_1e-2"], r["precision"], r["pde"]))


def fig6_rows():
    """Five seeds per variant at the selected strengths (one candidate each)."""
    return [row("n", "none", 1.1, {"overfit": 5}),
            row("l2", "l2", 0.02, {"solved": 3, "plateau": 2}, 1e-5, iters=9000),
            row("l1", "l1", 0.5, {"solved": 1, "plateau": 4}, 1e-5, iters=math.nan),
            row("d", "double", 0.01, {"solved": 4, "plateau": 1}, 1e-4, "residual", iters=6000),
            row("dl", "double", 0.9, {"overfit": 3, "solved": 2}, 1e-4, "loss", iters=math.nan)]


def test_the_plan_after_the_sweep_adds_seeds_and_continues_plateau_stops_without_the_reference():
    rows = [row("n", "none", 1.1, {"overfit": 3}),
            row("a", "l2", 0.01, {"solved": 3}, 1e-5), row("b", "l2", 0.6, {"plateau": 3}, 1e-4)]
    rows[1]["test_loss_median"], rows[2]["test_loss_median"] = 1e-3, 1e-4  # b: lower test loss, worse rMAE
    classes = {"n": {0: "overfit", 1: "overfit", 2: "overfit"},
               "b": {2: "plateau", 0: "solved", 1: "plateau", 5: "plateau"}}
    plan = study.study_plan(rows, study.select_lambda(rows), classes, confirm_seeds=[3, 4], continue_runs=2)
    assert [s["variant"] for s in plan["selected"]] == ["b"]
    assert plan["confirm"] == {"n": [3, 4], "b": [3, 4]}
    assert plan["continue"] == [["b", 1], ["b", 2]]  # plateau stops only, lowest seeds first
    assert study.study_plan(rows, study.select_lambda(rows), classes)["continue"] == []
    # fewer plateau stops at the selected strength: the nearest strengths' fill in, per regularizer
    rows.append(row("c", "l2", 0.6, {"plateau": 3}, 1e-2))
    rows[3]["test_loss_median"] = 1.0
    classes = {**classes, "b": {0: "solved", 1: "plateau"}, "a": {0: "plateau"}, "c": {0: "plateau", 1: "plateau"}}
    plan = study.study_plan(rows, study.select_lambda(rows), classes, continue_runs=3)
    assert plan["continue"] == [["b", 1], ["a", 0], ["c", 0]]  # 1e-4, then 1e-5 (one decade), then 1e-2


def test_figure_choice_uses_the_selection_and_the_regularizer_solving_most_seeds():
    rows = fig6_rows()
    rows[4]["test_loss_median"] = 1e-9  # form b has the lower test loss: it is the double PINN drawn
    choice = study.figure_choice(rows, study.select_lambda(rows))
    assert choice["fig6"] == {"none": "n", "l2": "l2", "l1": "l1", "double": "dl"}
    assert choice["fig1"] == {"failure": "n", "regularized": "l2"}  # 3/5 solved beats form b's 2/5


def test_a_continued_run_repeats_the_history_to_the_stop_then_goes_on(tmp_path, tiny):
    from pinnfail.products.evaluate import evaluate, write_result
    from pinnfail.artifacts.formats import write_reference
    from pinnfail.numerics.reference import compute_reference
    from pinnfail.products.train import train

    ref = tmp_path / "ref.h5"
    write_reference(ref, compute_reference("convection", None, {"nx": 40, "nt": 21}))
    stopped = tiny(max_iters=60, stop_window=10, stop_tolerance=0.5)  # a loose rule stops it early
    continued = tiny(max_iters=60, stop_window=10, stop_tolerance=0.0)  # only a standstill stops it
    paths = {}
    for name, cfg in (("stopped", stopped), ("continued", continued)):
        run = tmp_path / f"{name}.h5"
        train(cfg, [0], [run], progress=False)
        write_result(tmp_path / f"{name}_eval.h5", evaluate(run, ref, residual_grid=(16, 8)))
        paths[name] = (str(run), str(tmp_path / f"{name}_eval.h5"))
    rows = study.continuation_rows([("v", 0, *paths["stopped"], *paths["continued"])], solved_rmae=1e-9)
    (r,) = rows
    assert r["stopped_at"] < r["continued_to"] == 60 and r["ended_by"] == "cap"
    assert r["same_history_to_stop"] and not r["escaped"] and not r["params_unchanged"]
    rows = study.continuation_rows([("v", 0, *paths["stopped"], *paths["continued"])], solved_rmae=10.0)
    assert rows[0]["escaped"] and rows[0]["escaped_at"] > rows[0]["stopped_at"]
    md = study.continuation_markdown(rows, 10.0)
    assert "| v | 0 |" in md and "Escaped, per regularizer: v 1/1." in md


def test_seeds_added_after_the_selection_are_compared_by_strict_majority():
    rows = [{"variant": "a", "classification": "solved 3/5, plateau 2/5"},
            {"variant": "b", "classification": "plateau 3/5, solved 2/5"},
            {"variant": "c", "classification": "solved 3/3"}]
    classes = {"a": {0: "solved", 1: "solved", 2: "solved", 3: "plateau", 4: "solved"},
               "b": {0: "solved", 1: "plateau", 2: "solved", 3: "plateau", 4: "plateau"},
               "c": {0: "solved", 1: "solved", 2: "solved"}}
    md = study.confirmation_markdown(rows, classes, {0, 1, 2})
    assert "| a | solved (solved 3) | 3: plateau, 4: solved | split | solved (solved 3/5, plateau 2/5) |" in md
    assert "| b | solved (plateau 1, solved 2) | 3: plateau, 4: plateau | no | plateau (" in md
    assert "| c |" not in md  # no seed added
    assert study.confirmation_markdown(rows[2:], classes, {0, 1, 2}) == ""
