"""The figures' inputs: the registry of figures and their roles, and the artifacts of
each role read through ``pinnfail.artifacts.formats`` and checked against each other."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from pinnfail.artifacts import hdf5
from pinnfail.products import figure_roles
from pinnfail.numerics.pdes import get_pde
from pinnfail.artifacts import formats
from pinnfail.numerics.solution import Reference

FIGURES: dict[str, Callable] = {}  # name -> drawing function, filled by ``figure``


def figure(name: str) -> Callable[[Callable], Callable]:
    """Register a figure function under ``name``, whose roles are declared in
    ``products.figure_roles`` (all of them, or any non-empty subset for ``SUBSET``)."""
    figure_roles.roles(name)  # an undeclared figure is an error here, at import

    def register(fn: Callable) -> Callable:
        FIGURES[name] = fn
        return fn

    return register


def given_roles(figure: str, runs) -> tuple[str, ...]:
    """The roles ``runs`` fills, in drawing order (after ``check_roles``)."""
    return tuple(r for r in figure_roles.roles(figure) if r in runs)


@dataclass(frozen=True, eq=False)
class Case:
    """One role of a figure: the run, its evaluation fields and metrics."""

    role: str
    run: formats.Run
    fields: dict
    metrics: dict

    @property
    def config(self) -> dict:
        return self.run.config

    @property
    def pde(self) -> str:
        return self.run.config["pde"]

    @property
    def classification(self) -> str | None:
        """evaluate's verdict ("overfit", "not converged", "plateau", "solved"); None for
        evaluations written without one."""
        value = self.metrics.get("classification")
        return None if value is None else str(value)

    @property
    def overfit(self) -> bool:
        """The run overfits: its classification says so (the overfit flag where there is none)."""
        if self.classification is not None:
            return self.classification == "overfit"
        return bool(self.metrics.get("overfit", False))


def _existing_file(figure: str, what: str, path) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"{figure}: {what}: expected a file path, got {path!r}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{figure}: {what}: file {str(path)!r} does not exist")
    return path


def _read(figure: str, what: str, reader: Callable, path):
    try:
        return reader(path)
    except hdf5.ArtifactError as err:
        raise ValueError(f"{figure}: {what}: {err}") from None


def read_case(figure: str, role: str, pair) -> Case:
    """The run and evaluation of ``role``, checked to belong together."""
    if isinstance(pair, (str, os.PathLike)) or not hasattr(pair, "__len__") or len(pair) != 2:
        raise ValueError(f"{figure}: role {role!r}: expected a pair (run_h5, eval_h5), got {pair!r}")
    run_path = _existing_file(figure, f"role {role!r} run", pair[0])
    eval_path = _existing_file(figure, f"role {role!r} evaluation", pair[1])
    run = _read(figure, f"role {role!r}", formats.Run.read, run_path)
    evaluation = _read(figure, f"role {role!r}", formats.Evaluation.read, eval_path)
    fields, metrics = evaluation.fields, evaluation.metrics
    eval_config = evaluation.config
    # keys known to only one side are skipped: the run schema may gain settings
    differ = sorted(k for k in set(eval_config) & set(run.config)
                    if eval_config[k] != run.config[k]) if isinstance(eval_config, dict) else []
    if differ:
        raise ValueError(
            f"{figure}: role {role!r}: evaluation {str(eval_path)!r} was made from another run "
            f"than {str(run_path)!r} (config differs in {differ})"
        )
    for key, t, x in (("u_pred", "t", "x"), ("error", "t", "x"), ("residual", "residual_t", "residual_x"),
                      ("slice_residual", "slice_t", "slice_x")):
        shape = (fields[t].size, fields[x].size)
        if fields[key].shape != shape:
            raise ValueError(f"{figure}: role {role!r}: {key} has shape {fields[key].shape}, "
                             f"expected (len({t}), len({x})) = {shape}")
    return Case(role, run, fields, metrics)


def read_figure_reference(figure: str, what: str, path) -> Reference:
    return _read(figure, what, formats.read_reference, _existing_file(figure, what, path))


def check_roles(figure: str, runs) -> None:
    if not isinstance(runs, Mapping):
        raise ValueError(f"{figure}: runs must map role -> (run_h5, eval_h5), got {type(runs).__name__}")
    allowed = figure_roles.roles(figure)
    unknown = [r for r in runs if r not in allowed]
    if unknown:
        raise ValueError(f"{figure}: unknown role(s) {unknown}; allowed: {list(allowed)}")
    if figure in figure_roles.SUBSET:
        if not runs:
            raise ValueError(f"{figure}: no runs; give at least one of {list(allowed)}")
        return
    missing = [r for r in allowed if r not in runs]
    if missing:
        raise ValueError(f"{figure}: missing role(s) {missing}; {figure} needs all of {list(allowed)}")


def check_against_reference(figure: str, case: Case, ref: Reference) -> None:
    """The case is of the reference's equation and parameters, evaluated on its grid."""
    if case.pde != ref.pde:
        raise ValueError(f"{figure}: role {case.role!r} is a {case.pde!r} run, "
                         f"but the reference is for {ref.pde!r}")
    run_params = get_pde(case.pde).params(case.config.get("pde_params"))
    ref_params = dict(ref.params or {})
    differ = sorted(k for k in run_params if k in ref_params
                    and not math.isclose(run_params[k], float(ref_params[k]), rel_tol=1e-12))
    if differ:
        raise ValueError(f"{figure}: role {case.role!r}: the run's equation parameters differ from "
                         f"the reference's in {differ}")
    x, t = case.fields["x"], case.fields["t"]
    if x.shape != ref.x.shape or t.shape != ref.t.shape or not (
        np.allclose(x, ref.x) and np.allclose(t, ref.t)
    ):
        raise ValueError(
            f"{figure}: role {case.role!r}: its evaluation grid ({x.size} x, {t.size} t) is not the "
            f"reference's ({ref.x.size} x, {ref.t.size} t); evaluate the run against this reference"
        )


def load(figure: str, runs, reference) -> tuple[list[Case], Any]:
    """Cases of the roles given, in the figure's role order, and the reference, all checked."""
    check_roles(figure, runs)
    ref = read_figure_reference(figure, "reference", reference)
    cases = [read_case(figure, role, runs[role]) for role in given_roles(figure, runs)]
    for case in cases:
        check_against_reference(figure, case, ref)
    return cases, ref
