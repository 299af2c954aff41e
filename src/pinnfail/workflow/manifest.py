"""What a workflow job hands a ``pinnfail`` command: one typed, structured manifest.

The plan (``pinnfail.workflow.plan``) builds these from the config; the rules pass each as one JSON
argument (``--manifest``); the command reads it back with ``read`` into the dataclass below,
checked field by field (a wrong type or a missing field is one line naming it, e.g.
``manifest.rows[1].evals[0]: expected a string, got 3``). A user may write one by hand, as a
JSON file (``--manifest FILE``). No NAME=VALUE strings travel between the rules and the library.

``dumps(manifest)`` is canonical (sorted keys, no spaces): equal manifests are equal strings,
which is what Snakemake's params rerun trigger compares.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinnfail.numerics.config import ConfigError


@dataclass(frozen=True)
class Pair:
    """A run and its evaluation."""

    run: str
    eval: str

    def __iter__(self):  # run, evaluation = pair
        return iter((self.run, self.eval))


@dataclass(frozen=True)
class Labelled:
    """A run and its evaluation under a label (a legend entry, a method, a study variant)."""

    label: str
    run: str
    eval: str


@dataclass(frozen=True)
class ReferenceJob:
    pde: str
    params: dict[str, Any] = field(default_factory=dict)  # the equation's parameters
    settings: dict[str, Any] = field(default_factory=dict)  # the solver's grid and settings


@dataclass(frozen=True)
class Evaluate:
    run: str
    reference: str
    thresholds: dict[str, Any] = field(default_factory=dict)
    residual_grid: list[int] = field(default_factory=lambda: [256, 256])
    test_set: dict[str, Any] | None = None  # {domain, line, seed}: a fresh test set; None: the history's


@dataclass(frozen=True)
class Row:
    method: str
    evals: list[str]


@dataclass(frozen=True)
class Table1:
    rows: list[Row]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    name: str
    runs: dict[str, Pair]  # role -> run
    references: dict[str, str]  # pde -> reference.h5
    style: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantRuns:
    settings: dict[str, Any]  # the variant's complete run config
    runs: list[Pair]  # one per seed


@dataclass(frozen=True)
class Continued:
    """A plateau stop of VARIANT's seed SEED continued past the stop rule."""

    variant: str
    seed: int
    run: str
    eval: str


@dataclass(frozen=True)
class StudyFigure:
    name: str  # fig1, fig6, convergence or plateaus
    png: str
    pdf: str


@dataclass(frozen=True)
class Study:
    title: str
    variants: dict[str, VariantRuns]
    selections: list[str] = field(default_factory=list)  # staged studies' selection.json
    sweep_seeds: list[int] = field(default_factory=list)  # the seeds before the selection
    continued: list[Continued] = field(default_factory=list)
    figures: list[StudyFigure] = field(default_factory=list)
    reference: str = ""  # what fig1 and fig6 need
    style: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Select:
    variants: dict[str, VariantRuns]
    confirm_seeds: list[int] = field(default_factory=list)
    continue_runs: int = 0


@dataclass(frozen=True)
class RunEntry:
    """One line of runs.csv: a run, its evaluation, its experiment and the method column."""

    experiment: str
    method: str
    run: str
    eval: str


@dataclass(frozen=True)
class Runs:
    runs: list[RunEntry]


@dataclass(frozen=True)
class Convergence:
    runs: list[Labelled]


@dataclass(frozen=True)
class Caption:
    figure: str
    evals: dict[str, str]  # role -> eval.h5


def dumps(manifest) -> str:
    """The manifest as compact JSON, in the order its fields and mappings were built (a study's
    variants in the config's order, which its tables and figures keep): the same config always
    gives the same text."""
    return json.dumps(dataclasses.asdict(manifest), separators=(",", ":"))


def read(kind: type, text: str):
    """The manifest KIND from TEXT: JSON (starting with ``{``) or the path of a JSON file."""
    source = text.strip()
    if not source.startswith("{"):
        try:
            source = Path(text).read_text()
        except OSError as err:
            raise ConfigError(f"manifest: cannot read {text}: {err.strerror}") from None
    try:
        data = json.loads(source, object_pairs_hook=_unique)
    except json.JSONDecodeError as err:
        raise ConfigError(f"manifest: not JSON: {err}") from None
    return _convert(kind, data, "manifest")


def _unique(pairs: list) -> dict:
    """A JSON object whose keys are unique (json.loads would keep the last of two silently)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise ConfigError(f"manifest: key {key!r} given twice")
        out[key] = value
    return out


_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _convert(kind, value, where: str):
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType) and type(None) in args:  # an optional field: X | None
        if value is None:
            return None
        (kind,) = [a for a in args if a is not type(None)]
        return _convert(kind, value, where)
    if dataclasses.is_dataclass(kind):
        return _record(kind, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_convert(args[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {key: _convert(args[1], item, f"{where}.{key}") for key, item in value.items()}
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ConfigError(f"{where}: expected {_NAMES[kind]}, got {value!r}")
    return value


def _record(kind, value, where: str):
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {value!r}")
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(fields)}")
    out = {}
    for name, spec in fields.items():
        if name in value:
            out[name] = _convert(hints[name], value[name], f"{where}.{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}.{name}: missing")
    return kind(**out)


# The manifest each command reads (the plan writes these; the CLI reads them).
COMMANDS = {"reference": ReferenceJob, "evaluate": Evaluate, "table1": Table1, "figure": Figure, "study": Study,
            "study-select": Select, "runs": Runs, "convergence": Convergence, "caption": Caption}
