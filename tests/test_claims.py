"""The claims registry on small synthetic run tables: every verdict branch, equal budgets, seeds,
lambda selection by test loss, superseded evidence; and the committed ledger is current."""
import glob
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from pinnfail.products import claims, ledger, records
from pinnfail.products import verdicts

ROOT = Path(__file__).resolve().parents[1]
CONV = dict(pde="convection", grid=[20, 20], n_initial=200, n_boundary=200)


def record(seed, rmae, cls, test_loss=1e-3, cap=50000, part="p", tol=None, iterations=None, change=None, ratio=1.0,
           rrmse=None, **config):
    """A synthetic record; ``change`` is the objective's relative change over the last stop window
    (default: still falling, 1e-3, only for the class *not converged*)."""
    cfg = {"precision": "fp32", "regularizer": "none", "double_form": "residual", "lambda": 0.0, "seed": seed,
           "max_iters": cap, "stop_tolerance": tol, **CONV, **config}
    its = iterations or cap
    history = {"iteration": np.array([0, its // 2, its]), "wall_time": np.array([0.0, its / 200, its / 100]),
               "fevals": np.array([0, its // 2 + 3, its + 7]),
               "test_rmae": np.array([1.0, max(rmae, 0.02), rmae]), "test_total": np.array([1.0, test_loss / 2, test_loss])}
    change = (1e-3 if cls == "not converged" else 0.0) if change is None else change
    metrics = {"rmae": rmae, "rrmse": rmae if rrmse is None else rrmse, "classification": cls, "test_loss": test_loss,
               "max_term_test_train_ratio": ratio, "term_test_train_ratios": {"domain": ratio, "initial": 1.0},
               "iterations": its, "stop_reason": "max_iters" if its >= cap else "converged", "wall_time_s": its / 100.0,
               "objective_change": change, "stop_tolerance": 1.5e-8, "thresholds": {"overfit_ratio": 100.0}}
    return records.Record(part, cfg, metrics, history)


def seeds(n, rmae, cls, **kw):
    return [record(s, rmae, cls, **kw) for s in range(n)]


def verdict(claim_id, recs):
    claim = next(c for c in claims.CLAIMS if c.id == claim_id)
    return claim.decide(records.group(recs))


def test_fig1_holds_with_lambda_selected_by_test_loss_not_by_error():
    recs = (seeds(3, 0.98, "overfit")
            + seeds(3, 0.004, "solved", regularizer="double", **{"lambda": 1e-3}, test_loss=1e-6)
            # lower error, higher test loss: never selected
            + seeds(3, 0.001, "solved", regularizer="double", **{"lambda": 1e-4}, test_loss=1e-2))
    v = verdict("fig1", recs)
    assert v.verdict == verdicts.HOLDS
    assert {u["lambda"] for u in v.used} == {0.0, 1e-3}


def test_does_not_hold_when_the_regularized_network_overfits_too():
    recs = seeds(3, 0.98, "overfit") + seeds(3, 0.9, "overfit", regularizer="double", **{"lambda": 1e-3})
    v = verdict("fig1", recs)
    assert v.verdict == verdicts.FAILS and "not solved" in v.reason


def test_unequal_budgets_are_not_decided():
    recs = seeds(3, 0.98, "overfit", cap=50000) + seeds(3, 0.004, "solved", cap=6000, regularizer="double",
                                                         **{"lambda": 1e-3})
    v = verdict("fig1", recs)
    assert v.verdict == verdicts.UNDECIDED and v.reason.startswith("unequal budgets")


def test_too_few_seeds_are_not_decided_but_allen_cahn_needs_two():
    recs = seeds(2, 0.98, "overfit") + seeds(2, 0.004, "solved", regularizer="double", **{"lambda": 1e-3})
    assert verdict("fig1", recs).verdict == verdicts.UNDECIDED
    assert "too few seeds" in verdict("fig1", recs).reason
    ac = dict(pde="allen_cahn", grid=[64, 64], n_initial=100, n_boundary=100, precision="fp64")
    assert verdict("fp64_alone_wave", []).verdict == verdicts.UNDECIDED  # no run at all
    recs = seeds(2, 0.05, "solved", cap=30000, **ac)
    for r in recs:  # the test loss rises late: its minimum at half the budget
        r.history["test_total"][:] = [1.0, 1e-4, 5e-4]
    assert verdict("fig4_late_rise", recs).verdict == verdicts.HOLDS


def test_a_premise_that_is_absent_makes_a_claim_not_applicable():
    reaction = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100)
    recs = (seeds(3, 0.01, "solved", **reaction)
            + [r for reg in ("l2", "l1", "double")
               for r in seeds(3, 0.01, "solved", regularizer=reg, **{"lambda": 1e-4}, **reaction)])
    v = verdict("removes_reaction", recs)
    assert v.verdict == verdicts.NA and "does not overfit" in v.reason


def test_a_premise_absent_needs_no_regularized_run():
    reaction = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100)
    v = verdict("removes_reaction", seeds(3, 0.01, "solved", **reaction))
    assert v.verdict == verdicts.NA and "solved 3/3" in v.reason and len(v.used) == 1
    # an overfitting unregularized network with no regularized run is a premise present, not decided
    v = verdict("removes_reaction", seeds(3, 0.9, "overfit", **reaction))
    assert v.verdict == verdicts.UNDECIDED and "no committed run" in v.reason
    # too few seeds of the unregularized network: its premise is not decided either
    assert verdict("removes_reaction", seeds(2, 0.01, "solved", **reaction)).verdict == verdicts.UNDECIDED


def test_a_run_the_cap_ended_still_falling_decides_no_table1_row():
    ac = dict(pde="allen_cahn", grid=[64, 64], n_initial=100, n_boundary=100, precision="fp64", regularizer="double")
    recs = [r for lam in (1e-5, 1e-4, 1e-3) for r in seeds(2, 0.4, "not converged", cap=3000, **ac, **{"lambda": lam})]
    for claim_id in ("table1_allen_cahn", "table1_tenfold_allen_cahn"):
        v = verdict(claim_id, recs)
        assert v.verdict == verdicts.UNDECIDED and v.reason.startswith("still falling at the cap"), claim_id
        assert "cap of 3000" in v.reason and "seeds 0 1 of 2" in v.reason and "among 3" in v.numbers
    solved = [r for lam in (1e-5, 1e-4, 1e-3) for r in seeds(2, 1e-3, "solved", cap=3000, **ac, **{"lambda": lam})]
    assert verdict("table1_allen_cahn", solved).verdict == verdicts.HOLDS
    plateau = [r for lam in (1e-5, 1e-4, 1e-3) for r in seeds(2, 0.4, "plateau", cap=3000, **ac, **{"lambda": lam})]
    assert verdict("table1_allen_cahn", plateau).verdict == verdicts.FAILS


def test_fig4d_compares_the_three_allen_cahn_variants_at_one_budget():
    ac = dict(pde="allen_cahn", grid=[64, 64], n_initial=100, n_boundary=100)
    fp32 = seeds(2, 0.99, "plateau", cap=3000, iterations=1300, **ac)
    fp64 = seeds(2, 0.8, "not converged", cap=3000, precision="fp64", **ac)
    fp64_long = seeds(2, 0.05, "solved", cap=30000, precision="fp64", **ac)
    double = [r for lam, loss in ((1e-4, 1e-2), (1e-3, 1e-3)) for r in
              seeds(2, 0.3 if lam == 1e-3 else 0.9, "not converged", cap=3000, precision="fp64", regularizer="double",
                    test_loss=loss, **ac, **{"lambda": lam})]
    v = verdict("fig4d", fp32 + fp64 + fp64_long + double)
    # the lowest error, but the cap ended the runs still falling: FP64's could yet pass it
    assert v.verdict == verdicts.UNDECIDED and v.reason.startswith("still falling at the cap")
    assert "FP64 unregularized" in v.reason and "double PINN" not in v.reason  # the double's only strengthen
    assert {u.budget[0] for u in v.used} == {3000} and "lambda 0.001 selected" in v.numbers
    assert [u["lambda"] for u in v.used if u["regularizer"] == "double"] == [1e-3]  # by test loss
    assert any(u.budget[0] == 30000 for u in v.superseded)
    chosen = [r for r in double if r.config["lambda"] == 1e-3]
    for r in chosen:
        r.metrics["classification"] = "solved"
        r.metrics["rmae"] = 0.04
    assert verdict("fig4d", fp32 + fp64 + double).verdict == verdicts.UNDECIDED  # FP64 still falling
    for r in fp64:
        r.metrics["objective_change"] = 0.0  # FP64 stopped: nothing left to pass the double PINN
    v = verdict("fig4d", fp32 + fp64 + double)
    assert v.verdict == verdicts.HOLDS and "stands: more iterations can only strengthen it" in v.reason
    for r in chosen:  # the stop rule ended it on a plateau above FP64's error
        r.metrics["classification"] = "plateau"
        r.metrics["rmae"] = 0.85
        r.metrics["objective_change"] = 0.0
    assert verdict("fig4d", fp32 + fp64 + double).verdict == verdicts.FAILS


def test_the_longest_budget_decides_and_the_rest_is_superseded():
    recs = (seeds(3, 0.98, "overfit", cap=6000, part="quick") + seeds(3, 0.5, "not converged", cap=6000, part="quick",
                                                                       regularizer="double", **{"lambda": 1e-3})
            + seeds(3, 0.98, "overfit", cap=50000) + seeds(3, 0.004, "solved", regularizer="double",
                                                           **{"lambda": 1e-3}))
    v = verdict("fig1", recs)
    assert v.verdict == verdicts.HOLDS and all(u.budget[0] == 50000 for u in v.used)
    assert {u.parts for u in v.superseded} == {("quick",)}


def test_precision_is_compared_at_equal_iterations_only():
    ac = dict(pde="allen_cahn", grid=[64, 64], n_initial=100, n_boundary=100)
    fp32_rule = seeds(2, 0.99, "plateau", cap=3000, iterations=1300, **ac)
    fp64 = seeds(2, 0.03, "solved", cap=30000, precision="fp64", **ac)
    v = verdict("fig4_precision", fp32_rule + fp64)
    assert v.verdict == verdicts.UNDECIDED and "1300" in v.reason
    fp32_long = seeds(2, 0.99, "plateau", cap=30000, tol=0.0, **ac)
    v = verdict("fig4_precision", fp32_rule + fp64 + fp32_long)
    assert v.verdict == verdicts.HOLDS and "33x" in v.reason
    fp32_frozen = seeds(2, 0.4, "plateau", cap=30000, tol=0.0, iterations=12000, **ac)
    v = verdict("fig4_precision", fp32_rule + fp64 + fp32_frozen)
    assert v.verdict == verdicts.HOLDS and "13.3x" in v.reason and "12000" in v.reason
    fp32_rule_long = seeds(2, 0.4, "plateau", cap=30000, iterations=12000, **ac)  # the paper's rule, not a standstill
    assert verdict("fig4_precision", fp32_rule + fp64 + fp32_rule_long).verdict == verdicts.UNDECIDED
    fp32_solves = seeds(2, 0.04, "solved", cap=30000, tol=0.0, **ac)
    assert verdict("fig4_precision", fp32_rule + fp64 + fp32_solves).verdict == verdicts.FAILS


def test_tenfold_against_the_best_literature_row():
    table = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100, precision="fp64", regularizer="double",
                 **{"lambda": 1e-4})
    best = min(float(r["rmae_mean"]) for r in claims.literature_rows()
               if r["equation"] == "reaction" and r["source"] == "literature")
    best_rrmse = min(float(r["rrmse_mean"]) for r in claims.literature_rows()
                     if r["equation"] == "reaction" and r["source"] == "literature")
    assert verdict("table1_tenfold_reaction", seeds(3, best / 20, "solved", rrmse=best_rrmse / 20,
                                                    **table)).verdict == verdicts.HOLDS
    v = verdict("table1_tenfold_reaction", seeds(3, best / 5, "solved", rrmse=best_rrmse / 5, **table))
    assert v.verdict == verdicts.FAILS and "seeds clearing 10x in both metrics: 0/3" in v.reason


def test_fastest_in_iterations_and_in_seconds_are_separate_claims():
    recs = seeds(3, 0.98, "overfit") + [r for reg in ("l2", "l1") for r in
                                        seeds(3, 0.005, "solved", regularizer=reg, **{"lambda": 1e-5})]
    double = seeds(3, 0.004, "solved", regularizer="double", **{"lambda": 1e-3})
    for r in double:  # first below 1e-2 at fewer iterations but later in seconds
        r.history["test_rmae"][:] = [1.0, 0.005, 0.004]
        r.history["wall_time"][:] = [0.0, 1e6, 2e6]
    recs += double
    assert verdict("fig6_double_fastest_iterations", recs).verdict == verdicts.HOLDS
    # the runs' wall times were measured at different loads: seconds need costs measured side by side
    v = verdict("fig6_double_fastest_seconds", recs)
    assert v.verdict == verdicts.UNDECIDED and v.reason.startswith("timings not comparable")
    claim = next(c for c in claims.CLAIMS if c.id == "fig6_double_fastest_seconds")
    key = {reg: records.variant_key(next(r for r in recs if r.config["regularizer"] == reg).config)
           for reg in ("none", "l2", "l1", "double")}
    cheap = {key["none"]: 1e-3, key["l2"]: 1e-3, key["l1"]: 1e-3, key["double"]: 2.5e-3}
    v = claim.decide(records.group(recs, cheap))  # double: half the evaluations at 2.5 times the cost
    assert v.verdict == verdicts.FAILS and "measured side by side" in v.reason
    fast = {**cheap, key["double"]: 1.5e-3}
    assert claim.decide(records.group(recs, fast)).verdict == verdicts.HOLDS


def test_every_claim_decides_on_an_empty_table():
    for claim, v in claims.decide_all([]):
        assert v.verdict in (verdicts.UNDECIDED, verdicts.NA), claim.id


def test_variants_ignore_seeds_and_bookkeeping_keys():
    a = record(0, 0.1, "solved", checkpoint_every=100)
    b = record(1, 0.1, "solved", checkpoint_every=5000, keep_checkpoint=True)
    assert records.variant_key(a.config) == records.variant_key(b.config)
    assert len(records.group([a, b])) == 1
    from pinnfail.products.study import survival_median

    assert survival_median([1.0, math.inf, math.inf], math.inf) == math.inf
    assert math.isnan(survival_median([1.0, math.inf, math.inf]))
    assert survival_median([1.0, 2.0, math.inf], math.inf) == 2.0


def test_the_ledger_and_its_modules_need_no_jax():
    import subprocess
    code = "import pinnfail.products.ledger, sys; assert 'jax' not in sys.modules, [m for m in sys.modules if 'jax' in m]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.fixture(scope="module")
def committed():
    """Every committed run, grouped into variants (what ``snakemake docs/claims.md`` reads)."""
    return ledger.committed(sorted(glob.glob(str(ROOT / "docs/results/cpu/*/runs"))))


def test_the_committed_ledger_is_current(committed):
    """docs/claims.md equals what the committed runs give now (regenerate: snakemake --cores 2 docs/claims.md)."""
    text = ledger.render(committed, "snakemake --cores 2 docs/claims.md")
    assert (ROOT / "docs/claims.md").read_text() == text, "docs/claims.md is stale: snakemake --cores 2 docs/claims.md"


def test_the_cpu_preset_shows_table1_at_the_lambda_the_ledger_selects(committed):
    """The CPU evidence preset's Table 1 rows and Fig. 5 columns are the runs of the lambda the
    ledger selects for each equation (at that equation's longest committed budget)."""
    import yaml
    from snakemake.utils import update_config

    from pinnfail.workflow.plan import plan

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(config, yaml.safe_load((ROOT / "workflow/presets/cpu_evidence.yaml").read_text()))
    experiments = plan(config).experiments
    shown = [name for row in config["table1"]["rows"] for name in
             (row["experiment"] if isinstance(row["experiment"], list) else [row["experiment"]])]
    shown += [name for name in config["figures"]["panels"]["fig5"].values() if name]
    pdes = set()
    for name in shown:
        run = experiments[name]
        best, _ = verdicts.selected(claims._family(committed, run["pde"], "fp64", "double", **claims.TABLE1[run["pde"]]))
        assert run["lambda"] == pytest.approx(best["lambda"]) and run["max_iters"] == best.budget[0], name
        pdes.add(run["pde"])
    assert pdes == set(claims.TABLE1)


def test_config_runs_table1_at_the_lambda_the_ledger_selects(committed):
    """config.yaml's double-PINN FP64 rows (the paper's matrix) use, per equation, the lambda the
    committed evidence selects by test loss: the selection is made once, by the ledger."""
    import yaml
    experiments = yaml.safe_load((ROOT / "config.yaml").read_text())["experiments"]
    checked = 0
    for pde, setting in claims.TABLE1.items():
        candidates = claims._family(committed, pde, "fp64", "double", **setting)
        best, n = verdicts.selected(candidates)
        if best is None or n < 3:
            continue
        assert experiments[f"double_fp64_{pde}"]["lambda"] == pytest.approx(best["lambda"]), pde
        checked += 1
    assert checked >= 3


def test_table1_row_names_the_selection_and_needs_three_seeds_of_the_selected_lambda():
    table = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100, precision="fp64", regularizer="double")
    recs = (seeds(3, 7e-4, "solved", test_loss=4e-8, **table, **{"lambda": 1e-4})
            + seeds(2, 8e-4, "solved", test_loss=9e-8, **table, **{"lambda": 1e-5})
            + seeds(2, 1e-3, "solved", test_loss=1e-8, **table, **{"lambda": 1e-3}))  # higher error, lowest test loss
    v = verdict("table1_reaction", recs)
    assert v.verdict == verdicts.UNDECIDED and "too few seeds" in v.reason
    assert "lambda 0.001 selected by the lowest median test loss among 3" in v.reason
    assert "seeds 0 1: 1e-05 9e-08, 0.0001 4e-08, 0.001 1e-08" in v.reason
    third = [record(2, 1.1e-3, "solved", test_loss=1e-8, **table, **{"lambda": 1e-3})]
    v = verdict("table1_reaction", recs + third)
    assert v.verdict == verdicts.HOLDS and v.used[0]["lambda"] == 1e-3 and len(v.used[0].seeds) == 3
    failing = [record(s, 0.5, "overfit", test_loss=1e-9, **table, **{"lambda": 1e-2}) for s in range(3)]
    assert verdict("table1_reaction", recs + failing).verdict == verdicts.FAILS  # selected by test loss, and it fails


