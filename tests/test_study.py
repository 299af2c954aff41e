"""The regularizer study: expansion, aggregation bookkeeping, and the claims' verdicts."""
import math

import numpy as np
import pytest

from pinnfail import study
from pinnfail.evaluate import CLASSES
from pinnfail.tables import classification_summary


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


def test_variants_differing_only_in_grid_are_named_with_it():
    spec = {"base": {"pde": "wave", "precision": "fp64"}, "seeds": [0],
            "variants": [{"grid": [12, 12], "regularizer": "none"}, {"grid": [12, 12], "regularizer": "double",
                                                                     "lambda": 1e-4},
                         {"grid": [[24, 24], [36, 36]], "regularizer": "none"}]}
    assert list(study.expand_study(spec)) == ["wave_none_fp64_12x12", "wave_double_residual_1em04_fp64",
                                              "wave_none_fp64_24x24", "wave_none_fp64_36x36"]
    twice = {"base": {"pde": "wave"}, "seeds": [0], "variants": [{"regularizer": "none"}, {"regularizer": "none"}]}
    with pytest.raises(ValueError, match="defined twice"):
        study.expand_study(twice)


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


def verdicts_of(rows):
    return {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}


FIX32 = "convection: the unregularized FP32 PINN is a failure mode and regularization removes it in FP32 (Fig. 1)"


def test_claims_verdicts_follow_the_numbers():
    rows = [row("n", "none", 0.9, {"overfit": 3}), row("d", "double", 4e-3, {"solved": 3}, 1e-4, "residual", 7800),
            row("dl", "double", 0.7, {"overfit": 2, "not converged": 1}, 1e-4, "loss"),
            row("l2", "l2", 6e-3, {"solved": 3}, 1e-5, iters=8300), row("l1", "l1", 0.8, {"overfit": 3}, 1e-5)]
    selected = study.select_lambda(rows)
    verdicts = {c: v for c, v, _ in study.claims(rows, selected)}
    assert verdicts[FIX32] == "holds"
    assert verdicts["convection: double PINN converges fastest and lowest (Fig. 6)"].startswith("holds")
    assert verdicts["convection: L1 is the worst regularizer (Fig. 6)"] == "holds"
    forms = "convection: double PINN as the gradient of each residual (form a) vs of its square (form b), " \
        "lambda 1e-4, FP32"
    assert verdicts[forms] == "form a succeeds; form b is a failure mode (overfit)"
    for r in rows[1:]:  # every regularizer still on the plateau at the budget
        r.update(rmae_median=0.5, **{"iters_to_1e-2": math.nan})
        set_class(r, {"not converged": 3})
        r["rmae_median"] = 0.5
    checked = {c: (v, e) for c, v, e in study.claims(rows, study.select_lambda(rows))}
    verdicts = {c: v for c, (v, _) in checked.items()}
    assert verdicts["convection: double PINN converges fastest and lowest (Fig. 6)"].startswith("not decided")
    # no variant is named fastest when none reached rMAE 1e-2
    assert checked["convection: double PINN converges fastest and lowest (Fig. 6)"][1].startswith(
        "fastest: none;")
    # equal in seeds solved, overfit and median rMAE: the worst is a tie, said so
    assert verdicts["convection: L1 is the worst regularizer (Fig. 6)"].startswith("not decided: ")
    assert "tie" in verdicts["convection: L1 is the worst regularizer (Fig. 6)"]
    assert verdicts[forms] == ("form a neither solves nor overfits in most seeds (not converged 3/3); "
                               "form b neither solves nor overfits in most seeds (not converged 3/3)")
    set_class(rows[0], {"plateau": 3})
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert "does not hold" in verdicts[FIX32] and "plateau 3/3" in verdicts[FIX32]
    doc = study.document(rows, selected, "t", "cmd")
    assert "| claim | verdict | evidence |" in doc and "cmd" in doc


def test_claims_cite_the_figure_of_the_equation_the_paper_shows():
    rows = [row("n", "none", 0.9, {"overfit": 3}, pde="reaction"),
            row("d", "double", 4e-3, {"solved": 3}, 1e-4, "residual", pde="reaction"),
            row("wn", "none", 0.4, {"overfit": 3}, precision="fp64", pde="wave"),
            row("wd", "double", 4e-3, {"solved": 3}, 1e-4, "residual", precision="fp64", pde="wave")]
    claims = [c for c, _, _ in study.claims(rows, study.select_lambda(rows))]
    assert ("reaction: the unregularized FP32 PINN is a failure mode and regularization removes it in FP32 "
            "(the paper shows this for convection, Fig. 1)") in claims
    assert "wave: FP64 with few points fails without regularization and succeeds with it (Fig. 3)" in claims


