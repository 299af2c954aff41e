"""The Snakemake workflow: config validation, and reruns that touch only what changed.

A tiny preset (derived from config.yaml: every experiment shrunk) runs the whole
pipeline once with the ``snakemake`` command, in a temporary copy of the workflow and of
the package (src/); then config edits are dry-run and the jobs Snakemake plans are
compared with what each edit should rebuild. Those dry runs, the report and the lint go
through Snakemake's Python API in this process (``pinnfail.workflow.dryrun``), with the code
hashes computed from the copy's package as the jobs' own were; the library edits
(``-m slow``) run ``snakemake -n`` processes on the edited copy. A bad config is shown to
stop the ``snakemake`` command once, end to end, and every bad config to stop the same
workflow loaded through the API, with the field named.
"""
import contextlib
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pinnfail.workflow.dryrun import DryRunError, planned_jobs, workflow

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
# Free text that a shell would mangle: it must reach the outputs verbatim.
METHOD = 'Bob\'s "PINN" $HOME'
TITLE = 'A "quoted" study\'s title: $HOME `id` \\ ; echo'
HEAT_METHOD = "PINN (toy heat)"


def tiny_preset(plugin: bool = False) -> dict:
    """config.yaml with every experiment shrunk, free text in a Table 1 row and a study title;
    with ``plugin``, also an equation defined only in a plugin file (docs/examples/heat.py: the
    heat equation), run to Table 1 and Fig. 5 beside the paper's."""
    full = yaml.safe_load((ROOT / "config.yaml").read_text())
    tiny = {"seeds": [0], "max_iters": 5, "grid": [5, 5], "n_initial": 6, "n_boundary": 6}
    # the experiments some figure shows (Table 1's rows of only those: every equation and regularizer
    # is among them; a Table 1 row of its own would add two jobs that test nothing new)
    shown = {name for panels in full["figures"]["panels"].values() for name in panels.values()}
    preset = {
        "reference": {
            "convection": {"nx": 32, "nt": 17}, "reaction": {"nx": 32, "nt": 17},
            "wave": {"nx": 33, "nt": 17}, "allen_cahn": {"nx": 64, "nt": 11, "modes": 128},
        },
        "run_defaults": {"depth": 2, "width": 12, "n_test_domain": 100, "n_test_line": 20, "log_every": 5,
                         "stop_window": 0, "checkpoint_every": 0},
        "evaluation": {"residual_grid": [16, 16]},
        "figures": {"style": {"dpi": 40}},
        "experiments": {name: dict(tiny) for name in full["experiments"] if name in shown},
        "table1": {"rows": [{**row, "method": METHOD if i == 0 else row["method"]}
                            for i, row in enumerate(r for r in full["table1"]["rows"] if r["experiment"] in shown)]},
        "study": {"quoted": {
            "title": TITLE, "seeds": [0],
            "base": {"pde": "convection", "max_iters": 5, "grid": [5, 5], "n_initial": 6, "n_boundary": 6},
            "variants": [{"regularizer": "none"}, {"regularizer": "l2", "lambda": 1.0e-5}],
        }},
    }
    if plugin:
        preset["pde_plugins"] = [str(ROOT / "docs" / "examples" / "heat.py")]
        preset["pdes"] = {"heat": {"k": 0.2}}
        preset["reference"]["heat"] = {"nx": 33, "nt": 17}
        preset["experiments"]["heat_pinn"] = {**tiny, "pde": "heat", "precision": "fp64"}
        preset["table1"]["rows"].append({"method": HEAT_METHOD, "experiment": "heat_pinn"})
        preset["figures"]["panels"] = {"fig5": {"heat": "heat_pinn"}}  # Fig. 5 shows every equation
    return preset