def signed(recs, at, mid_x, mid_t, median=1.0):
    """The records with a collocation signature (RMS |residual| at the points and midway; the
    medians ``median`` times smaller) in their metrics."""
    for r in recs:
        r.metrics.update(residual_rms_at_points=at, residual_rms_midway_x=mid_x, residual_rms_midway_t=mid_t,
                         residual_at_points=at / median, residual_midway_x=mid_x / median,
                         residual_midway_t=mid_t / median,
                         residual_midway_x_ratio=mid_x / at if at else math.inf,
                         residual_midway_t_ratio=mid_t / at if at else math.inf)
    return recs


WAVE = dict(pde="wave", grid=[12, 12], n_initial=100, n_boundary=100, precision="fp64")


def test_the_signature_is_decided_per_figure_along_its_panel_with_the_controls():
    """Fig. 1(c) (a map): x or t; Fig. 3(c) (a time slice): x only; the controls (double PINN,
    the densest grid) must not show it."""
    double = dict(regularizer="double", **{"lambda": 1e-3})
    unreg = signed(seeds(3, 0.98, "overfit"), 1e-4, 1e-4, 1e-2)  # 100x along t
    control = signed(seeds(3, 0.004, "solved", **double), 1e-4, 1.5e-4, 1.2e-4)
    v = verdict("signature_fig1", unreg + control)
    assert v.verdict == verdicts.HOLDS and v.reason.startswith("a signature along t, none in the controls")
    assert "double PINN 1e-3" in v.reason and "1.2x along t" in v.reason
    shared = signed(seeds(3, 0.004, "solved", **double), 1e-4, 1e-4, 5e-3)
    v = verdict("signature_fig1", signed(seeds(3, 0.98, "overfit"), 1e-4, 1e-4, 1e-2) + shared)
    assert v.verdict == verdicts.FAILS and v.reason.startswith("the controls show it too")
    # Fig. 3 along x only: a decade along t alone is no signature of the time slice
    wave_double = dict(WAVE, regularizer="double", **{"lambda": 1e-3})
    dense = dict(WAVE, grid=[36, 36])
    controls = (signed(seeds(3, 0.01, "solved", **wave_double), 1e-4, 1e-4, 1e-4)
                + signed(seeds(3, 0.01, "solved", **dense), 1e-4, 1.1e-4, 1e-4))
    along_t = signed(seeds(3, 0.9, "overfit", **WAVE), 1e-4, 2e-4, 1e-2)
    v = verdict("signature_fig3", along_t + controls)
    assert v.verdict == verdicts.FAILS and v.reason.startswith("no signature along x")
    along_x = signed(seeds(3, 0.9, "overfit", **WAVE), 1e-4, 1e-2, 1e-4)
    v = verdict("signature_fig3", along_x + controls)
    assert v.verdict == verdicts.HOLDS and "36x36" in v.reason
    # no control committed: not decided
    assert verdict("signature_fig3", along_x).verdict == verdicts.UNDECIDED