def test_density_claim_compares_the_fewest_points_with_denser_grids():
    """Fig. 3: unregularized FP64 on several grids; the fewest points are the sparse case (also
    the one the regularized run on its grid is compared with), the verdict follows the classes."""
    def wave(variant, reg, rmae, classes, grid, lam=0.0):
        return {**row(variant, reg, rmae, classes, lam, "residual" if reg == "double" else "",
                      precision="fp64", pde="wave"), "grid": grid}

    rows = [wave("d36", "none", 0.02, {"solved": 2, "overfit": 1}, "36x36"),
            wave("s12", "none", 0.6, {"overfit": 3}, "12x12"),
            wave("d24", "none", 0.3, {"overfit": 2, "plateau": 1}, "24x24"),
            wave("r12", "double", 0.02, {"solved": 3}, "12x12", 1e-4)]
    density = "wave: more collocation points alone avoid the failure mode, FP64 unregularized (12x12 vs 24x24, 36x36) (Fig. 3)"
    fix = "wave: FP64 with few points fails without regularization and succeeds with it (Fig. 3)"
    checked = {c: (v, e) for c, v, e in study.claims(rows, study.select_lambda(rows))}
    assert checked[fix][0] == "holds" and checked[fix][1].startswith("s12:")  # the 12x12 twin, not 36x36
    verdict, evidence = checked[density]
    assert verdict.startswith("holds: 12x12 overfits (3/3), denser solved in most seeds")
    assert "36x36: overfit 1/3, solved 2/3" in verdict and [e.split(":")[0] for e in evidence.split("; ")] == [
        "s12", "d24", "d36"]
    set_class(rows[0], {"plateau": 3})
    assert verdicts_of(rows)[density].startswith("partly: 12x12 overfits (3/3), no failure mode on a denser grid")
    set_class(rows[0], {"overfit": 3})
    assert verdicts_of(rows)[density].startswith("does not hold here: 12x12 overfits (3/3), the denser grids overfit")
    set_class(rows[1], {"solved": 3})
    assert verdicts_of(rows)[density] == "not decided: the sparse grid 12x12 is not a failure mode here (solved 3/3)"
    assert not any(c.startswith("wave: more collocation") for c in verdicts_of(rows[1:2] + rows[3:]))  # one grid


def test_precision_claims_compare_fp32_with_fp64_twins():
    rows = [row("n32", "none", 0.9, {"overfit": 3}), row("l2_32", "l2", 0.5, {"not converged": 3}, 1e-5),
            row("n64", "none", 0.9, {"overfit": 3}, precision="fp64"),
            row("l2_64", "l2", 1.2, {"overfit": 2, "plateau": 1}, 1e-5, precision="fp64"),
            row("d64", "double", 5e-3, {"solved": 3}, 1e-4, "residual", precision="fp64")]
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    fig3 = ("convection: FP64 with few points fails without regularization and succeeds with it "
            "(the paper shows this for wave, Fig. 3)")
    l2 = "convection: precision changes which solution L-BFGS finds (l2 lambda 1e-05, FP32 vs FP64)"
    assert verdicts[fig3] == "holds"
    # medians 0.5 and 1.2 are within 10x: not a contrast, whatever the classes
    assert verdicts[l2] == "not observed: median rMAE within 10x (2.4x)"
    assert not any("not tested" in v for v in verdicts.values())
    rows[4]["rmae_median"] = 0.4  # FP64 double PINN still on the plateau, no failure mode
    set_class(rows[4], {"not converged": 3})
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts[fig3].startswith("partly: the unregularized PINN overfits")
    rows[1]["rmae_median"] = 5e-3  # FP32 now 240x below FP64
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts[l2] == "observed: median rMAE differs 240x (FP32 lower)"
    # the quick study's numbers: double PINN FP32 0.522 vs FP64 0.0152 is a 34x contrast
    rows += [row("d32", "double", 0.522, {"not converged": 3}, 1e-4, "residual")]
    rows[4]["rmae_median"] = 0.0152
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts["convection: precision changes which solution L-BFGS finds (double lambda 1e-04, FP32 vs FP64)"] \
        == "observed: median rMAE differs 34.3x (FP64 lower)"
    # unequal budgets: FP64 cut at a 6000-iteration cap in every seed, FP32 ended by the stop rule
    # after up to 15300 iterations (docs/regularizers.md: fig6_cpu against precision_quick)
    rows[1].update(iterations_median=12500.0, iterations_max=15300.0)
    rows[3].update(n_cap=3, iterations_median=6000.0, iterations_max=6000.0)
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts[l2] == ("not decided: unequal budgets, FP64 cut at its 6000-iteration cap in 3/3 seeds "
                            "while FP32 ran up to 15300 iterations (median 12500)")
    rows[1].update(iterations_max=6000.0)  # the same budget: the contrast is read again
    verdicts = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}
    assert verdicts[l2] == "observed: median rMAE differs 240x (FP32 lower)"