def snakemake(workdir: Path, *args, check=True, env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(workdir / "src"), **(env or {})}  # the copy's package, editable by tests
    env.pop("PINNFAIL_JAX_CACHE", None)  # the jobs use the workflow's own cache (jax_compilation_cache)
    proc = subprocess.run([*SNAKEMAKE, "--cores", "2", *args], cwd=workdir, capture_output=True, text=True,
                          env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@contextlib.contextmanager
def library_of(work: Path):
    """The workflow loaded in this process hashes the copy's package (``work/src``), as a
    ``snakemake`` process given ``PYTHONPATH=work/src`` does."""
    from pinnfail.workflow import sources

    root = sources.ROOT
    sources.ROOT = work / "src" / "pinnfail"
    sources._parse.cache_clear()
    try:
        yield
    finally:
        sources.ROOT = root
        sources._parse.cache_clear()


def planned_outputs(workdir: Path, configfile: str, *targets, forceall=False) -> set[str]:
    """Outputs of the jobs a dry run plans (one per job, its first output), through the API."""
    with library_of(workdir):
        jobs = planned_jobs(targets, [configfile], workdir=workdir, forceall=forceall)
    return {job.outputs[0] for job in jobs if job.outputs}  # (a target rule has none)


def planned_outputs_by_snakemake(workdir: Path, configfile: str, *targets) -> set[str]:
    """The same from a ``snakemake -n`` process (which imports the copy's package)."""
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
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole tiny pipeline, built once by the ``snakemake`` command. Its runs are 5
    iterations long, so compiling is most of each job: XLA compiles them unoptimized
    (``JAX_DISABLE_MOST_OPTIMIZATIONS``; these tests check what the pipeline writes and
    reruns, not the numbers)."""
    work = copy_workflow(tmp_path_factory.mktemp("workflow"))
    preset = tiny_preset(plugin=True)
    (work / "tiny.yaml").write_text(yaml.safe_dump(preset))
    snakemake(work, "all", "results/studies/quoted/study.md", "--configfile", "tiny.yaml",
              env={"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"})
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

    from pinnfail.artifacts.formats import read_metrics
    from pinnfail.products.tables import _fmt

    work, _ = built
    from snakemake.report.html_reporter import ReportSettings

    with library_of(work), workflow(work, ["tiny.yaml"]) as api:  # snakemake --report report.html
        api.dag().create_report(reporter="html", report_settings=ReportSettings(path=work / "report.html"))
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


def test_an_equation_of_a_plugin_file_runs_through_the_workflow(built):
    """Reference, training, evaluation and Table 1 of an equation that docs/examples/heat.py alone
    defines (the preset names the file in ``pde_plugins``)."""
    import math

    from test_pdes import HEAT

    from pinnfail.artifacts.formats import read_reference

    work, _ = built
    ref = read_reference(work / "data/reference/heat.h5")
    exact = np.asarray(HEAT.exact(ref.x[None, :], ref.t[:, None], {"k": 0.2}))
    np.testing.assert_allclose(ref.u, exact, atol=1e-12)
    with open(work / "results/table1.csv", newline="") as f:
        (row,) = [row for row in csv.DictReader(f) if row["method"] == HEAT_METHOD]
    assert (row["equation"], row["source"]) == ("heat", "pipeline")
    assert math.isfinite(float(row["rmae_mean"]))
    log = (work / "logs/train/heat_pinn/seed0.log").read_text()
    assert '"stop_reason": "max_iters"' in log


def test_jobs_share_a_compilation_cache_that_is_no_output(built):
    """The jobs filled JAX's cache (config ``jax_compilation_cache``); deleting it reruns nothing."""
    work, preset = built
    cache = work / ".snakemake/jax-cache"
    (keyed,) = cache.iterdir()
    assert keyed.name.startswith("jaxlib-") and len(list(keyed.iterdir())) > 10
    shutil.rmtree(cache)
    assert planned_outputs(work, "tiny.yaml") == set()


def test_a_repeated_job_compiles_nothing_new(tmp_path):
    """The dispatcher's cache: a second identical job loads every executable the first one compiled
    (JAX's own counters: every compilation request a persistent-cache hit)."""
    code = """
import collections, importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("dispatch", sys.argv[1])
dispatch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dispatch)
os.environ.update(dispatch.compilation_cache_env(sys.argv[3]))  # before JAX reads its config
from jax import monitoring
events = collections.Counter()
monitoring.register_event_listener(lambda event, **kw: events.update([event.rsplit("/", 1)[-1]]))
status = dispatch.run(sys.argv[5:], sys.argv[2], compilation_cache=sys.argv[3])
open(sys.argv[4], "w").write(json.dumps(events))
sys.exit(status)
"""
    cfg = tmp_path / "run.yaml"
    cfg.write_text("pde: convection\ngrid: [5, 5]\nn_initial: 6\nn_boundary: 6\ndepth: 1\nwidth: 4\n"
                   "n_test_domain: 20\nn_test_line: 8\nlog_every: 5\nstop_window: 0\nmax_iters: 10\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "PINNFAIL_JAX_CACHE"}
    counts = []
    for i in range(2):
        argv = ["train", "--config", cfg, "--quiet", "--out", tmp_path / f"run{i}.h5"]
        proc = subprocess.run([sys.executable, "-c", code, ROOT / "workflow/scripts/pinnfail_cli.py",
                               tmp_path / f"log{i}", tmp_path / "cache", tmp_path / f"events{i}.json", *argv],
                              env=env)
        assert proc.returncode == 0, (tmp_path / f"log{i}").read_text()
        counts.append(json.loads((tmp_path / f"events{i}.json").read_text()))
    first, second = counts
    assert first["compile_requests_use_cache"] > 10 and first.get("cache_hits", 0) == 0
    assert second["cache_hits"] == second["compile_requests_use_cache"] == first["compile_requests_use_cache"]


def test_free_text_reaches_the_outputs_verbatim(built):
    work, _ = built
    with open(work / "results/table1.csv", newline="") as f:
        assert METHOD in {row["method"] for row in csv.DictReader(f)}
    assert METHOD in (work / "results/table1.md").read_text()
    assert f"## {TITLE}\n" in (work / "results/studies/quoted/study.md").read_text()
    assert not list(work.glob("results/checkpoints/*/seed*.ckpt.h5"))  # the dispatcher removed them
    assert (work / "results/checkpoints/conv_none_fp32/seed0.last.h5").is_file()  # what a raised cap continues
    log = (work / "logs/train/conv_none_fp32/seed0.log").read_text()
    assert '"stop_reason"' in log  # pinnfail's own output, through the fd-level redirect


def test_editing_one_equation_reruns_only_that_equation(built):
    work, preset = built

    def edit(cfg):
        cfg["pdes"]["wave"] = {"c": 2.0, "beta": 2.0}  # the preset's own `pdes` (heat) kept

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


def test_raising_max_iters_continues_the_finished_run(built, tmp_path):
    """A larger max_iters plans that run's training again and what depends on it, nothing else;
    the job continues the finished run (its copy kept beside the checkpoint, since Snakemake
    deletes the output first) from iteration 5: the history goes on, the provenance says so."""
    import h5py

    work = tmp_path / "copy"
    shutil.copytree(built[0], work, symlinks=True)
    preset = built[1]

    def edit(cfg):
        cfg["experiments"]["conv_double_fp32"]["max_iters"] = 10

    name = with_edit(work, preset, "longer.yaml", edit)
    run = "results/runs/conv_double_fp32/seed0/run.h5"
    assert planned_outputs(work, name) == {run, run.replace("run.h5", "eval.h5"), "results/table1.csv",
                                           "results/figures/fig1.png", "results/figures/fig6.png"}
    snakemake(work, run, "--configfile", name, env={"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"})
    with h5py.File(work / run) as f:
        assert (f.attrs["iterations"], f.attrs["continued_from_iteration"]) == (10, 5)
        assert json.loads(f.attrs["lbfgs_restarts"]) == [5]
        assert list(f["history"]["iteration"][()]) == [0, 5, 10]
        assert json.loads(f.attrs["continued_from"])["run"].endswith("results/checkpoints/conv_double_fp32/seed0.last.h5")


def test_figure_style_reruns_only_figures(built):
    work, preset = built

    def edit(cfg):
        cfg["figures"]["style"]["dpi"] = 41

    planned = planned_outputs(work, with_edit(work, preset, "style.yaml", edit))
    assert planned == {f"results/figures/{fig}.png" for fig in ("fig1", "fig3", "fig4", "fig5", "fig6")}


BAD_CONFIGS = [
    (lambda c: c["experiments"]["conv_l2_fp32"].update(regularizer="l3"), "experiments.conv_l2_fp32.regularizer"),
    (lambda c: c["experiments"]["conv_l2_fp32"].update(grid=[-3, 5]), "grid"),
    (lambda c: c.update(bogus=1), "bogus"),
    (lambda c: c["pdes"].update(heat={"k": 1.0}), "heat"),
    (lambda c: c["figures"]["panels"].update(fig1={"failure": "nope", "regularized": "conv_double_fp32"}), "nope"),
    (lambda c: c.update(doc_studies=["regularizers_quick"]), "doc_studies"),  # gone: docs/claims.md reads the archive
    (lambda c: c["pdes"]["convection"].update(beta=float("nan")), "pdes.convection.beta: nan is not a finite"),
    (lambda c: c["experiments"]["conv_l2_fp32"].update(**{"lambda": float("inf")}),
     "experiments.conv_l2_fp32.lambda: inf is not a finite"),
    (lambda c: c["evaluation"].update(error=float("-inf")), "evaluation.error: -inf is not a finite"),
    (lambda c: c["figures"].update(seed=7), "experiment 'conv_none_fp32' (figures.panels.fig1.failure) has no seed 7"),
    (lambda c: c["figures"]["panels"].update(fig5=dict.fromkeys(c["figures"]["panels"]["fig5"])),
     "figures.panels.fig5: every panel is null"),
    (lambda c: c["figures"]["panels"].update(fig4=dict.fromkeys(c["figures"]["panels"]["fig4"])),
     "figures.panels.fig4: every panel is null"),
    (lambda c: c["figures"].update(publish={"to": "docs/x", "figures": ["fig5", "fig9"]}),
     "figures.publish.figures: unknown figure(s) ['fig9']"),
    (lambda c: [c["study"][s].update(publish="docs/same") for s in ("regularizers_quick", "precision_quick")],
     "docs/same/study.md: published twice (publish_precision_quick, publish_regularizers_quick)"),
    (lambda c: c["table1"]["rows"].append({"method": "x", "experiment": "ghost"}),
     "].experiment: unknown experiment 'ghost'"),
    (lambda c: c["figures"]["panels"]["fig1"].update(failure="conv_none_fp3"),
     "figures.panels.fig1.failure: unknown experiment 'conv_none_fp3' ("),
    (lambda c: c["figures"]["panels"]["fig1"].update(failure="conv_none_fp3"), "did you mean 'conv_none_fp32'"),
    (lambda c: c["table1"]["rows"][0].update(experiment=["conv_double_fp32", "conv_none_fp32"]),
     "table1.rows[0].experiment: ['conv_double_fp32', 'conv_none_fp32'] differ in their settings"),
    (lambda c: c["study"]["regularizers"].update(figures=["fig6"]),
     "study.regularizers.figures: fig1 and fig6 need variants of one equation, got ['convection', 'reaction', 'wave']"),
]


@pytest.fixture(scope="module")
def workflow_copy(tmp_path_factory):
    """Snakefile, config.yaml and workflow/ for dry runs through the API (nothing is built)."""
    work = tmp_path_factory.mktemp("dry")
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, work / name)
    shutil.copytree(ROOT / "workflow", work / "workflow")
    return work


def bad_config(edit) -> dict:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    edit(cfg)
    return cfg


def test_bad_config_stops_snakemake_with_the_field_named(tmp_path):
    """End to end: the ``snakemake`` command exits non-zero naming the field, writing nothing."""
    edit, message = BAD_CONFIGS[0]
    work = copy_workflow(tmp_path / "wf")
    (work / "config.yaml").write_text(yaml.safe_dump(bad_config(edit)))
    proc = snakemake(work, "-n", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (work / "results").exists() and not (work / "data").exists()


@pytest.mark.parametrize("edit, message", BAD_CONFIGS)
def test_bad_config_stops_the_workflow_with_the_field_named(workflow_copy, tmp_path, edit, message):
    """Each bad config, as a --configfile over config.yaml (every key given: the edited config),
    stops the workflow as Snakemake loads it; nothing is written."""
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad_config(edit)))
    with pytest.raises(DryRunError) as err:
        planned_jobs([], [tmp_path / "bad.yaml"], workdir=workflow_copy)
    assert message in str(err.value)
    assert not (workflow_copy / "results").exists() and not (workflow_copy / "data").exists()