def test_the_signature_not_measured_and_too_few_seeds_are_not_decided():
    double = dict(regularizer="double", **{"lambda": 1e-3})
    control = signed(seeds(3, 0.004, "solved", **double), 1e-4, 1e-4, 1e-4)
    v = verdict("signature_fig1", seeds(3, 0.98, "overfit") + control)
    assert v.verdict == verdicts.UNDECIDED and "not measured" in v.reason
    v = verdict("signature_fig1", signed(seeds(2, 0.98, "overfit"), 1e-4, 1e-2, 1e-2) + control)
    assert v.verdict == verdicts.UNDECIDED and "too few seeds" in v.reason
    # a longer budget without the signature does not hide the measured one: it is superseded
    longer = signed(seeds(3, 0.98, "overfit"), 1e-4, 1e-2, 1e-2) + seeds(3, 0.98, "overfit", cap=90000) + control
    v = verdict("signature_fig1", longer)
    assert v.verdict == verdicts.HOLDS and any(u.budget[0] == 90000 for u in v.superseded)


def test_a_pipe_in_a_verdict_stays_inside_its_table_cell():
    claim = verdicts.Claim("pipe", "Fig. 9", "a | b", lambda variants: verdicts.Verdict(verdicts.HOLDS, "|r| small"))
    text = ledger.render([], "cmd", claims=(claim,))
    row = next(line for line in text.splitlines() if line.startswith("| Fig. 9"))
    assert row.replace("\\|", "").count("|") == 7  # six cells
    assert "\\|r\\| small" in row