def test_time_to_a_threshold_counts_seeds_that_never_got_there_as_slowest():
    assert study.survival_median([100, 300, 200]) == 200
    assert study.survival_median([100, math.nan, 300]) == 300  # not the median of the two that did
    assert math.isnan(study.survival_median([100, math.nan, math.nan]))
    assert math.isnan(study.survival_median([100, 200, math.nan, math.nan]))  # half is not more than half
    assert math.isnan(study.survival_median([]))


FIG6 = "convection: {} (Fig. 6)"


def fig6_rows():
    """Five seeds per variant at the selected strengths (one candidate each)."""
    return [row("n", "none", 1.1, {"overfit": 5}),
            row("l2", "l2", 0.02, {"solved": 3, "plateau": 2}, 1e-5, iters=9000),
            row("l1", "l1", 0.5, {"solved": 1, "plateau": 4}, 1e-5, iters=math.nan),
            row("d", "double", 0.01, {"solved": 4, "plateau": 1}, 1e-4, "residual", iters=6000),
            row("dl", "double", 0.9, {"overfit": 3, "solved": 2}, 1e-4, "loss", iters=math.nan)]


def test_fig6_claims_name_the_winner_with_counts_or_the_measured_reason():
    rows = fig6_rows()
    rows[4]["test_loss_median"] = 2.0  # form b is not the double PINN chosen by test loss
    checked = {c: (v, e) for c, v, e in study.claims(rows, study.select_lambda(rows))}
    assert checked[FIG6.format("which regularizer solves the most seeds")][0] == "double (residual) 1e-04 (4/5)"
    assert "L2 1e-05 solved 3/5" in checked[FIG6.format("which regularizer solves the most seeds")][1]
    assert checked[FIG6.format("which regularizer ends lowest")][0].startswith("double (residual) 1e-04 (median rMAE 0.01)")
    fastest = checked[FIG6.format("which regularizer converges fastest")][0]
    assert fastest == "in iterations double (residual) 1e-04: median 6000 iterations, 600 s to rMAE 1e-2"
    assert checked[FIG6.format("double PINN converges fastest and lowest")][0].startswith("holds")
    rows[1]["seconds_to_1e-2"] = 100.0  # L2's iterations are cheaper: faster in seconds, said so
    fastest = {c: v for c, v, _ in study.claims(rows, study.select_lambda(rows))}[
        FIG6.format("which regularizer converges fastest")]
    assert fastest.endswith("; in seconds L2 1e-05: 100 s (9000 iterations)")
    assert checked[FIG6.format("L1 is the worst regularizer")][0] == "holds"
    assert checked["convection: (i) the unregularized FP32 PINN overfits (Fig. 1)"][0] == "holds"
    ii = checked["convection: (ii) each regularizer removes the overfitting (test/train) (Fig. 1)"][0]
    assert ii == "holds in most seeds: double (loss) 1e-04 overfit 3/5" or ii.startswith("does not hold for double (loss)")
    assert checked["convection: (v) double PINN form a (gradient of each residual) vs form b (of its square), "
                   "each at its selected strength, FP32"][0].startswith("form a is better: solved 4/5 vs 2/5")
    # a tie in seeds solved is not decided, with the counts as the reason
    set_class(rows[1], {"solved": 4, "plateau": 1})
    verdict = verdicts_of(rows)[FIG6.format("which regularizer solves the most seeds")]
    assert verdict == "not decided: a tie, double (residual) 1e-04 and L2 1e-05 solve 4/5 each"
    # L2 faster to 1e-2 than double PINN: the paper's claim is then only partly seen
    rows[1]["iters_to_1e-2"] = 3000
    assert verdicts_of(rows)[FIG6.format("double PINN converges fastest and lowest")] == \
        "partly: double PINN is lowest, not fastest"
    # L1 no longer the worst when L2 solves nothing and overfits
    set_class(rows[1], {"overfit": 3, "plateau": 2})
    assert verdicts_of(rows)[FIG6.format("L1 is the worst regularizer")] == "does not hold here: the worst is L2 1e-05"


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
    from pinnfail.evaluate import evaluate, write_evaluation
    from pinnfail.reference import compute_reference, write_reference
    from pinnfail.train import train

    ref = tmp_path / "ref.h5"
    write_reference(ref, compute_reference("convection", None, {"nx": 40, "nt": 21}))
    stopped = tiny(max_iters=60, stop_window=10, stop_tolerance=0.5)  # a loose rule stops it early
    continued = tiny(max_iters=60, stop_window=10, stop_tolerance=0.0)  # only a standstill stops it
    paths = {}
    for name, cfg in (("stopped", stopped), ("continued", continued)):
        run = tmp_path / f"{name}.h5"
        train(cfg, [0], [run], progress=False)
        write_evaluation(tmp_path / f"{name}_eval.h5", evaluate(run, ref, residual_grid=(16, 8)))
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
