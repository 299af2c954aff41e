# Config resolution shared by all rules: validation, then every job's params hold only its own
# settings and code, so Snakemake's params rerun trigger rebuilds exactly what changed. Rules
# run `pinnfail` through workflow/scripts/pinnfail_cli.py with an argument list (no shell).
import json
import os
import shlex
from pathlib import Path

import yaml

from pinnfail import cluster
from pinnfail.config import validate, workflow_schema
from pinnfail.pdes import PDES, load_plugin
from pinnfail.plan import CONTINUED, batch_jobs, plan
from pinnfail.plan import archived as archived_run
from pinnfail.sources import code_hash, module_file


def _check(step, *args, **kwargs):
    """step(...), a configuration error (ConfigError, a plugin that cannot load) as WorkflowError."""
    try:
        return step(*args, **kwargs)
    except ValueError as err:
        raise WorkflowError(f"invalid configuration:\n{err}") from None


# Equations from plugin files first: the schema's equation names come from the registry.
PDE_PLUGINS = list(config.get("pde_plugins") or [])
for _plugin in PDE_PLUGINS:
    _check(load_plugin, _plugin)
_check(validate, config, workflow_schema(workflow.source_path("../schemas/config.schema.yaml")))

# The entry module of each stage (the one place naming them). A stage's code is the import
# closure of its entry within pinnfail (computed from the sources), the CLI module that
# parses its arguments and the plugin files: editing any of them reruns exactly that stage.
STAGE_MODULES = {
    "reference": ("pinnfail.reference",),
    "train": ("pinnfail.train",),
    "evaluate": ("pinnfail.evaluate",),
    "table": ("pinnfail.tables", "pinnfail.captions"),
    "figures": ("pinnfail.figures", "pinnfail.captions"),
    "study": ("pinnfail.study", "pinnfail.captions"),
    "evidence": ("pinnfail.evidence",),
    "claims": ("pinnfail.ledger",),
}
CODE = {
    stage: code_hash(*modules, files=[module_file("pinnfail.cli"), *PDE_PLUGINS])
    for stage, modules in STAGE_MODULES.items()
}


def pinnfail_argv(command, *args):
    """`pinnfail COMMAND ARGS...` as an argument list (the plugins named before the command)."""
    plugins = [arg for path in PDE_PLUGINS for arg in ("--pde-plugin", path)]
    return [*plugins, command, *map(str, args)]


def _value(value):
    """A config value as pinnfail's NAME=VALUE flags read it back (YAML)."""
    return yaml.safe_dump(value, default_flow_style=True, width=float("inf")).removesuffix("\n...\n").strip()


# Every experiment's validated run config (pinnfail.plan); study variants become <study>__<variant>.
EXPERIMENTS, SEEDS, STUDIES = _check(plan, config)
# The figures' panels {figure: {role: experiment}}; a null role (fig5's equations) is left out.
PANELS = {figure: {role: name for role, name in roles.items() if name is not None}
          for figure, roles in config["figures"]["panels"].items()}
for _figure, _roles in PANELS.items():
    if not _roles:
        raise WorkflowError(f"figures.panels.{_figure}: every panel is null; give at least one experiment")
FIGURES = sorted(PANELS)
BATCH = config.get("batch_seeds", False)
CLUSTER = config.get("cluster") or {}
# The training jobs' GPU guard (`pinnfail train --require-gpu`), set in the environment rather
# than as a param so that switching it never retrains finished runs; a Slurm job re-reads this.
os.environ.update(PINNFAIL_REQUIRE_GPU="1" if cluster.setting(CLUSTER, "require_gpu") else "0")

for _row in config["table1"]["rows"]:
    if _row["experiment"] not in EXPERIMENTS:
        raise WorkflowError(
            f"table1.rows: unknown experiment {_row['experiment']!r}; defined: {sorted(EXPERIMENTS)}"
        )