# --- issue 46: flags apart from classes, still-falling runs, split votes, every statistic ------

TABLE_REACTION = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100, precision="fp64",
                      regularizer="double", **{"lambda": 1e-3})


def _lit(pde, metric):
    return min(float(r[f"{metric}_mean"]) for r in claims.literature_rows()
               if r["equation"] == pde and r["source"] == "literature")


def test_a_solved_run_keeps_its_flags():
    """The class says solved; the flags still say the cap ended it falling and its ratio is
    above the overfit threshold (what a verdict may need)."""
    r = record(0, 0.01, "solved", change=2e-3, ratio=329.0)
    assert r.still_falling and r.flag("above_overfit_ratio") and r.flag("worst_term") == "domain"
    v = records.group([r])[0]
    assert v.flags_text() == "still falling 1/1, test/train above the overfit ratio 1/1 (seed 0 domain 329)"
    stopped = record(0, 0.01, "solved", change=1e-9)  # by the stop rule's tolerance: not falling
    assert not stopped.still_falling
    rule = record(0, 0.9, "plateau", change=1e-9, iterations=1000, cap=5000)  # ended by the rule
    assert not rule.still_falling


def test_stored_flags_are_read_and_missing_ones_decided_by_the_same_rule():
    from pinnfail.products.classes import run_flags

    r = record(0, 0.01, "solved", change=2e-3, ratio=329.0)
    assert r.flags == run_flags(r.metrics, 100.0)
    r.metrics.update(run_flags(r.metrics, 1000.0))  # an eval.h5 that stores them wins
    assert not r.flag("above_overfit_ratio")


