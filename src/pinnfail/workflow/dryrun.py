"""The jobs Snakemake plans for some targets, read through its Python API in this process.

``planned_jobs`` is ``snakemake -n`` without a second process and without parsing its
text: Snakemake's API (``snakemake.api.SnakemakeApi``) loads the workflow in ``workdir``,
builds the DAG and dry-runs it, and each job it would run is taken from the structured
record Snakemake logs for it (``LogEvent.JOB_INFO``, the record its logger plugins
receive): rule, outputs, wildcards and resources, evaluated for that job. Finished jobs
are not planned, exactly as in ``snakemake -n``. A workflow that Snakemake refuses (an
invalid config) raises ``DryRunError`` with Snakemake's message.

``workflow`` is the same API for other uses (``lint()``, ``dag().create_report(...)``).
Loading a workflow runs its Snakefile in this process: what that changes here (the
environment variables it sets, equations its plugin files register) is undone on exit.
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence


class PlannedJob(NamedTuple):
    rule: str
    outputs: list[str]
    wildcards: dict
    resources: dict
    inputs: list[str] = []
    local: bool = False  # a local rule: runs where Snakemake runs, never submitted


class DryRunError(ValueError):
    """Snakemake refused the workflow or the targets; the message is Snakemake's."""


class _Records(logging.Handler):
    """Snakemake's log records: the jobs it plans (JOB_INFO) and its error messages."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.jobs: list[PlannedJob] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        from snakemake_interface_logger_plugins.common import LogEvent

        if getattr(record, "event", None) == LogEvent.JOB_INFO:
            resources = record.resources
            resources = dict(resources.items()) if hasattr(resources, "items") else dict(resources or {})
            self.jobs.append(PlannedJob(record.rule_name, [str(o) for o in record.output],
                                        dict(record.wildcards or {}), resources,
                                        [str(i) for i in getattr(record, "input", None) or []]))
        elif record.levelno >= logging.WARNING and record.msg is not None:
            (self.errors if record.levelno >= logging.ERROR else self.warnings).append(record.getMessage())


@contextlib.contextmanager
def workflow(workdir: str | Path = ".", configfiles: Sequence[str | Path] = (), config: dict | None = None,
             snakefile: str | Path = "Snakefile", quiet: bool = True, records: _Records | None = None
             ) -> Iterator:
    """Snakemake's ``WorkflowApi`` of the workflow in ``workdir`` with ``--configfile
    CONFIGFILES`` (relative to ``workdir``) and ``--config CONFIG``. With ``quiet`` Snakemake
    prints nothing (its errors reach the DryRunError). Snakemake writes only its metadata
    folder ``.snakemake/`` in ``workdir``."""
    from snakemake.api import SnakemakeApi
    from snakemake.logging import logger
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    from pinnfail.numerics import pdes

    workdir = Path(workdir).absolute()
    records = records if records is not None else _Records()
    environ = dict(os.environ)
    try:
        with pdes.registry_kept(), SnakemakeApi(OutputSettings(enable_file_logging=False)) as api, \
                _listening(logger, records, quiet):
            yield api.workflow(
                resource_settings=ResourceSettings(cores=1),
                config_settings=ConfigSettings(config=dict(config or {}),
                                               configfiles=[workdir / p for p in configfiles]),
                workdir=workdir, snakefile=workdir / snakefile)
    except (DryRunError, AssertionError):
        raise
    except Exception as err:  # Snakemake's WorkflowError, ApiError, a rule's exception, ...
        raise DryRunError("\n".join([*records.errors, str(err)]).strip() or type(err).__name__) from err
    finally:
        for key in set(os.environ) - set(environ):
            del os.environ[key]
        os.environ.update({k: v for k, v in environ.items() if os.environ.get(k) != v})


def planned_jobs(targets: Sequence[str] = (), configfiles: Sequence[str | Path] = (), config: dict | None = None,
                 workdir: str | Path = ".", snakefile: str | Path = "Snakefile", forceall: bool = False,
                 quiet: bool = True) -> list[PlannedJob]:
    """Every job ``snakemake -n TARGETS --configfile CONFIGFILES --config CONFIG`` plans in
    ``workdir`` (every job of the targets with ``forceall``), in Snakemake's order; no lock
    is taken."""
    from snakemake.settings.types import DAGSettings, ExecutionSettings

    records = _Records()
    with workflow(workdir, configfiles, config, snakefile, quiet, records) as api:
        api.dag(DAGSettings(targets=set(targets), forceall=forceall)).execute_workflow(
            executor="dryrun", execution_settings=ExecutionSettings(lock=False))
        local = set(getattr(api._workflow, "_localrules", ()))  # the rules with `localrule: True`
    return [job._replace(local=job.rule in local) for job in records.jobs]


@contextlib.contextmanager
def _listening(logger: logging.Logger, handler: logging.Handler, quiet: bool):
    """``handler`` on Snakemake's logger; with ``quiet`` its own handlers print nothing."""
    levels = {h: h.level for h in logger.handlers}
    if quiet:
        for h in levels:
            h.setLevel(logging.CRITICAL + 1)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        for h, level in levels.items():
            h.setLevel(level)


def cost_preview(targets: Sequence[str], configfiles: Sequence[str] = (), rates_files: Sequence[str] = ()) -> list[dict]:
    """The training jobs ``snakemake -n TARGETS --configfile CONFIGFILES`` plans, each with its
    Slurm request and its cost priced by measured rates (``pinnfail cost``), sorted by name."""
    import yaml
    from snakemake.utils import update_config

    from pinnfail.workflow import layout
    from pinnfail.workflow.cluster import job_cost, load_rates
    from pinnfail.numerics.config import ConfigError
    from pinnfail.numerics.pdes import load_plugin
    from pinnfail.workflow.plan import plan

    config = yaml.safe_load(Path("config.yaml").read_text())
    for path in configfiles:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    for path in config.get("pde_plugins") or []:  # as the workflow does, before planning
        load_plugin(path)
    experiments = plan(config).experiments
    rates = load_rates(rates_files)
    try:
        planned = planned_jobs(targets, configfiles)
    except DryRunError as err:
        raise ConfigError(f"snakemake -n: {err}") from None
    jobs = []
    for job in planned:
        if not job.rule.startswith("train"):
            continue
        runs = [layout.parse_run_file(out) for out in job.outputs]
        name = job.rule if job.rule != "train" else f"{runs[0].experiment}/seed{runs[0].seed}"
        jobs.append({"name": name, **job_cost(experiments[runs[0].experiment], len(runs), job.resources, rates)})
    return sorted(jobs, key=lambda job: job["name"])
