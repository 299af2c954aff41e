"""Workflow planning: the run config of every experiment, the training jobs they make, and
(``WorkflowPlan``) every job's inputs, outputs and manifest.

The Snakemake rules (workflow/rules/common.smk) and ``pinnfail cost`` both plan from here. No
JAX: a dry run never imports it.
"""
from __future__ import annotations

import difflib
import json
from typing import Any, Mapping, NamedTuple

from pathlib import Path

from pinnfail.workflow import layout
import yaml

from pinnfail.numerics.config import NO_EFFECT_KEYS, ConfigError, run_config, with_pde_names
from pinnfail.workflow.variants import expand_study
from pinnfail.workflow.archive import archived
from pinnfail.workflow.archive import committed_runs
from pinnfail.workflow.archive import continuable

EVALUATION_SETTINGS = ("residual_grid", "test_set")  # `evaluation:` keys that are not thresholds
CONTINUED = "__continued"  # <study>__<variant>__continued: a variant's run continued past the stop rule


class Plan(NamedTuple):
    experiments: dict[str, dict]  # name -> complete run config (without seed)
    seeds: dict[str, list[int]]
    studies: dict[str, dict[str, dict]]  # study -> variant -> settings


class BatchMember(NamedTuple):
    experiment: str
    seed: int
    lam: float


class TrainJob(NamedTuple):
    """One batched training job: runs that share every setting but seed and lambda."""

    name: str  # the first member's experiment
    config: dict  # the shared run config, with the first member's lambda
    members: tuple[BatchMember, ...]

    @property
    def lambdas(self) -> list[float]:
        return [m.lam for m in self.members]


def experiment_config(config: Mapping[str, Any], name: str, spec: Mapping[str, Any], where: str | None = None
                      ) -> dict:
    """The validated run config of one experiment: run_defaults, its pde's parameters, its spec.
    A bad value is reported under the key where the user wrote it (``run_defaults.KEY``,
    ``pdes.PDE.PARAM`` or ``WHERE.KEY``, by default ``experiments.NAME``), naming the experiment
    it reached."""
    where = where or f"experiments.{name}"
    values = {**config.get("run_defaults", {}), **spec}
    values.pop("seeds")
    values["pde_params"] = {**config["pdes"].get(spec["pde"], {}), **values.get("pde_params", {})}
    try:
        return run_config(values, prefix=where)
    except ConfigError as err:
        raise ConfigError(_where_written(str(err), where, name, config, spec)) from None


