# Config resolution shared by all rules: every job's params hold only its own
# settings, so Snakemake's params rerun trigger rebuilds exactly what changed.
import json
import os
import shlex

from pinnfail import cluster
from pinnfail.config import ConfigError
from pinnfail.io import source_hash
from pinnfail.pdes import PDES
from pinnfail.plan import batch_jobs, plan

CODE = {
    "reference": source_hash("pdes", "reference", "io"),
    "train": source_hash("pdes", "model", "collocation", "losses", "lbfgs", "train", "config", "io"),
    "evaluate": source_hash("evaluate", "reference", "model", "pdes"),
    "table": source_hash("tables", "evaluate"),
    "figures": source_hash("figures", "evaluate"),
    "study": source_hash("study", "evaluate"),
    "evidence": source_hash("evidence", "evaluate", "tables", "figures"),
}


try:
    EXPERIMENTS, SEEDS, STUDIES = plan(config)  # study variants become <study>__<variant>
except ConfigError as err:
    raise WorkflowError(f"invalid configuration:\n{err}") from None
for _study in config.get("doc_studies", []):
    if _study not in STUDIES:
        raise WorkflowError(f"doc_studies: unknown study {_study!r}; defined: {sorted(STUDIES)}")
FIGURES = sorted(config["figures"]["panels"])
BATCH = config.get("batch_seeds", False)
# With batch_seeds: one job per group of experiments that differ only in lambda.
TRAIN_JOBS = batch_jobs(EXPERIMENTS, SEEDS) if BATCH else []
CLUSTER = config.get("cluster") or {}
# The training jobs' GPU guard (`pinnfail train --require-gpu`), set in the environment rather
# than as a param so that switching it never retrains finished runs; a Slurm job re-reads this.
os.environ.update(PINNFAIL_REQUIRE_GPU="1" if cluster.setting(CLUSTER, "require_gpu") else "0")

for _row in config["table1"]["rows"]:
    if _row["experiment"] not in EXPERIMENTS:
        raise WorkflowError(
            f"table1.rows: unknown experiment {_row['experiment']!r}; defined: {sorted(EXPERIMENTS)}"
        )
for _figure, _roles in config["figures"]["panels"].items():
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


def run_path(experiment, seed, kind="run"):
    return f"results/runs/{experiment}/seed{seed}/{kind}.h5"


def run_json(experiment, seed):
    """The complete, validated run config of one (experiment, seed): the train job's params."""
    return json.dumps({**EXPERIMENTS[experiment], "seed": int(seed)}, sort_keys=True)


def reference_of(experiment):
    return f"data/reference/{EXPERIMENTS[experiment]['pde']}.h5"


def cluster_resources(experiment, members=1):
    """Slurm resources of a job training `members` runs of `experiment` (pinnfail.cluster)."""
    return cluster.job_resources(EXPERIMENTS[experiment], members, CLUSTER)


def train_batch_argv(job, outputs):
    """`pinnfail train` arguments of one batched job: members differ in seed (and lambda)."""
    argv = ["train", "--config-json", json.dumps(job.config, sort_keys=True), "--keep-checkpoint",
            "--seeds", *(str(m.seed) for m in job.members)]
    if len(set(job.lambdas)) > 1:
        argv += ["--lambdas", *(repr(lam) for lam in job.lambdas)]
    return argv + ["--outs", *outputs]


def table_evals(wc=None):
    return [run_path(row["experiment"], s, "eval") for row in config["table1"]["rows"] for s in SEEDS[row["experiment"]]]


def table_args():
    return " ".join(
        "--row '{}={}'".format(
            row["method"], ",".join(run_path(row["experiment"], s, "eval") for s in SEEDS[row["experiment"]])
        )
        for row in config["table1"]["rows"]
    )


def figure_seed(experiment):
    seed = config["figures"].get("seed", 0)
    return seed if seed in SEEDS[experiment] else SEEDS[experiment][0]


def figure_inputs(wc):
    roles = config["figures"]["panels"][wc.figure]
    files = {}
    for role, name in roles.items():
        files[f"{role}_run"] = run_path(name, figure_seed(name))
        files[f"{role}_eval"] = run_path(name, figure_seed(name), "eval")
        files[f"{role}_reference"] = reference_of(name)
    return files


def figure_args(wc):
    roles = config["figures"]["panels"][wc.figure]
    args = []
    for role, name in sorted(roles.items()):
        seed = figure_seed(name)
        args.append(f"--run {role}={run_path(name, seed)}:{run_path(name, seed, 'eval')}")
    pdes = sorted({EXPERIMENTS[name]["pde"] for name in roles.values()})
    args += [f"--reference {pde}=data/reference/{pde}.h5" for pde in pdes]
    style = config["figures"].get("style", {})
    args += [f"--style {k}={v}" for k, v in sorted(style.items())]
    return " ".join(args)


def study_pairs(study):
    return {
        variant: [(run_path(f"{study}__{variant}", s), run_path(f"{study}__{variant}", s, "eval"))
                  for s in SEEDS[f"{study}__{variant}"]]
        for variant in STUDIES[study]
    }


def study_inputs(study):
    return [path for pairs in study_pairs(study).values() for pair in pairs for path in pair]


def study_args(studies):
    """`pinnfail study` arguments for the variants of one or several studies, aggregated together."""
    pairs, settings = {}, {}
    for study in studies:
        for variant, runs in study_pairs(study).items():
            if variant in pairs:
                raise WorkflowError(f"doc_studies: variant {variant!r} appears in more than one study")
            pairs[variant], settings[variant] = runs, STUDIES[study][variant]
    args = [f"--variant {variant}=" + ",".join(f"{r}:{e}" for r, e in runs) for variant, runs in pairs.items()]
    title = "; ".join(config["study"][study].get("title", study) for study in studies)
    return " ".join(args) + f" --settings '{json.dumps(settings, sort_keys=True)}' --title '{title}'"


def study_figure_args(study):
    roles = config["study"][study]["figure"]
    seed = SEEDS[f"{study}__{roles['none']}"][0]
    args = [f"--run {role}={run_path(f'{study}__{v}', seed)}:{run_path(f'{study}__{v}', seed, 'eval')}"
            for role, v in sorted(roles.items())]
    pdes = sorted({STUDIES[study][v]["pde"] for v in roles.values()})
    args += [f"--reference {pde}=data/reference/{pde}.h5" for pde in pdes]
    args += [f"--style {k}={v}" for k, v in sorted(config["figures"].get("style", {}).items())]
    return " ".join(args)


def study_figure_inputs(study):
    roles = config["study"][study]["figure"]
    seed = SEEDS[f"{study}__{roles['none']}"][0]
    files = [run_path(f"{study}__{v}", seed, k) for v in roles.values() for k in ("run", "eval")]
    return files + sorted({f"data/reference/{STUDIES[study][v]['pde']}.h5" for v in roles.values()})


def table1_runs():
    """(method, experiment, run.h5, eval.h5) of every run behind a Table 1 row."""
    return [(row["method"], row["experiment"], run_path(row["experiment"], s), run_path(row["experiment"], s, "eval"))
            for row in config["table1"]["rows"] for s in SEEDS[row["experiment"]]]


def study_runs(study):
    return [(variant, f"{study}__{variant}", r, e) for variant, pairs in study_pairs(study).items() for r, e in pairs]


def runs_argv(runs):
    argv = [arg for method, name, r, e in runs for arg in ("--run", f"{name}={r}:{e}", "--method", f"{name}={method}")]
    return shlex.join(argv)


def files_of(runs):
    return [path for *_, r, e in runs for path in (r, e)]
