"""Where the pipeline keeps its files: the one place naming them.

The Snakemake rules, the plan, ``pinnfail cost`` and ``pinnfail archive`` all build and read
paths here, so the layout below can change in one place::

    data/reference/PDE.h5                        reference solution of an equation
    results/runs/EXPERIMENT/seedK/run.h5         a training run
    CHECKPOINT_DIR/EXPERIMENT/seedK.ckpt.h5      its checkpoint (checkpoint_dir, by default
                                                 results/checkpoints); seedK.last.h5 beside it: a
                                                 copy of the finished run, continued when
                                                 max_iters is raised
    results/runs/EXPERIMENT/seedK/eval.h5        its evaluation
    results/studies/STUDY/...                    a study's products (study.md, selection.json, ...)
    results/figures/FIGURE.{png,pdf,rst}         the paper's figures and their report captions
    results/table1.{csv,md,rst}                  Table 1
    docs/claims.md                               the claims ledger

All paths are relative to the working directory (Snakemake's ``--directory``). No imports: the
workflow parses without loading anything heavy.
"""
from __future__ import annotations

import os
import re
from typing import NamedTuple

REFERENCES = "data/reference"
RUNS = "results/runs"
CHECKPOINTS = "results/checkpoints"  # the default checkpoint_dir
STUDIES = "results/studies"
FIGURES = "results/figures"
TABLE1_CSV = "results/table1.csv"
TABLE1_MD = "results/table1.md"
RUNS_CSV = "results/runs.csv"
CLAIMS_DOC = "docs/claims.md"
KINDS = ("run", "eval")  # run.h5 and eval.h5 of one (experiment, seed)
STUDY_PRODUCTS = ("study.md", "study.csv", "runs.csv")  # what a study publishes, besides its figures

_RUN_FILE = re.compile(rf"(?:.*/)?{re.escape(RUNS)}/(?P<experiment>\w+)/seed(?P<seed>\d+)/(?P<kind>run|eval)\.h5")


class RunFile(NamedTuple):
    experiment: str
    seed: int
    kind: str  # "run" or "eval"


def run_file(experiment: str, seed, kind: str = "run", root: str = RUNS) -> str:
    """A run's run.h5 (kind "run") or eval.h5 (kind "eval") under ROOT (an archive folder is laid
    out like results/runs)."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    return f"{root}/{experiment}/seed{seed}/{kind}.h5"


def parse_run_file(path: str) -> RunFile:
    """(experiment, seed, kind) of a path made by ``run_file``; ValueError naming it otherwise."""
    match = _RUN_FILE.fullmatch(str(path))
    if not match:
        raise ValueError(f"{path}: not a run file ({RUNS}/EXPERIMENT/seedK/run.h5 or eval.h5)")
    return RunFile(match["experiment"], int(match["seed"]), match["kind"])


def reference_file(pde: str) -> str:
    return f"{REFERENCES}/{pde}.h5"


def checkpoint_of(experiment: str, seed, root: str = CHECKPOINTS) -> str:
    """A run's checkpoint under ROOT (``checkpoint_dir``), kept until the run is finished; the
    copy of the finished run that a larger ``max_iters`` continues lies beside it
    (``last_run_of``)."""
    return f"{root}/{experiment}/seed{seed}.ckpt.h5"


def last_run_of(experiment: str, seed, root: str = CHECKPOINTS) -> str:
    """The copy of a finished run kept beside its checkpoint (``pinnfail train --keep-last``)."""
    return f"{root}/{experiment}/seed{seed}.last.h5"


def caption_of(path: str) -> str:
    """The report caption (rst) written beside a reported product."""
    return os.path.splitext(path)[0] + ".rst"


def study_file(study: str, name: str) -> str:
    """A product of a study: study.md, study.csv, runs.csv, selection.json, FIGURE.png, ..."""
    return f"{STUDIES}/{study}/{name}"


def selection_file(study: str) -> str:
    return study_file(study, "selection.json")


def figure_file(figure: str, ext: str) -> str:
    return f"{FIGURES}/{figure}.{ext}"


def published(folder: str, product: str) -> str:
    """Where ``publish:`` copies PRODUCT inside FOLDER (the same file name)."""
    return os.path.normpath(os.path.join(folder, os.path.basename(product)))