def test_lint_is_clean(workflow_copy):
    """``snakemake --lint``, through the API: no lint printed."""
    from pinnfail.workflow.dryrun import _Records

    records = _Records()
    with workflow(workflow_copy, records=records) as api:
        lints = api.lint()
    assert not lints, "\n".join(records.warnings)


def test_batch_seeds_switch_plans_one_job_per_experiment(workflow_copy, tmp_path):
    preset = tiny_preset()
    preset["batch_seeds"] = True
    preset["experiments"]["conv_l2_fp32"]["seeds"] = [0, 1, 2]
    (tmp_path / "batch.yaml").write_text(yaml.safe_dump(preset))
    jobs = planned_jobs(["results/runs/conv_l2_fp32/seed2/eval.h5"], [tmp_path / "batch.yaml"], workdir=workflow_copy)
    (train,) = [job for job in jobs if job.rule.startswith("train")]
    assert train.rule == "train_batch_conv_l2_fp32"  # its members: the three seeds first (then the
    assert train.outputs[:3] == [f"results/runs/conv_l2_fp32/seed{s}/run.h5" for s in (0, 1, 2)]  # study's twin)


# --- Library edits: each stage's code is the import closure of its entry module ---------------

LIBRARY = ROOT / "src" / "pinnfail"
MODULES = sorted(
    ".".join(("pinnfail", *path.relative_to(LIBRARY).with_suffix("").parts)).removesuffix(".__init__")
    for path in LIBRARY.rglob("*.py")
)
STAGE_PATTERNS = {  # the stage of a planned output (its job's first output)
    "reference": r"data/reference/", "train": r"results/runs/.*/run\.h5$", "evaluate": r"results/runs/.*/eval\.h5$",
    "table": r"results/table1\.csv$", "figures": r"results/figures/",
}
TRAINED = {"train", "evaluate", "table", "figures"}
EVERYTHING = {"reference"} | TRAINED
# What an edit must rerun (a stage that reruns takes everything downstream of it along).
EXPECTED = {
    "pinnfail": EVERYTHING,  # __init__ runs in every job
    "pinnfail.interfaces.cli": EVERYTHING,  # parses every job's arguments
    "pinnfail.interfaces.flags": EVERYTHING,  # the run flags and NAME=VALUE flags the CLI reads
    "pinnfail.workflow.manifest": EVERYTHING,  # the manifests every job's command reads
    "pinnfail.workflow.layout": set(),  # the paths: the workflow's DAG itself, not a job's result
    "pinnfail.interfaces.study_job": set(),  # only the studies
    "pinnfail.numerics.jets": EVERYTHING,  # the network's forward pass; pdes' exact-solution residuals
    "pinnfail.numerics.pdes": EVERYTHING,
    "pinnfail.artifacts.formats": EVERYTHING,
    "pinnfail.numerics.lbfgs": TRAINED,
    "pinnfail.numerics.losses": TRAINED,
    "pinnfail.numerics.model": TRAINED,
    "pinnfail.products.train": TRAINED,
    "pinnfail.numerics.collocation": TRAINED,
    "pinnfail.numerics.reference": {"reference", "evaluate", "table", "figures"},
    "pinnfail.products.evaluate": {"evaluate", "table", "figures"},
    "pinnfail.products.tables": {"table"},
    "pinnfail.products.figures": {"figures"},
    "pinnfail.products.study": set(),  # only the studies (not in the default target)
    "pinnfail.numerics.schedule": TRAINED,
    "pinnfail.artifacts.checkpoint": TRAINED,
    "pinnfail.products.captions": {"table", "figures"},  # the report captions those jobs write
    "pinnfail.products.evidence": set(),  # runs.csv and the convergence figure (not in the default target)
    "pinnfail.workflow.plan": set(),  # read by the workflow itself, not by any job
    "pinnfail.workflow.cluster": set(),
    "pinnfail.workflow.dryrun": set(),  # pinnfail cost's dry runs through Snakemake's API
    # the layer packages and the modules split out of others
    "pinnfail.numerics": EVERYTHING,  # every numerics module's package
    "pinnfail.artifacts": EVERYTHING,
    "pinnfail.products": TRAINED,
    "pinnfail.workflow": set(),  # the plan: read by the workflow itself
    "pinnfail.interfaces": set(),  # the CLI's own file is hashed, not its package
    "pinnfail.numerics.config": EVERYTHING,  # the run schema every artifact's reader validates with
    "pinnfail.numerics.solution": EVERYTHING,  # a reference as data: what every artifact reader knows
    "pinnfail.numerics._jax": EVERYTHING,
    "pinnfail.numerics.linesearch": TRAINED,
    "pinnfail.numerics.history": TRAINED,
    "pinnfail.artifacts.hdf5": EVERYTHING,
    "pinnfail.artifacts.files": EVERYTHING,
    "pinnfail.artifacts.provenance": EVERYTHING,
    "pinnfail.products.classes": {"evaluate", "table", "figures"},
    "pinnfail.products.figure_roles": {"figures"},
    "pinnfail.products.figures.panels": {"figures"},  # reached through the figures' registry
    "pinnfail.products.formatting": {"table", "figures"},
    "pinnfail.products.verdicts": set(),  # the claims ledger (not in the default target)
    "pinnfail.products.records": set(),
    "pinnfail.workflow.archive": set(),
    "pinnfail.workflow.variants": set(),
}