for _figure, _roles in PANELS.items():
    for _role, _name in _roles.items():
        if _name not in EXPERIMENTS:
            raise WorkflowError(
                f"figures.panels.{_figure}.{_role}: unknown experiment {_name!r}; defined: {sorted(EXPERIMENTS)}"
            )


wildcard_constraints:
    pde="|".join(PDES),
    experiment="[A-Za-z0-9_]+",
    seed=r"\d+",
    figure="fig[0-9]+",


def out_path(experiment, seed, kind="run"):
    """Where the pipeline writes a run's run.h5 (kind "run") or eval.h5 (kind "eval")."""
    return f"results/runs/{experiment}/seed{seed}/{kind}.h5"


# Committed runs (`archive:` folders, laid out like results/runs): a run whose stored config
# equals the planned one is read from there instead of trained, and its eval.h5 too if made with
# the current evaluation settings (pinnfail.plan.archived); a fresh clone retrains nothing
# committed. Editing an experiment's settings trains it anew.
ARCHIVE = list(config.get("archive") or [])
# The claims ledger reads every committed run of the archive folders (pinnfail.ledger).
CLAIMS_DOC = "docs/claims.md"
CLAIMS_FOLDERS = sorted({str(p) for pattern in ARCHIVE for p in Path().glob(pattern) if p.is_dir()})
_ARCHIVED = {}


def archived(experiment, seed):
    key = (experiment, int(seed))
    if key not in _ARCHIVED:
        _ARCHIVED[key] = (None, None) if not ARCHIVE else archived_run(
            ARCHIVE, experiment, int(seed), EXPERIMENTS[experiment], config["evaluation"],
            config["reference"].get(EXPERIMENTS[experiment]["pde"]))
    return _ARCHIVED[key]


def run_path(experiment, seed, kind="run"):
    """A run's run.h5 or eval.h5 as its consumers read it: the committed one if archived."""
    found = dict(zip(("run", "eval"), archived(experiment, seed)))[kind]
    return found or out_path(experiment, seed, kind)


# With batch_seeds: one job per group of experiments that differ only in lambda, over the seeds
# not read from the archive.
TRAIN_JOBS = [job for job in batch_jobs(EXPERIMENTS, {e: [s for s in seeds if not archived(e, s)[0]]
                                                       for e, seeds in SEEDS.items()}) if job.members] if BATCH else []


def run_json(experiment, seed):
    """The complete, validated run config of one (experiment, seed), as JSON."""
    return json.dumps({**EXPERIMENTS[experiment], "seed": int(seed)}, sort_keys=True)


def reference_of(experiment):
    return f"data/reference/{EXPERIMENTS[experiment]['pde']}.h5"


def cluster_resources(experiment, members=1):
    """Slurm resources of a job training `members` runs of `experiment` (pinnfail.cluster)."""
    return cluster.job_resources(EXPERIMENTS[experiment], members, CLUSTER)


def table_evals(wc=None):
    return [run_path(row["experiment"], s, "eval") for row in config["table1"]["rows"] for s in SEEDS[row["experiment"]]]


def table_argv():
    rows = [
        "--row={}={}".format(row["method"], ",".join(run_path(row["experiment"], s, "eval") for s in SEEDS[row["experiment"]]))
        for row in config["table1"]["rows"]
    ]
    note = config["table1"].get("note")
    return pinnfail_argv("table1", *rows, *([f"--note={note}"] if note else []))


def figure_seed(experiment):
    """The seed the figures show: `figures.seed`, which each panel's experiment must have."""
    return config["figures"].get("seed", SEEDS[experiment][0])


for _figure, _roles in PANELS.items():
    for _role, _name in _roles.items():
        if figure_seed(_name) not in SEEDS[_name]:
            raise WorkflowError(
                f"figures.seed: experiment {_name!r} (figures.panels.{_figure}.{_role}) has no seed "
                f"{figure_seed(_name)}; its seeds: {SEEDS[_name]}"
            )