def test_a_verdict_still_falling_runs_could_overturn_is_not_decided():
    """Does not hold at this budget (5x, not 10x), but the runs are still falling: not decided,
    naming the runs and their change; finished, the same numbers do not hold."""
    lit, lit2 = _lit("reaction", "rmae"), _lit("reaction", "rrmse")
    falling = seeds(3, lit / 5, "solved", rrmse=lit2 / 5, change=3e-3, **TABLE_REACTION)
    v = verdict("table1_tenfold_reaction", falling)
    assert v.verdict == verdicts.UNDECIDED
    assert v.reason.startswith("still falling at the cap: reaction FP64 double PINN 1e-3") and "seeds 0 1 2 of 3" in v.reason
    assert "0.003 per stop window" in v.reason and v.numbers.startswith("does not hold at this budget")
    finished = seeds(3, lit / 5, "solved", rrmse=lit2 / 5, change=0.0, **TABLE_REACTION)
    assert verdict("table1_tenfold_reaction", finished).verdict == verdicts.FAILS


def test_a_verdict_more_iterations_can_only_strengthen_stands_and_says_so():
    lit, lit2 = _lit("reaction", "rmae"), _lit("reaction", "rrmse")
    v = verdict("table1_tenfold_reaction", seeds(3, lit / 20, "solved", rrmse=lit2 / 20, change=3e-3, **TABLE_REACTION))
    assert v.verdict == verdicts.HOLDS and "stands: more iterations can only strengthen it" in v.reason
    v = verdict("table1_reaction", seeds(3, 1e-3, "solved", change=3e-3, **TABLE_REACTION))
    assert v.verdict == verdicts.HOLDS and "stands" in v.reason
    v = verdict("table1_reaction", seeds(3, 0.3, "not converged", **TABLE_REACTION))
    assert v.verdict == verdicts.UNDECIDED and "still falling" in v.reason