def stages_of(outputs) -> dict[str, set[str]]:
    found = {stage: set() for stage in STAGE_PATTERNS}
    for output in outputs:
        stage = [s for s, pattern in STAGE_PATTERNS.items() if re.search(pattern, output)]
        assert len(stage) == 1, output
        found[stage[0]].add(output)
    return found


@pytest.fixture(scope="module")
def every_job(built):
    return stages_of(planned_outputs(built[0], "tiny.yaml", forceall=True))


@pytest.mark.slow  # one dry run per library module (~40): minutes; CI runs it with -m slow
@pytest.mark.parametrize("module", MODULES)
def test_editing_a_module_reruns_exactly_the_stages_that_run_it(built, every_job, module):
    work, _ = built
    source = work / "src" / Path(*module.split(".")).with_suffix(".py")
    if not source.exists():
        source = source.with_suffix("") / "__init__.py"
    text = source.read_text()
    try:
        source.write_text(text + "\n# an edit\n")
        planned = stages_of(planned_outputs_by_snakemake(work, "tiny.yaml"))
    finally:
        source.write_text(text)
    rerun = {stage for stage, outputs in planned.items() if outputs}
    for stage in rerun:  # a code change reruns every job of a stage, never part of it
        assert planned[stage] == every_job[stage], (module, stage)
    if module in EXPECTED:
        assert rerun == EXPECTED[module], module
