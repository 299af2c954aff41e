# What the rules share. Everything computed from the config lives in pinnfail.workflow.plan.WorkflowPlan
# (validation, cross-reference checks, paths from pinnfail.workflow.layout, every job's manifest); this
# file keeps only what Snakemake owns: its errors, wildcards, checkpoints and report captions.
# Rules run `pinnfail` through workflow/scripts/pinnfail_cli.py with an argument list (no shell).
import json
import os

from pinnfail.workflow import cluster
from pinnfail.workflow import layout
from pinnfail.numerics.pdes import PDES
from pinnfail.workflow.plan import WorkflowPlan


def _check(step, *args, **kwargs):
    """step(...), a configuration error (ConfigError, a plugin that cannot load) as WorkflowError."""
    try:
        return step(*args, **kwargs)
    except ValueError as err:
        raise WorkflowError(f"invalid configuration:\n{err}") from None


PLAN = _check(WorkflowPlan, config, workflow.source_path("../schemas/config.schema.yaml"))
EXPERIMENTS, SEEDS, STUDIES, FIGURES = PLAN.experiments, PLAN.seeds, PLAN.studies, PLAN.figures
CLUSTER = PLAN.cluster
CODE = PLAN.code()
TRAIN_JOBS = PLAN.train_jobs()
PUBLISHED = PLAN.published
CLAIMS_FOLDERS = PLAN.claims_folders()


wildcard_constraints:
    pde="|".join(PDES),
    experiment="[A-Za-z0-9_]+",
    seed=r"\d+",
    figure="fig[0-9]+",


def selection(study):
    """A staged study's selection (`pinnfail study-select`), once its checkpoint has run (before,
    Snakemake's IncompleteCheckpointException: input and params functions only); else None."""
    if not PLAN.staged(study):
        return None
    path = getattr(checkpoints, f"study_select_{study}").get().output[0]
    with open(path) as f:
        return json.load(f)


def captioned(path, category, **wildcards):
    """report() of PATH with the caption its own job writes (layout.caption_of(PATH)), WILDCARDS
    filled in. Snakemake resolves a relative caption against the rule file, but these live in the
    working directory (``--directory`` may move it): hence the absolute path."""
    return report(path, caption=os.path.abspath(layout.caption_of(path.format(**wildcards))), category=category)


# A rule's params hold `argv`, everything its job's result depends on: functions of the
# wildcards only, because Snakemake leaves params computed from input or output out of the
# params rerun trigger. The output flags follow in `outputs` (the dispatcher appends them).


def output_flags(*flags):
    """params.outputs: `--FLAG PATH` for the rule's outputs, in order."""

    def outputs(wildcards, output):
        return [arg for flag, path in zip(flags, output, strict=True) for arg in (f"--{flag}", path)]

    return outputs