def test_tenfold_needs_every_statistic():
    """rMAE and rRMSE, mean and median: all four at 10x holds; some only: not decided, with
    every number shown."""
    lit, lit2 = _lit("reaction", "rmae"), _lit("reaction", "rrmse")
    # the median clears 10x, the mean does not (one seed far worse)
    recs = [record(0, lit / 30, "solved", rrmse=lit2 / 30, **TABLE_REACTION),
            record(1, lit / 30, "solved", rrmse=lit2 / 30, **TABLE_REACTION),
            record(2, lit, "solved", rrmse=lit2, **TABLE_REACTION)]
    v = verdict("table1_tenfold_reaction", recs)
    assert v.verdict == verdicts.UNDECIDED and v.reason == "10x on median rMAE, median rRMSE only"
    assert "seeds clearing 10x in both metrics: 2/3" in v.numbers and "mean" in v.numbers
    # in rMAE only: not decided either
    v = verdict("table1_tenfold_reaction", seeds(3, lit / 20, "solved", rrmse=lit2 / 2, **TABLE_REACTION))
    assert v.verdict == verdicts.UNDECIDED and "rRMSE" not in v.reason


def test_split_seeds_are_not_decided_unless_the_interval_is_clear():
    """4 of 5 solved: the 95 % Wilson interval (0.38-0.96) straddles one half: not decided;
    9 of 10 (0.60-0.98): decided; unanimous seeds decide as n/n."""
    unreg = seeds(5, 0.98, "overfit")

    def double(n_solved, n):
        return [record(s, 0.004 if s < n_solved else 0.9, "solved" if s < n_solved else "overfit",
                       regularizer="double", **{"lambda": 1e-3}) for s in range(n)]

    v = verdict("fig1", unreg + double(4, 5))
    assert v.verdict == verdicts.UNDECIDED and v.reason == "seeds split: regularized solved 4/5 (95 % interval 0.38-0.96)"
    unreg10 = seeds(10, 0.98, "overfit")
    assert verdict("fig1", unreg10 + double(9, 10)).verdict == verdicts.HOLDS
    assert verdict("fig1", unreg10 + double(1, 10)).verdict == verdicts.FAILS  # 1/10: below one half
    assert verdict("fig1", unreg + double(5, 5)).verdict == verdicts.HOLDS
    assert records.wilson(4, 5) == pytest.approx((0.3755, 0.9638), abs=1e-4)