def _where_written(message: str, where: str, name: str, config: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """``message`` about ``where.KEY...`` moved to the key the user wrote: the experiment's own,
    ``run_defaults`` or ``pdes.PDE`` (where a value of the latter reached experiment ``name``)."""
    if not message.startswith(where + "."):
        return message
    field, sep, rest = message[len(where) + 1:].partition(": ")
    key = field.split(".")[0]
    if key == "pdes":  # an equation parameter: pdes.PDE.PARAM
        param = field.split(".")[-1]
        if param not in (spec.get("pde_params") or {}):
            return f"{field}{sep}{rest} (reaches {where})"
    elif key not in spec and key in (config.get("run_defaults") or {}):
        return f"run_defaults.{field}{sep}{rest} (reaches {where})"
    return message


def plan(config: Mapping[str, Any]) -> Plan:
    """Experiments of the workflow config; every study variant becomes ``<study>__<variant>``.

    Raises ConfigError naming the experiment and field of an invalid setting.
    """
    experiments = {name: experiment_config(config, name, spec) for name, spec in config["experiments"].items()}
    seeds = {name: list(spec["seeds"]) for name, spec in config["experiments"].items()}
    studies = {}
    for study, spec in (config.get("study") or {}).items():
        try:
            studies[study] = expand_study(spec, config.get("run_defaults"))
        except ConfigError as err:
            text = str(err)  # a run setting of the study's base or a variant: named under the study
            raise ConfigError(f"study.{study}.{text[4:]}" if text.startswith("run.") else f"study.{study}: {text}") from None
        continued = spec.get("continue_plateaus")
        for variant, settings in studies[study].items():
            name = f"{study}__{variant}"
            experiments[name] = experiment_config(config, name, {**settings, "seeds": spec["seeds"]},
                                                  where=f"study.{study}")
            seeds[name] = list(spec["seeds"])
            if continued:  # which seeds is decided after the sweep (workflow/rules/study.smk)
                # the paper's rule replaced by a standstill test: L-BFGS whose line search finds
                # no decrease keeps its parameters and state, so an objective unchanged to the
                # last bit over the window never changes again
                experiments[name + CONTINUED] = {**experiments[name], "stop_tolerance": 0.0,
                                                 "max_iters": int(continued["max_iters"])}
                seeds[name + CONTINUED] = []
    return Plan(experiments, seeds, studies)


def workflow_schema(path) -> dict:
    """The workflow config schema at ``path``: ``definitions.pde_name`` enumerates the equation
    registry and ``figures.panels`` is generated from the figures' roles
    (``products.figure_roles``), so neither list is kept by hand."""
    from pinnfail.products.figure_roles import panels_schema

    schema = yaml.safe_load(Path(path).read_text())
    schema = with_pde_names(schema, schema["definitions"]["pde_name"])
    figures = schema["properties"]["figures"]["properties"]
    figures["panels"] = {**panels_schema({"$ref": "#/definitions/pde_name"}),
                         **{k: v for k, v in figures.get("panels", {}).items() if k == "description"}}
    return schema


def batch_jobs(experiments: Mapping[str, dict], seeds: Mapping[str, list[int]]) -> list[TrainJob]:
    """Training jobs with ``batch_seeds``: experiments whose configs differ only in lambda
    (a sweep) train in one job whose members differ in seed and lambda. Jobs and members
    keep the experiments' order."""
    groups: dict[str, list[str]] = {}
    for name, cfg in experiments.items():
        key = json.dumps({k: v for k, v in cfg.items() if k != "lambda"}, sort_keys=True)
        groups.setdefault(key, []).append(name)
    return [
        TrainJob(names[0], experiments[names[0]],
                 tuple(BatchMember(n, int(s), float(experiments[n]["lambda"])) for n in names for s in seeds[n]))
        for names in groups.values()
    ]


# The entry module of each workflow stage (the one place naming them). A stage's code is the
# import closure of its entries within pinnfail (pinnfail.workflow.sources), the CLI module that reads
# its manifest and the plugin files: editing any of them reruns exactly that stage's jobs.
STAGE_MODULES = {
    "reference": ("pinnfail.numerics.reference", "pinnfail.artifacts.formats"),
    "train": ("pinnfail.products.train",),
    "evaluate": ("pinnfail.products.evaluate",),
    "table": ("pinnfail.products.tables", "pinnfail.products.captions"),
    "figures": ("pinnfail.products.figures", "pinnfail.products.captions"),
    "study": ("pinnfail.interfaces.study_job",),
    "evidence": ("pinnfail.products.evidence",),
    "claims": ("pinnfail.products.ledger",),
}


# What reads a job's arguments: part of every stage's code.
CLI_MODULES = ("pinnfail.interfaces.cli", "pinnfail.interfaces.flags", "pinnfail.workflow.manifest")


class WorkflowPlan:
    """Everything the Snakemake rules need from a workflow config, computed once.

    Construction loads the PDE plugins, validates the config against the workflow schema and
    checks every cross-reference (Table 1 rows, figure panels and seeds, published copies,
    study figures); a bad one raises ConfigError in one line naming the field. The methods
    return paths (``pinnfail.workflow.layout``) and each job's argument list: ``pinnfail COMMAND
    --manifest JSON`` (``pinnfail.workflow.manifest``), a function of the job's wildcards only, so
    Snakemake's params rerun trigger sees every setting a result depends on. A staged study's
    methods take its selection (the loaded selection.json), which exists once its checkpoint ran.
    """

    def __init__(self, config: Mapping[str, Any], schema_path) -> None:
        from pinnfail.numerics.config import validate
        from pinnfail.numerics.pdes import load_plugin

        self.config = config
        self.plugins = [str(p) for p in config.get("pde_plugins") or []]
        for path in self.plugins:  # first: the schema's equation names come from the registry
            load_plugin(path)
        validate(config, workflow_schema(schema_path))
        self.experiments, self.seeds, self.studies = plan(config)
        self.panels = _panels(config["figures"]["panels"])
        self.batch = bool(config.get("batch_seeds", False))
        self.cluster = config.get("cluster") or {}
        self.archive = [str(p) for p in config.get("archive") or []]
        self.checkpoint_dir = str(config.get("checkpoint_dir") or layout.CHECKPOINTS)
        self._archived: dict = {}
        self._committed: dict | None = None
        self._check_references()
        self.published = self._published()

    # -- config facts ---------------------------------------------------------------------
    @property
    def figures(self) -> list[str]:
        return sorted(self.panels)

    def staged(self, study: str) -> bool:
        """Does the study add seeds or continue runs after its sweep (a selection checkpoint)?"""
        spec = self.config["study"][study]
        return bool(spec.get("confirm_seeds") or spec.get("continue_plateaus"))

    def figure_seed(self, experiment: str) -> int:
        """The seed the figures show: ``figures.seed``, else the experiment's first."""
        return self.config["figures"].get("seed", self.seeds[experiment][0])

    def pde_of(self, experiment: str) -> str:
        return self.experiments[experiment]["pde"]

    def code(self) -> dict[str, str]:
        """{stage: hash of its code} (STAGE_MODULES)."""
        from pinnfail.workflow.sources import code_hash, module_file

        files = [*map(module_file, CLI_MODULES), *self.plugins]
        return {stage: code_hash(*modules, files=files) for stage, modules in STAGE_MODULES.items()}

    @property
    def train_code(self) -> str:
        """The training stage's code hash: a kept finished run of other code is not continued."""
        if not hasattr(self, "_train_code"):
            self._train_code = self.code()["train"]
        return self._train_code

    def claims_folders(self) -> list[str]:
        """The archive folders that exist: the claims ledger reads their committed runs."""
        return sorted({str(p) for pattern in self.archive for p in Path().glob(pattern) if p.is_dir()})

    def claims_inputs(self) -> list[str]:
        """What the ledger reads: every committed run and evaluation, and each part's measured
        per-evaluation costs (``records.FEVAL_COST`` beside its runs/) where committed."""
        from pinnfail.products.records import FEVAL_COST

        folders = [Path(f) for f in self.claims_folders()]
        runs = [str(p) for folder in folders for p in folder.glob("*/seed*/*.h5")]
        costs = [str(folder.parent / FEVAL_COST) for folder in folders if (folder.parent / FEVAL_COST).is_file()]
        return sorted(runs + costs)

    # -- runs -----------------------------------------------------------------------------
    def archived(self, experiment: str, seed) -> tuple[str | None, str | None]:
        """(run.h5, eval.h5) committed in an ``archive:`` folder for this config (``archived``)."""
        key = (experiment, int(seed))
        if key not in self._archived:
            self._archived[key] = (None, None) if not self.archive else archived(
                self.archive, experiment, int(seed), self.experiments[experiment], self.config["evaluation"],
                self.config["reference"].get(self.pde_of(experiment)))
        return self._archived[key]

    def continued_from(self, experiment: str, seed) -> str | None:
        """The committed run that this planned run continues (``continuable``): a run of the same
        settings but ``max_iters`` (any experiment of the ``archive:`` folders), when this one is
        not itself committed."""
        if not self.archive or not self.config.get("continue_committed", True) or self.archived(experiment, seed)[0]:
            return None
        if self._committed is None:
            self._committed = committed_runs(self.archive)
        return continuable(self._committed, self.experiments[experiment], int(seed))

    def checkpoint(self, experiment: str, seed) -> str:
        return layout.checkpoint_of(experiment, seed, self.checkpoint_dir)

    def removed_after_training(self, experiment: str, seed) -> list[str]:
        """The checkpoint, once the run is finished, unless the run's ``keep_checkpoint`` keeps it
        (then a larger ``max_iters`` resumes it with its L-BFGS memory)."""
        return [] if self.experiments[experiment]["keep_checkpoint"] else [self.checkpoint(experiment, seed)]

    def run_path(self, experiment: str, seed, kind: str = "run") -> str:
        """A run's run.h5 or eval.h5 as its consumers read it: the committed one if archived."""
        found = dict(zip(layout.KINDS, self.archived(experiment, seed)))[kind]
        return found or layout.run_file(experiment, seed, kind)

    def pair(self, experiment: str, seed):
        from pinnfail.workflow.manifest import Pair

        return Pair(self.run_path(experiment, seed), self.run_path(experiment, seed, "eval"))

    def train_jobs(self) -> list[TrainJob]:
        """With batch_seeds: one job per group of experiments differing only in lambda, over the
        seeds not read from the archive."""
        if not self.batch:
            return []
        # committed runs are read, and continuations train one by one (rule train)
        todo = {e: [s for s in seeds if not self.archived(e, s)[0] and not self.continued_from(e, s)]
                for e, seeds in self.seeds.items()}
        return [job for job in batch_jobs(self.experiments, todo) if job.members]

    # -- argument lists -------------------------------------------------------------------
    def argv(self, command: str, *args) -> list[str]:
        """``pinnfail COMMAND ARGS...`` as an argument list (the plugins named before the command)."""
        plugins = [arg for path in self.plugins for arg in ("--pde-plugin", path)]
        return [*plugins, command, *map(str, args)]

    def job(self, command: str, manifest) -> list[str]:
        from pinnfail.workflow.manifest import dumps

        return self.argv(command, "--manifest", dumps(manifest))

    def train_argv(self, experiment: str, seed) -> list[str]:
        """One training job of one run (its ``--out`` follows): its checkpoint in
        ``checkpoint_dir``, the finished run kept beside it, the committed run it continues."""
        config = json.dumps({**self.experiments[experiment], "seed": int(seed)}, sort_keys=True)
        source = self.continued_from(experiment, seed)
        return self.argv("train", "--config-json", config, "--keep-checkpoint", "--keep-last",
                         "--code-version", self.train_code, "--checkpoints", self.checkpoint(experiment, seed),
                         *(["--continue-from", source] if source else []))

    def train_inputs(self, experiment: str, seed) -> list[str]:
        """What a training job reads: the committed run it continues, if any."""
        source = self.continued_from(experiment, seed)
        return [source] if source else []

    def train_batch_argv(self, job: TrainJob) -> list[str]:
        """A batched job: members differ in seed (and lambda); ``--outs`` follow."""
        lambdas = ["--lambdas", *map(repr, job.lambdas)] if len(set(job.lambdas)) > 1 else []
        return self.argv("train", "--config-json", json.dumps(job.config, sort_keys=True), "--keep-checkpoint",
                         "--keep-last", "--code-version", self.train_code, "--seeds", *(m.seed for m in job.members),
                         *lambdas,
                         "--checkpoints", *(self.checkpoint(m.experiment, m.seed) for m in job.members))

    @staticmethod
    def batch_outputs(job: TrainJob) -> list[str]:
        return [layout.run_file(m.experiment, m.seed) for m in job.members]

    def reference_argv(self, pde: str) -> list[str]:
        from pinnfail.workflow.manifest import ReferenceJob

        return self.job("reference", ReferenceJob(pde, dict(self.config["pdes"].get(pde, {})),
                                               dict(self.config["reference"].get(pde, {}))))

    def evaluate_argv(self, experiment: str, seed) -> list[str]:
        from pinnfail.workflow.manifest import Evaluate

        evaluation = self.config["evaluation"]
        return self.job("evaluate", Evaluate(
            self.run_path(experiment, seed), layout.reference_file(self.pde_of(experiment)),
            {k: v for k, v in sorted(evaluation.items()) if k not in EVALUATION_SETTINGS},
            list(evaluation.get("residual_grid", [256, 256])), evaluation.get("test_set")))

    # -- Table 1 and the figures ------------------------------------------------------------
    def table1_rows(self) -> list[tuple[str, list[tuple[str, int]]]]:
        """(method, [(experiment, seed)]) of each Table 1 row: the seeds of its experiment(s)."""
        return [(row["method"], [(e, s) for e in _names(row["experiment"]) for s in self.seeds[e]])
                for row in self.config["table1"]["rows"]]

    def table1_runs(self) -> list[tuple[str, str, str, str]]:
        """(method, experiment, run.h5, eval.h5) of every run behind a Table 1 row."""
        return [(method, e, *self.pair(e, s)) for method, runs in self.table1_rows() for e, s in runs]

    def table_argv(self) -> list[str]:
        from pinnfail.workflow.manifest import Row, Table1

        rows = [Row(method, [self.run_path(e, s, "eval") for e, s in runs]) for method, runs in self.table1_rows()]
        return self.job("table1", Table1(rows, self.config["table1"].get("note") or ""))

    def figure_inputs(self, figure: str) -> dict[str, str]:
        files = {}
        for role, name in self.panels[figure].items():
            pair = self.pair(name, self.figure_seed(name))
            files.update({f"{role}_run": pair.run, f"{role}_eval": pair.eval,
                          f"{role}_reference": layout.reference_file(self.pde_of(name))})
        return files

    def figure_argv(self, figure: str) -> list[str]:
        from pinnfail.workflow.manifest import Figure

        roles = self.panels[figure]
        runs = {role: self.pair(name, self.figure_seed(name)) for role, name in sorted(roles.items())}
        references = {pde: layout.reference_file(pde) for pde in sorted({self.pde_of(n) for n in roles.values()})}
        return self.job("figure", Figure(figure, runs, references, self.style()))

    def style(self) -> dict:
        return dict(sorted(self.config["figures"].get("style", {}).items()))

    # -- studies ----------------------------------------------------------------------------
    def study_pairs(self, study: str, selection: Mapping | None = None) -> dict[str, list]:
        """{variant: [Pair per seed]}: the sweep's seeds, plus those the selection adds."""
        extra = (selection or {}).get("confirm", {})
        return {variant: [self.pair(f"{study}__{variant}", s)
                          for s in dict.fromkeys([*self.seeds[f"{study}__{variant}"], *extra.get(variant, [])])]
                for variant in self.studies[study]}

    def continued_runs(self, study: str, selection: Mapping | None) -> list:
        """[Continued] of the sweep runs the selection continues past the stop rule."""
        from pinnfail.workflow.manifest import Continued

        return [Continued(v, int(s), *self.pair(f"{study}__{v}{CONTINUED}", s))
                for v, s in (selection or {}).get("continue", [])]

    def study_inputs(self, study: str, selection: Mapping | None = None) -> list[str]:
        """Every run of a study (after its selection, if given), the selection and the reference."""
        files = [path for pairs in self.study_pairs(study, selection).values() for p in pairs for path in p]
        if selection is not None:
            files += [layout.selection_file(study)]
            files += [p for c in self.continued_runs(study, selection) for p in (c.run, c.eval)]
        return files + sorted({layout.reference_file(s["pde"]) for s in self.studies[study].values()})

    def _variants(self, study: str, selection: Mapping | None) -> dict:
        from pinnfail.workflow.manifest import VariantRuns

        return {variant: VariantRuns(self.experiments[f"{study}__{variant}"], runs)
                for variant, runs in self.study_pairs(study, selection).items()}

    def select_argv(self, study: str) -> list[str]:
        from pinnfail.workflow.manifest import Select

        spec = self.config["study"][study]
        return self.job("study-select", Select(self._variants(study, None), list(spec.get("confirm_seeds", [])),
                                               int((spec.get("continue_plateaus") or {}).get("runs", 0))))

    def study_figure_files(self, study: str) -> dict[str, str]:
        """{png_NAME / pdf_NAME: path} of the figures a study draws."""
        return {f"{kind}_{name}": layout.study_file(study, f"{name}.{kind}")
                for name in self.config["study"][study].get("figures", []) for kind in ("png", "pdf")}

    def study_argv(self, study: str, selection: Mapping | None = None) -> list[str]:
        """``pinnfail study``: the study's table, Markdown and figures (after its selection, if staged)."""
        from pinnfail.workflow.manifest import Study, StudyFigure

        spec = self.config["study"][study]
        names = spec.get("figures", [])
        figures = [StudyFigure(n, layout.study_file(study, f"{n}.png"), layout.study_file(study, f"{n}.pdf"))
                   for n in names]
        pdes = sorted({s["pde"] for s in self.studies[study].values()})
        reference = layout.reference_file(pdes[0]) if set(names) - {"convergence"} else ""
        return self.job("study", Study(
            spec.get("title", study), self._variants(study, selection),
            [layout.selection_file(study)] if selection is not None else [],
            list(spec["seeds"]) if selection is not None else [],
            self.continued_runs(study, selection), figures, reference, self.style()))

    def study_runs(self, study: str, selection: Mapping | None = None) -> list[tuple[str, str, str, str]]:
        """(method, experiment, run.h5, eval.h5) of every run of a study, the continued ones too."""
        runs = [(variant, f"{study}__{variant}", *p) for variant, pairs in self.study_pairs(study, selection).items()
                for p in pairs]
        return runs + [(f"{c.variant} continued", f"{study}__{c.variant}{CONTINUED}", c.run, c.eval)
                       for c in self.continued_runs(study, selection)]

    # -- evidence ---------------------------------------------------------------------------
    def runs_argv(self, runs) -> list[str]:
        """``pinnfail runs``: one CSV line per run, the method from the Table 1 row or study variant."""
        from pinnfail.workflow.manifest import RunEntry, Runs

        return self.job("runs", Runs([RunEntry(name, method, r, e) for method, name, r, e in runs]))

    def convergence_argv(self, runs) -> list[str]:
        from pinnfail.workflow.manifest import Convergence, Labelled

        return self.job("convergence", Convergence([Labelled(method, r, e) for method, _, r, e in runs]))

    @staticmethod
    def files_of(runs) -> list[str]:
        return [path for *_, r, e in runs for path in (r, e)]

    # -- checks -----------------------------------------------------------------------------
    def _unknown(self, name: str) -> str:
        """One short line about an experiment name that is not defined: the closest names."""
        close = difflib.get_close_matches(name, self.experiments, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(map(repr, close))}?" if close else "see `experiments:` and `study:`"
        return f"unknown experiment {name!r} ({len(self.experiments)} defined; {hint})"

    def _check_references(self) -> None:
        for i, row in enumerate(self.config["table1"]["rows"]):
            for name in _names(row["experiment"]):
                if name not in self.experiments:
                    raise ConfigError(f"table1.rows[{i}].experiment: {self._unknown(name)}")
            settings = {json.dumps({k: v for k, v in self.experiments[n].items() if k not in NO_EFFECT_KEYS},
                                   sort_keys=True) for n in _names(row["experiment"])}
            if len(settings) > 1:
                raise ConfigError(f"table1.rows[{i}].experiment: {_names(row['experiment'])} differ in their "
                                  "settings; one row is one configuration")
        for figure, roles in self.panels.items():
            for role, name in roles.items():
                if name not in self.experiments:
                    raise ConfigError(f"figures.panels.{figure}.{role}: {self._unknown(name)}")
                if self.figure_seed(name) not in self.seeds[name]:
                    raise ConfigError(f"figures.seed: experiment {name!r} (figures.panels.{figure}.{role}) has "
                                      f"no seed {self.figure_seed(name)}; its seeds: {self.seeds[name]}")
        for study, variants in self.studies.items():
            pdes = sorted({s["pde"] for s in variants.values()})
            if set(self.config["study"][study].get("figures", [])) & {"fig1", "fig6"} and len(pdes) != 1:
                raise ConfigError(f"study.{study}.figures: fig1 and fig6 need variants of one equation, got {pdes}")

    def _published(self) -> dict[str, tuple[str, list[str]]]:
        """{publishing rule: (folder, products)}: every ``publish:`` setting (a study's, table1's,
        the figures'), the products it copies into a folder where they are committed."""
        found = {}
        for study in self.studies:
            spec = self.config["study"][study]
            if spec.get("publish"):
                names = [*layout.STUDY_PRODUCTS, *[f"{n}.{k}" for n in spec.get("figures", []) for k in ("png", "pdf")]]
                found[f"publish_{study}"] = (spec["publish"], [layout.study_file(study, n) for n in names])
        if self.config["table1"].get("publish"):
            found["publish_table1"] = (self.config["table1"]["publish"], [layout.TABLE1_CSV, layout.TABLE1_MD])
        spec = self.config["figures"].get("publish")
        if spec:
            unknown = [f for f in spec["figures"] if f not in self.panels]
            if unknown:
                raise ConfigError(f"figures.publish.figures: unknown figure(s) {unknown}; defined: {self.figures}")
            for figure in spec["figures"]:  # one job each: a figure is published once its runs are
                found[f"publish_figure_{figure}"] = (spec["to"], [layout.figure_file(figure, k)
                                                                  for k in ("png", "pdf", "rst")])
        copies: dict[str, str] = {}
        for name, (folder, products) in found.items():
            for product in products:
                copy = layout.published(folder, product)
                if copy in copies:
                    raise ConfigError(f"{copy}: published twice ({copies[copy]}, {name}); give them different folders")
                copies[copy] = name
        return found


def _names(experiment) -> list[str]:
    """A Table 1 row's experiment(s) as a list."""
    return [experiment] if isinstance(experiment, str) else list(experiment)


def _panels(panels: Mapping[str, Mapping]) -> dict[str, dict[str, str]]:
    """The figures' panels {figure: {role: experiment}}; a null role (fig5's equations) is left out."""
    out = {figure: {role: name for role, name in roles.items() if name is not None} for figure, roles in panels.items()}
    for figure, roles in out.items():
        if not roles:
            raise ConfigError(f"figures.panels.{figure}: every panel is null; give at least one experiment")
    return out