def figure_inputs(wc):
    roles = PANELS[wc.figure]
    files = {}
    for role, name in roles.items():
        files[f"{role}_run"] = run_path(name, figure_seed(name))
        files[f"{role}_eval"] = run_path(name, figure_seed(name), "eval")
        files[f"{role}_reference"] = reference_of(name)
    return files


def _figure_argv(name, runs, pdes):
    """`pinnfail figure NAME`: runs {role: (run, eval)}, the references of `pdes`, the style."""
    return pinnfail_argv(
        "figure", name,
        *[f"--run={role}={run}:{evaluation}" for role, (run, evaluation) in sorted(runs.items())],
        *[f"--reference={pde}=data/reference/{pde}.h5" for pde in sorted(pdes)],
        *[f"--style={k}={_value(v)}" for k, v in sorted(config["figures"].get("style", {}).items())],
    )


def figure_argv(wc):
    roles = PANELS[wc.figure]
    runs = {role: (run_path(name, figure_seed(name)), run_path(name, figure_seed(name), "eval"))
            for role, name in roles.items()}
    return _figure_argv(wc.figure, runs, {EXPERIMENTS[name]["pde"] for name in roles.values()})


def pair(experiment, seed):
    return run_path(experiment, seed), run_path(experiment, seed, "eval")


def staged(study):
    """Does the study add seeds or continue runs after its sweep (a selection checkpoint)?"""
    spec = config["study"][study]
    return bool(spec.get("confirm_seeds") or spec.get("continue_plateaus"))


def selection_path(study):
    return f"results/studies/{study}/selection.json"


def selection(study):
    """The sweep's selection (`pinnfail study-select`), once its checkpoint has run; before,
    this raises Snakemake's IncompleteCheckpointException (input functions only)."""
    path = getattr(checkpoints, f"study_select_{study}").get().output[0]
    with open(path) as f:
        return json.load(f)


def study_pairs(study, plan=None):
    """{variant: [(run.h5, eval.h5) per seed]}: the sweep's seeds, plus the seeds the selection
    PLAN (a loaded selection.json) adds."""
    extra = (plan or {}).get("confirm", {})
    return {
        variant: [pair(f"{study}__{variant}", s)
                  for s in dict.fromkeys([*SEEDS[f"{study}__{variant}"], *extra.get(variant, [])])]
        for variant in STUDIES[study]
    }


def continued_runs(study, plan):
    """[(variant, seed, run.h5, eval.h5)] of the sweep runs the selection continues past the stop rule."""
    return [(v, s, *pair(f"{study}__{v}{CONTINUED}", s)) for v, s in plan.get("continue", [])]


def study_inputs(study, plan=None):
    return [path for pairs in study_pairs(study, plan).values() for pair_ in pairs for path in pair_]


def final_inputs(study):
    """Input function: every run of a study (after its selection, if staged) and the reference."""

    def inputs(wc=None):
        plan = selection(study) if staged(study) else None
        files = study_inputs(study, plan)
        if plan:
            files += [selection_path(study)] + [p for *_, r, e in continued_runs(study, plan) for p in (r, e)]
        return files + sorted({f"data/reference/{STUDIES[study][v]['pde']}.h5" for v in STUDIES[study]})

    return inputs


def _variant_flags(studies, plans):
    """--variant and --settings flags of the studies' variants; a variant name that several
    studies share (e.g. wave_none_fp64 on two grids) is given as its experiment, STUDY__VARIANT."""
    found = [(study, variant, runs) for study in studies for variant, runs in study_pairs(study, plans.get(study)).items()]
    shared = {v for _, v, _ in found if sum(v == w for _, w, _ in found) > 1}
    pairs, settings = {}, {}
    for study, variant, runs in found:
        if variant in shared and staged(study):  # its continued runs are named by the bare variant
            raise WorkflowError(f"study: variant {variant!r} appears in more than one study")
        name = f"{study}__{variant}" if variant in shared else variant
        pairs[name], settings[name] = runs, EXPERIMENTS[f"{study}__{variant}"]
    variants = [f"--variant={variant}=" + ",".join(f"{r}:{e}" for r, e in runs) for variant, runs in pairs.items()]
    return [*variants, f"--settings={json.dumps(settings, sort_keys=True)}"]