def test_no_majority_is_not_decided_in_every_judge():
    """One seed each way decides nothing, whichever judge asks."""
    half = [record(0, 0.9, "overfit"), record(1, 0.004, "solved")]
    fp64 = dict(precision="fp64")
    wave = dict(pde="wave", grid=[12, 12], n_initial=100, n_boundary=100, precision="fp64")
    wave_half = [record(s, 0.9, "overfit", **wave) for s in range(2)] + [record(2, 0.01, "solved", **wave),
                                                                          record(3, 0.01, "solved", **wave)]
    assert verdict("fp64_alone_wave", wave_half).verdict == verdicts.UNDECIDED
    reaction = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100)
    premise = [record(s, 0.9 if s < 2 else 0.01, "overfit" if s < 2 else "solved", **reaction) for s in range(4)]
    v = verdict("removes_reaction", premise)
    assert v.verdict == verdicts.UNDECIDED and "unregularized overfit 2/4" in v.reason
    assert half and fp64


def test_a_premise_that_is_still_falling_is_not_decided_not_absent():
    """The issue's reaction FP32 case: unregularized solved, but capped and still falling."""
    reaction = dict(pde="reaction", grid=[16, 16], n_initial=100, n_boundary=100)
    v = verdict("removes_reaction", seeds(3, 0.01, "solved", cap=4000, change=0.05, **reaction))
    assert v.verdict == verdicts.UNDECIDED and v.reason.startswith("still falling at the cap")


