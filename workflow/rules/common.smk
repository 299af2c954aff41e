# Config resolution shared by all rules: every job's params hold only its own
# settings, so Snakemake's params rerun trigger rebuilds exactly what changed.
import json

from pinnfail.config import ConfigError, run_config
from pinnfail.io import source_hash
from pinnfail.pdes import PDES
from pinnfail.study import expand_study

CODE = {
    "reference": source_hash("pdes", "reference", "io"),
    "train": source_hash("pdes", "model", "collocation", "losses", "lbfgs", "train", "config", "io"),
    "evaluate": source_hash("evaluate", "reference", "model", "pdes"),
    "table": source_hash("tables", "evaluate"),
    "figures": source_hash("figures", "evaluate"),
    "study": source_hash("study", "evaluate"),
}


def _experiment_config(name, spec):
    values = {**config.get("run_defaults", {}), **spec}
    values.pop("seeds")
    values["pde_params"] = {**config["pdes"].get(spec["pde"], {}), **values.get("pde_params", {})}
    try:
        return run_config(values, prefix=f"experiments.{name}")
    except ConfigError as err:
        raise WorkflowError(f"invalid configuration:\n{err}") from None


EXPERIMENTS = {name: _experiment_config(name, spec) for name, spec in config["experiments"].items()}
SEEDS = {name: list(spec["seeds"]) for name, spec in config["experiments"].items()}

# Regularizer studies: every variant becomes an experiment named <study>__<variant>.
STUDIES = {}
for _study, _spec in config.get("study", {}).items():
    STUDIES[_study] = expand_study(_spec)
    for _variant, _settings in STUDIES[_study].items():
        _name = f"{_study}__{_variant}"
        EXPERIMENTS[_name] = _experiment_config(_name, {**_settings, "seeds": _spec["seeds"]})
        SEEDS[_name] = list(_spec["seeds"])
for _study in config.get("doc_studies", []):
    if _study not in STUDIES:
        raise WorkflowError(f"doc_studies: unknown study {_study!r}; defined: {sorted(STUDIES)}")
FIGURES = sorted(config["figures"]["panels"])
BATCH = config.get("batch_seeds", False)

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


def cluster_resources(experiment, seeds=1):
    """Slurm resources of one training job (config.yaml `cluster:`).

    FP64 runs get `cluster.fp64` (by default an A100: gres gpu:a100:1), FP32 runs
    `cluster.fp32` (any GPU: gres gpu:1); `cluster.account` becomes slurm_account.
    Runtime (minutes) scales with max_iters x points (x3 for double PINN, x seeds for a
    batched job), memory (MB) with points x width x depth. A key whose value is empty
    ("" or null) is left out, so it never reaches sbatch (the Slurm plugin would pass
    an empty constraint as `-C ''`).
    """
    cfg = EXPERIMENTS[experiment]
    cluster = config.get("cluster") or {}
    nx, nt = cfg["grid"]
    points = nx * nt + cfg["n_initial"] + cfg["n_boundary"]
    cost = (
        cfg["max_iters"]
        * max(points, cluster.get("min_points", 2000))
        * (3 if cfg["regularizer"] == "double" else 1)
        * seeds
    )
    minutes = cluster.get("minutes_per_giga_point_iteration", 10.0) * cost / 1e9 * cluster.get("runtime_safety", 2.0)
    runtime = int(min(max(minutes, cluster.get("min_runtime", 10)), cluster.get("max_runtime", 2880)))
    values = points * cfg["width"] * cfg["depth"] * seeds / 1e6
    mem_mb = int(cluster.get("mem_mb_base", 4000) + cluster.get("mem_mb_per_mega_value", 16) * values)
    slurm = {"slurm_account": cluster.get("account"), **(cluster.get(cfg["precision"]) or {})}
    return {
        "runtime": runtime,
        "mem_mb": mem_mb,
        **{k: v for k, v in slurm.items() if v not in ("", None)},
    }


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