def study_argv(studies, *args):
    """`pinnfail study` for the variants of one or several studies, aggregated together (after
    their selections, for staged studies: call it only once their checkpoints have run)."""
    plans = {study: selection(study) for study in studies if staged(study)}
    extra = []
    for study, plan in plans.items():
        extra += [f"--selection={selection_path(study)}"]
        extra += [a for v, s, r, e in continued_runs(study, plan) for a in ("--continued", v, s, r, e)]
    if plans:
        sweeps = {tuple(config["study"][study]["seeds"]) for study in plans}
        if len(sweeps) > 1:
            raise WorkflowError(f"study: staged studies must share their sweep's seeds, got {sorted(sweeps)}")
        extra += ["--sweep-seeds", *sweeps.pop()]
    title = "; ".join(config["study"][study].get("title", study) for study in studies)
    return pinnfail_argv("study", *_variant_flags(studies, plans), *extra, f"--title={title}", *args)


def study_select_argv(study):
    spec = config["study"][study]
    return pinnfail_argv("study-select", *_variant_flags([study], {}),
                         "--confirm-seeds", *spec.get("confirm_seeds", []),
                         "--continue-runs", (spec.get("continue_plateaus") or {}).get("runs", 0))


def study_figure_flags(study):
    """`pinnfail study --figure NAME PNG PDF ...`: the figures the study draws from its selection."""
    names = config["study"][study].get("figures", [])
    if not names:
        return []
    flags = [a for n in names for a in ("--figure", n, f"results/studies/{study}/{n}.png",
                                        f"results/studies/{study}/{n}.pdf")]
    style = [f"--style={k}={_value(v)}" for k, v in sorted(config["figures"].get("style", {}).items())]
    if set(names) <= {"convergence"}:
        return [*flags, *style]
    pde = {STUDIES[study][v]["pde"] for v in STUDIES[study]}
    if len(pde) != 1:
        raise WorkflowError(f"study.{study}.figures: fig1 and fig6 need variants of one equation, got {sorted(pde)}")
    return [*flags, f"--reference=data/reference/{pde.pop()}.h5", *style]


def caption_of(path):
    """The report caption (rst) a job writes beside its reported output PATH."""
    return os.path.splitext(path)[0] + ".rst"


def captioned(path, category, **wildcards):
    """report() of PATH with the caption its own job writes (caption_of(PATH)), WILDCARDS filled
    in. Snakemake resolves a relative caption against the rule file, but these live in the
    working directory (``--directory`` may move it): hence the absolute path."""
    return report(path, caption=os.path.abspath(caption_of(path.format(**wildcards))), category=category)


def checkpoint_of(run):
    """The checkpoint `pinnfail train --keep-checkpoint` leaves beside RUN.h5 (README)."""
    return f"{run}.ckpt.h5"


# A rule's params hold `argv`, everything its job's result depends on: functions of the
# wildcards only, because Snakemake leaves params computed from input or output out of the
# params rerun trigger. The output flags follow in `outputs` (the dispatcher appends them).


def train_argv(experiment, seed):
    """One training job of one run (its `--out` follows)."""
    return pinnfail_argv("train", "--config-json", run_json(experiment, seed), "--keep-checkpoint")


def train_batch_argv(job):
    """One batched job (pinnfail.plan.TrainJob): members differ in seed (and lambda); `--outs` follow."""
    lambdas = ["--lambdas", *map(repr, job.lambdas)] if len(set(job.lambdas)) > 1 else []
    return pinnfail_argv("train", "--config-json", json.dumps(job.config, sort_keys=True), "--keep-checkpoint",
                         "--seeds", *(m.seed for m in job.members), *lambdas)


def batch_outputs(job):
    return [out_path(m.experiment, m.seed) for m in job.members]