def test_the_selection_margin_is_shown():
    recs = [r for lam, loss in ((1e-5, 4e-3), (1e-4, 2e-3), (1e-3, 1e-3))
            for r in seeds(3, 1e-3, "solved", test_loss=loss, **{**TABLE_REACTION, "lambda": lam})]
    v = verdict("table1_reaction", recs)
    assert "margin 2x over the runner-up 0.0001" in v.reason


def test_precision_compared_under_two_stop_rules_says_why():
    ac = dict(pde="allen_cahn", grid=[64, 64], n_initial=100, n_boundary=100)
    fp32 = seeds(2, 0.99, "plateau", cap=30000, tol=0.0, iterations=12000, **ac)
    fp64 = seeds(2, 0.03, "solved", cap=30000, precision="fp64", **ac)
    v = verdict("fig4_precision", fp32 + fp64)
    assert v.verdict == verdicts.HOLDS and "FP32 under the standstill rule and FP64 under the stop rule" in v.reason


def test_costs_are_read_beside_a_parts_runs(tmp_path):
    import json

    part = tmp_path / "fig6"
    (part / "runs").mkdir(parents=True)
    config = record(0, 0.1, "solved", regularizer="l2", **{"lambda": 1e-5}).config
    (part / records.FEVAL_COST).write_text(json.dumps({"settings": [{"config": config, "seconds_per_feval": 0.004}]}))
    assert records.load_costs([part / "runs"]) == {records.variant_key(config): 0.004}
    assert records.load_costs([tmp_path / "elsewhere"]) == {}
