"""The workflow's staged studies and committed runs, planned by Snakemake (dry runs).

A staged study (confirm_seeds / continue_plateaus) plans its sweep and a selection checkpoint;
the seeds and continued runs it adds are decided by that checkpoint. A committed run (config
`archive:`) whose stored config equals the planned one is read, not trained; edited, it trains.
The whole staged study runs in CI on the .test configuration (.ci/run).
"""
import yaml
from snakemake.utils import update_config

from pinnfail.workflow.plan import plan
from pinnfail.products.train import train
from pinnfail.workflow.dryrun import planned_jobs
from test_workflow import ROOT, copy_workflow, library_of, planned_outputs, tiny_preset


def test_committed_runs_are_read_not_trained_and_a_staged_study_waits_for_its_selection(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    preset = tiny_preset()
    preset["archive"] = ["committed/*"]  # a glob: every folder it matches
    preset["study"]["quoted"].update(confirm_seeds=[1], continue_plateaus={"runs": 1, "max_iters": 10})
    (work / "tiny.yaml").write_text(yaml.safe_dump(preset))
    merged = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(merged, preset)
    planned = plan(merged).experiments["conv_none_fp32"]
    committed = work / "committed" / "part" / "conv_none_fp32" / "seed0" / "run.h5"
    train({**planned, "seed": 0}, [0], [committed], progress=False)

    outputs = planned_outputs(work, "tiny.yaml", "results/table1.csv")
    assert "results/runs/conv_none_fp32/seed0/eval.h5" in outputs  # evaluated from the committed run
    assert "results/runs/conv_none_fp32/seed0/run.h5" not in outputs  # not trained
    assert "results/runs/conv_double_fp32/seed0/run.h5" in outputs  # what is not committed trains
    edited = {**preset, "experiments": {**preset["experiments"],
                                        "conv_none_fp32": {**preset["experiments"]["conv_none_fp32"], "max_iters": 6}}}
    (work / "edited.yaml").write_text(yaml.safe_dump(edited))
    assert "results/runs/conv_none_fp32/seed0/run.h5" in planned_outputs(work, "edited.yaml", "results/table1.csv")
    # a larger max_iters continues the committed run: it is the training job's input
    with library_of(work):
        jobs = planned_jobs(["results/runs/conv_none_fp32/seed0/eval.h5"], ["edited.yaml"], workdir=work)
    (train_job,) = [job for job in jobs if job.rule == "train"]
    assert train_job.inputs == ["committed/part/conv_none_fp32/seed0/run.h5"]
    # a smaller one cannot continue it: trained from iteration 0, nothing read
    edited["experiments"]["conv_none_fp32"]["max_iters"] = 4
    (work / "shorter.yaml").write_text(yaml.safe_dump(edited))
    with library_of(work):
        jobs = planned_jobs(["results/runs/conv_none_fp32/seed0/eval.h5"], ["shorter.yaml"], workdir=work)
    assert [job.inputs for job in jobs if job.rule == "train"] == [[]]

    outputs = planned_outputs(work, "tiny.yaml", "results/studies/quoted/study.md")
    assert "results/studies/quoted/selection.json" in outputs
    assert "results/runs/quoted__convection_none_fp32/seed0/run.h5" in outputs
    # seed 1 and the continued runs are decided by the selection, after the sweep
    assert not any("seed1" in o or "__continued" in o for o in outputs)


def test_cpu_preset_table1_is_read_from_committed_runs(tmp_path):
    """The CPU evidence preset's Table 1 (`table1.publish`: docs/results/cpu/table1) is built from
    committed runs alone: rebuilding it plans Table 1 and its copy, no training, no evaluation."""
    work = copy_workflow(tmp_path / "wf")
    (work / "docs").symlink_to(ROOT / "docs")
    outputs = planned_outputs(work, "workflow/presets/cpu_evidence.yaml", "docs/results/cpu/table1/table1.md",
                              forceall=True)
    assert outputs == {"results/table1.csv", "docs/results/cpu/table1/table1.csv"}


def test_cpu_preset_figures_and_claims_read_committed_runs(tmp_path):
    """The CPU preset's figures read committed runs only: rebuilding the published Fig. 5 plans
    the four references, the figure and its copy, nothing else; Fig. 4 (all three panels), Fig. 3
    and the claims document (docs/claims.md) train and evaluate nothing."""
    work = copy_workflow(tmp_path / "wf")
    (work / "docs").symlink_to(ROOT / "docs")
    preset = "workflow/presets/cpu_evidence.yaml"
    outputs = planned_outputs(work, preset, "docs/results/cpu/figures/fig5.png", forceall=True)
    assert outputs == {"results/figures/fig5.png", "docs/results/cpu/figures/fig5.png",
                       *(f"data/reference/{pde}.h5" for pde in ("convection", "reaction", "wave", "allen_cahn"))}
    outputs = planned_outputs(work, preset, "docs/results/cpu/figures/fig3.png", forceall=True)
    assert outputs == {"results/figures/fig3.png", "docs/results/cpu/figures/fig3.png", "data/reference/wave.h5"}
    outputs = planned_outputs(work, preset, "docs/results/cpu/figures/fig4.png", forceall=True)
    assert outputs == {"results/figures/fig4.png", "docs/results/cpu/figures/fig4.png", "data/reference/allen_cahn.h5"}
    outputs = planned_outputs(work, preset, "docs/claims.md", forceall=True)
    assert outputs == {"docs/claims.md"}  # the ledger reads the committed runs: nothing trained or evaluated


def test_studies_sharing_a_variant_name_aggregate_apart(tmp_path):
    """Two studies with the same variant on two grids (Fig. 3's densities) train each its own
    runs (no 'appears in more than one study' error)."""
    work = copy_workflow(tmp_path / "wf")
    preset = tiny_preset()
    base = preset["study"]["quoted"]["base"]
    preset["study"] = {name: {"seeds": [0], "base": {**base, "grid": grid}, "variants": [{"regularizer": "none"}]}
                       for name, grid in (("sparse", [5, 5]), ("dense", [7, 7]))}
    (work / "tiny.yaml").write_text(yaml.safe_dump(preset))
    outputs = planned_outputs(work, "tiny.yaml", "results/studies/sparse/study.md", "results/studies/dense/study.md")
    assert {"results/runs/sparse__convection_none_fp32/seed0/run.h5",
            "results/runs/dense__convection_none_fp32/seed0/run.h5"} <= outputs


def test_the_quick_start_and_the_gpu_preset_train_from_scratch(tmp_path):
    """Some quick-preset runs share their settings with committed CPU runs: the quick start still
    trains them (continue_committed: false), and the GPU preset's runs match none."""
    work = copy_workflow(tmp_path / "wf")
    (work / "docs").symlink_to(ROOT / "docs")
    for preset in ("workflow/presets/quick.yaml", "workflow/presets/gpu_table1.yaml"):
        with library_of(work):
            jobs = planned_jobs(["results/table1.csv"], [preset], workdir=work, forceall=True)
        trains = [job for job in jobs if job.rule.startswith("train")]
        assert trains and all(job.inputs == [] for job in trains), preset
    with library_of(work):  # without the setting, the quick start would continue committed runs
        jobs = planned_jobs(["results/table1.csv"], ["workflow/presets/quick.yaml"],
                            config={"continue_committed": True}, workdir=work, forceall=True)
    assert any(job.inputs and job.inputs[0].startswith("docs/results/cpu/fig6/runs/") for job in jobs)
