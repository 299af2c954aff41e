# Config resolution shared by all rules: validation, then every job's params hold only its own
# settings and code, so Snakemake's params rerun trigger rebuilds exactly what changed. Rules
# run `pinnfail` through workflow/scripts/pinnfail_cli.py with an argument list (no shell).
import json

import yaml

from pinnfail.config import run_config, validate, workflow_schema
from pinnfail.pdes import PDES, load_plugin
from pinnfail.sources import code_hash, module_file
from pinnfail.study import expand_study


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
    "reference": "pinnfail.reference",
    "train": "pinnfail.train",
    "evaluate": "pinnfail.evaluate",
    "table": "pinnfail.tables",
    "figures": "pinnfail.figures",
    "study": "pinnfail.study",
}
CODE = {
    stage: code_hash(module, files=[module_file("pinnfail.cli"), *PDE_PLUGINS])
    for stage, module in STAGE_MODULES.items()
}


def pinnfail_argv(command, *args):
    """`pinnfail COMMAND ARGS...` as an argument list (the plugins named before the command)."""
    plugins = [arg for path in PDE_PLUGINS for arg in ("--pde-plugin", path)]
    return [*plugins, command, *map(str, args)]


def _value(value):
    """A config value as pinnfail's NAME=VALUE flags read it back (YAML)."""
    return yaml.safe_dump(value, default_flow_style=True, width=float("inf")).removesuffix("\n...\n").strip()


def _experiment_config(name, spec):
    values = {**config.get("run_defaults", {}), **spec}
    values.pop("seeds")
    values["pde_params"] = {**config["pdes"].get(spec["pde"], {}), **values.get("pde_params", {})}
    return _check(run_config, values, prefix=f"experiments.{name}")


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
    """The complete, validated run config of one (experiment, seed), as JSON."""
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


def table_argv():
    rows = [
        "--row={}={}".format(row["method"], ",".join(run_path(row["experiment"], s, "eval") for s in SEEDS[row["experiment"]]))
        for row in config["table1"]["rows"]
    ]
    return pinnfail_argv("table1", *rows)


def figure_seed(experiment):
    """The seed the figures show: `figures.seed`, which each panel's experiment must have."""
    return config["figures"].get("seed", SEEDS[experiment][0])


for _figure, _roles in config["figures"]["panels"].items():
    for _role, _name in _roles.items():
        if figure_seed(_name) not in SEEDS[_name]:
            raise WorkflowError(
                f"figures.seed: experiment {_name!r} (figures.panels.{_figure}.{_role}) has no seed "
                f"{figure_seed(_name)}; its seeds: {SEEDS[_name]}"
            )


def figure_inputs(wc):
    roles = config["figures"]["panels"][wc.figure]
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
    roles = config["figures"]["panels"][wc.figure]
    runs = {role: (run_path(name, figure_seed(name)), run_path(name, figure_seed(name), "eval"))
            for role, name in roles.items()}
    return _figure_argv(wc.figure, runs, {EXPERIMENTS[name]["pde"] for name in roles.values()})


def study_pairs(study):
    return {
        variant: [(run_path(f"{study}__{variant}", s), run_path(f"{study}__{variant}", s, "eval"))
                  for s in SEEDS[f"{study}__{variant}"]]
        for variant in STUDIES[study]
    }


def study_inputs(study):
    return [path for pairs in study_pairs(study).values() for pair in pairs for path in pair]


def study_argv(studies, *args):
    """`pinnfail study` for the variants of one or several studies, aggregated together."""
    pairs, settings = {}, {}
    for study in studies:
        for variant, runs in study_pairs(study).items():
            if variant in pairs:
                raise WorkflowError(f"doc_studies: variant {variant!r} appears in more than one study")
            pairs[variant], settings[variant] = runs, STUDIES[study][variant]
    variants = [f"--variant={variant}=" + ",".join(f"{r}:{e}" for r, e in runs) for variant, runs in pairs.items()]
    title = "; ".join(config["study"][study].get("title", study) for study in studies)
    return pinnfail_argv("study", *variants, f"--settings={json.dumps(settings, sort_keys=True)}",
                         f"--title={title}", *args)


def study_figure_argv(study):
    roles = config["study"][study]["figure"]
    seed = SEEDS[f"{study}__{roles['none']}"][0]
    runs = {role: (run_path(f"{study}__{v}", seed), run_path(f"{study}__{v}", seed, "eval")) for role, v in roles.items()}
    return _figure_argv("fig6", runs, {STUDIES[study][v]["pde"] for v in roles.values()})


def study_figure_inputs(study):
    roles = config["study"][study]["figure"]
    seed = SEEDS[f"{study}__{roles['none']}"][0]
    files = [run_path(f"{study}__{v}", seed, k) for v in roles.values() for k in ("run", "eval")]
    return files + sorted({f"data/reference/{STUDIES[study][v]['pde']}.h5" for v in roles.values()})


def checkpoint_of(run):
    """The checkpoint `pinnfail train --keep-checkpoint` leaves beside RUN.h5 (README)."""
    return f"{run}.ckpt.h5"


# A rule's params hold `argv`, everything its job's result depends on: functions of the
# wildcards only, because Snakemake leaves params computed from input or output out of the
# params rerun trigger. The output flags follow in `outputs` (the dispatcher appends them).


def train_argv(experiment, seeds):
    """One training job; `--seeds` for a batch (its `--outs` follow)."""
    args = ["--config-json", run_json(experiment, seeds[0]), "--keep-checkpoint"]
    return pinnfail_argv("train", *args, *(["--seeds", *seeds] if len(seeds) > 1 else []))


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
        *[f"--threshold={k}={_value(evaluation[k])}" for k in ("overfit_ratio", "error") if k in evaluation],
        "--residual-grid", "{}x{}".format(*evaluation.get("residual_grid", [256, 256])),
    )


def output_flags(*flags):
    """params.outputs: `--FLAG PATH` for the rule's outputs, in order."""

    def outputs(wildcards, output):
        return [arg for flag, path in zip(flags, output, strict=True) for arg in (f"--{flag}", path)]

    return outputs
