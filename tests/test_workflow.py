"""The Snakemake workflow: config validation, and reruns that touch only what changed.

A tiny preset (derived from config.yaml: every experiment shrunk) runs the whole
pipeline in a temporary copy of the workflow; then config edits are dry-run and
the jobs Snakemake plans are compared with what each edit should rebuild.
"""
import copy
import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def tiny_preset() -> dict:
    full = yaml.safe_load((ROOT / "config.yaml").read_text())
    preset = {
        "reference": {
            "convection": {"nx": 32, "nt": 17}, "reaction": {"nx": 32, "nt": 17},
            "wave": {"nx": 33, "nt": 17}, "allen_cahn": {"nx": 64, "nt": 11, "modes": 128},
        },
        "run_defaults": {"depth": 2, "width": 12, "n_test_domain": 100, "n_test_line": 20, "log_every": 5,
                         "stop_window": 0, "checkpoint_every": 0},
        "evaluation": {"residual_grid": [16, 16]},
        "figures": {"style": {"dpi": 40}},
        "experiments": {
            name: {"seeds": [0], "max_iters": 5, "grid": [5, 5], "n_initial": 6, "n_boundary": 6}
            for name in full["experiments"]
        },
    }
    return preset


def snakemake(workdir: Path, *args, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*SNAKEMAKE, "--cores", "2", *args], cwd=workdir, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def planned_outputs(workdir: Path, configfile: str, *targets) -> set[str]:
    """Outputs of the jobs a dry run plans (one per job, its first output)."""
    proc = snakemake(workdir, "-n", *targets, "--configfile", configfile)  # --configfile takes all after it
    text = proc.stdout + proc.stderr
    outputs = set()
    for line in text.splitlines():
        match = re.match(r"\s+output: (.*)", line)
        if match:
            outputs.add(match.group(1).split(",")[0].strip())
    return outputs


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "workflow", dest / "workflow")
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole tiny pipeline, built once."""
    work = copy_workflow(tmp_path_factory.mktemp("workflow"))
    preset = tiny_preset()
    (work / "tiny.yaml").write_text(yaml.safe_dump(preset))
    snakemake(work, "--configfile", "tiny.yaml")
    assert (work / "results/table1.csv").exists()
    assert planned_outputs(work, "tiny.yaml") == set()
    return work, preset


def with_edit(work: Path, preset: dict, name: str, edit) -> str:
    edited = copy.deepcopy(preset)
    edit(edited)
    (work / name).write_text(yaml.safe_dump(edited))
    return name


def test_pipeline_outputs(built):
    work, _ = built
    for fig in ("fig1", "fig3", "fig4", "fig5", "fig6"):
        assert (work / f"results/figures/{fig}.png").stat().st_size > 0
        assert (work / f"results/figures/{fig}.pdf").stat().st_size > 0
    text = (work / "results/table1.csv").read_text()
    assert "pipeline" in text and "literature" in text


def test_report_captions_quote_the_artifacts_numbers(built):
    """Each caption in report.html is the one its job wrote from the artifacts (rMAE, class)."""
    import html

    from pinnfail.evaluate import read_metrics
    from pinnfail.tables import _fmt

    work, _ = built
    snakemake(work, "--report", "report.html", "--configfile", "tiny.yaml")
    page = html.unescape((work / "report.html").read_text())
    with open(work / "results/table1.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == "pipeline"]
    for row in rows:
        assert f"rMAE {_fmt(float(row['rmae_mean']))}" in page, row["method"]
        assert row["classification"] in page
    eval_path = work / "results/runs/conv_none_fp32/seed0/eval.h5"
    m = read_metrics(eval_path)
    caption = (work / "results/figures/fig1.rst").read_text()
    assert f"rMAE {_fmt(float(m['rmae']))}" in caption and f"*{m['classification']}*" in caption
    assert m["classification_reason"] in page


def test_editing_one_equation_reruns_only_that_equation(built):
    work, preset = built

    def edit(cfg):
        cfg["pdes"] = {"wave": {"c": 2.0, "beta": 2.0}}

    planned = planned_outputs(work, with_edit(work, preset, "wave.yaml", edit))
    wave_runs = {"wave_none_fp64_12", "pinn_fp64_wave", "double_fp64_wave"}
    expected = {"data/reference/wave.h5", "results/table1.csv", "results/figures/fig3.png",
                "results/figures/fig5.png"}
    for name in wave_runs:
        expected |= {f"results/runs/{name}/seed0/run.h5", f"results/runs/{name}/seed0/eval.h5"}
    assert planned == expected


def test_editing_wave_reference_grid_rebuilds_only_wave_reference(built):
    work, preset = built

    def edit(cfg):
        cfg["reference"]["wave"] = {"nx": 35, "nt": 17}

    planned = planned_outputs(work, with_edit(work, preset, "waveref.yaml", edit),
                              "data/reference/convection.h5", "data/reference/wave.h5")
    assert planned == {"data/reference/wave.h5"}


def test_adding_a_seed_runs_only_the_new_seed(built):
    work, preset = built

    def edit(cfg):
        cfg["experiments"]["conv_double_fp32"]["seeds"] = [0, 1]

    planned = planned_outputs(work, with_edit(work, preset, "seed.yaml", edit))
    # the new seed's run and evaluation, and Table 1, which averages over seeds; the figures
    # show seed 0 and stay
    assert planned == {"results/runs/conv_double_fp32/seed1/run.h5",
                       "results/runs/conv_double_fp32/seed1/eval.h5", "results/table1.csv"}


def test_figure_style_reruns_only_figures(built):
    work, preset = built

    def edit(cfg):
        cfg["figures"]["style"]["dpi"] = 41

    planned = planned_outputs(work, with_edit(work, preset, "style.yaml", edit))
    assert planned == {f"results/figures/{fig}.png" for fig in ("fig1", "fig3", "fig4", "fig5", "fig6")}


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["experiments"]["conv_l2_fp32"].update(regularizer="l3"), "experiments.conv_l2_fp32.regularizer"),
    (lambda c: c["experiments"]["conv_l2_fp32"].update(grid=[-3, 5]), "grid"),
    (lambda c: c.update(bogus=1), "bogus"),
    (lambda c: c["pdes"].update(heat={"k": 1.0}), "heat"),
    (lambda c: c["figures"]["panels"].update(fig1={"failure": "nope", "regularized": "conv_double_fp32"}), "nope"),
    (lambda c: c.update(doc_studies=["regularizers_quick", "missing_study"]), "missing_study"),
])
def test_bad_config_stops_with_the_field_named(tmp_path, edit, message):
    work = copy_workflow(tmp_path / "wf")
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    edit(cfg)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(work, "-n", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (work / "results").exists() and not (work / "data").exists()


def test_lint_is_clean():
    proc = subprocess.run([*SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_batch_seeds_switch_plans_one_job_per_experiment(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    preset = tiny_preset()
    preset["batch_seeds"] = True
    preset["experiments"]["conv_l2_fp32"]["seeds"] = [0, 1, 2]
    (work / "batch.yaml").write_text(yaml.safe_dump(preset))
    proc = snakemake(work, "-n", "results/runs/conv_l2_fp32/seed2/eval.h5", "--configfile", "batch.yaml")
    text = proc.stdout + proc.stderr
    assert "rule train_batch_conv_l2_fp32:" in text
    assert "--seeds 0 1 2" in text or re.search(r"output: results/runs/conv_l2_fp32/seed0/run\.h5, "
                                                r"results/runs/conv_l2_fp32/seed1/run\.h5, "
                                                r"results/runs/conv_l2_fp32/seed2/run\.h5", text)
