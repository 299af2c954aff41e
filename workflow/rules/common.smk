# Config resolution shared by all rules: every job's params hold only its own
# settings, so Snakemake's params rerun trigger rebuilds exactly what changed.
import json

from pinnfail.config import ConfigError, run_config
from pinnfail.io import source_hash
from pinnfail.pdes import PDES

CODE = {
    "reference": source_hash("pdes", "reference", "io"),
    "train": source_hash("pdes", "model", "collocation", "losses", "lbfgs", "train", "config", "io"),
    "evaluate": source_hash("evaluate", "reference", "model", "pdes"),
    "table": source_hash("tables", "evaluate"),
    "figures": source_hash("figures", "evaluate"),
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
    """Slurm resources of a training job: FP64 to the A100 nodes, FP32 to any GPU.

    Runtime scales with max_iters x points (x3 for double PINN), memory with points.
    """
    cfg = EXPERIMENTS[experiment]
    cluster = config.get("cluster", {})
    kind = cluster.get(cfg["precision"], {})
    nx, nt = cfg["grid"]
    points = nx * nt + cfg["n_initial"] + cfg["n_boundary"]
    cost = cfg["max_iters"] * max(points, 1000) * (3 if cfg["regularizer"] == "double" else 1) * seeds
    minutes = cluster.get("minutes_per_giga_point_iteration", 2.0) * cost / 1e9
    runtime = int(min(max(minutes * cluster.get("runtime_safety", 1.5), 10), cluster.get("max_runtime", 2880)))
    return {
        "runtime": runtime,
        "mem_mb": int(2000 + 2 * points * cfg["width"] * cfg["depth"] * 8 / 1e6 * seeds),
        **{k: v for k, v in kind.items() if v not in ("", None)},
    }