def reference_argv(wc):
    return pinnfail_argv(
        "reference", "--pde", wc.pde,
        *[f"--param={k}={_value(v)}" for k, v in sorted(config["pdes"].get(wc.pde, {}).items())],
        *[f"--set={k}={_value(v)}" for k, v in sorted(config["reference"].get(wc.pde, {}).items())],
    )


def evaluate_argv(wc):
    evaluation = config["evaluation"]
    return pinnfail_argv(
        "evaluate", run_path(wc.experiment, wc.seed), "--reference", reference_of(wc.experiment),
        *[f"--threshold={k}={_value(v)}" for k, v in sorted(evaluation.items()) if k != "residual_grid"],
        "--residual-grid", "{}x{}".format(*evaluation.get("residual_grid", [256, 256])),
    )


def output_flags(*flags):
    """params.outputs: `--FLAG PATH` for the rule's outputs, in order."""

    def outputs(wildcards, output):
        return [arg for flag, path in zip(flags, output, strict=True) for arg in (f"--{flag}", path)]

    return outputs


def table1_runs():
    """(method, experiment, run.h5, eval.h5) of every run behind a Table 1 row."""
    return [(row["method"], row["experiment"], run_path(row["experiment"], s), run_path(row["experiment"], s, "eval"))
            for row in config["table1"]["rows"] for s in SEEDS[row["experiment"]]]


def study_runs(study):
    """(method, experiment, run.h5, eval.h5) of every run of a study, the continued ones too
    (after its selection, for a staged study: input functions and params functions only)."""
    plan = selection(study) if staged(study) else None
    runs = [(variant, f"{study}__{variant}", r, e) for variant, pairs in study_pairs(study, plan).items()
            for r, e in pairs]
    return runs + [(f"{v} continued", f"{study}__{v}{CONTINUED}", r, e) for v, _, r, e in continued_runs(study, plan or {})]


def runs_argv(runs):
    """`pinnfail runs`: one line per run, the method column from the Table 1 row or study variant."""
    return pinnfail_argv("runs", *[arg for method, name, r, e in runs
                                   for arg in (f"--run={name}={r}:{e}", f"--method={name}={method}")])


def convergence_argv(runs):
    return pinnfail_argv("convergence", *[f"--run={method}={r}:{e}" for method, _, r, e in runs])


def files_of(runs):
    return [path for *_, r, e in runs for path in (r, e)]


def _published():
    """{publishing rule's name: (folder, products)}: every `publish:` setting (a study's, table1's, the
    figures'), the products it copies into a folder where they are committed."""
    found = {}
    for study in STUDIES:
        spec = config["study"][study]
        if spec.get("publish"):
            names = ["study.md", "study.csv", "runs.csv",
                     *[f"{n}.{k}" for n in spec.get("figures", []) for k in ("png", "pdf")]]
            found[f"publish_{study}"] = (spec["publish"], [f"results/studies/{study}/{n}" for n in names])
    if config["table1"].get("publish"):
        found["publish_table1"] = (config["table1"]["publish"], ["results/table1.csv", "results/table1.md"])
    spec = config["figures"].get("publish")
    if spec:
        unknown = [f for f in spec["figures"] if f not in PANELS]
        if unknown:
            raise WorkflowError(f"figures.publish.figures: unknown figure(s) {unknown}; defined: {FIGURES}")
        for figure in spec["figures"]:  # one job each: a figure is published once its runs are
            found[f"publish_figure_{figure}"] = (spec["to"], [f"results/figures/{figure}.{k}"  # + its caption
                                                              for k in ("png", "pdf", "rst")])
    copies = {}
    for name, (folder, products) in found.items():
        for product in products:
            copy = os.path.normpath(os.path.join(folder, os.path.basename(product)))
            if copy in copies:
                raise WorkflowError(f"{copy}: published twice ({copies[copy]}, {name}); give them different folders")
            copies[copy] = name
    return found


PUBLISHED = _published()
