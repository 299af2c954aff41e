"""Table 1: pipeline rows (mean and std over seeds) beside the paper's cited rows."""
from __future__ import annotations

import csv
import io as _io
import math
import os
from importlib import resources
from pathlib import Path

import numpy as np

from .evaluate import read_metrics
from .pdes import PDES

COLUMNS = (
    "equation", "method", "precision", "N", "loss_mean", "loss_std", "rmae_mean", "rmae_std",
    "rrmse_mean", "rrmse_std", "n_seeds", "iterations_mean", "wall_time_s_mean",
    "test_train_ratio_mean", "max_term_ratio_mean", "failure_mode", "n_overfit", "n_error_near_one",
    "stop_reasons", "source", "citation",
)
SOURCE_ORDER = ("literature", "paper", "pipeline")


def paper_rows() -> list[dict]:
    """The rows of the paper's Table 1 (literature and the paper's own), as shipped."""
    text = resources.files("pinnfail").joinpath("data/table1_paper.csv").read_text()
    return [dict(row) for row in csv.DictReader(_io.StringIO(text))]


def _mean_std(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def pipeline_row(method: str, eval_paths) -> dict:
    """One table row from the evaluations of one configuration's seeds."""
    metrics = [read_metrics(p) for p in eval_paths]
    if not metrics:
        raise ValueError(f"table1: row {method!r} has no evaluations")
    keys = {(m["pde"], m["precision"], int(m["n_points"])) for m in metrics}
    if len(keys) != 1:
        raise ValueError(f"table1: row {method!r} mixes configurations {sorted(keys)}")
    pde, precision, n = keys.pop()
    row = {"equation": pde, "method": method, "precision": precision, "N": n}
    for column, key in (("loss", "objective"), ("rmae", "rmae"), ("rrmse", "rrmse")):
        row[f"{column}_mean"], row[f"{column}_std"] = _mean_std([m[key] for m in metrics])
    flags = [bool(m["failure_mode"]) for m in metrics]
    row.update(
        n_seeds=len(metrics),
        iterations_mean=float(np.mean([m["iterations"] for m in metrics])),
        wall_time_s_mean=float(np.mean([m["wall_time_s"] for m in metrics])),
        test_train_ratio_mean=float(np.mean([m["test_train_ratio"] for m in metrics])),
        max_term_ratio_mean=float(np.mean([m["max_term_test_train_ratio"] for m in metrics])),
        failure_mode=f"{sum(flags)}/{len(flags)}",
        n_overfit=sum(bool(m["overfit"]) for m in metrics),
        n_error_near_one=sum(bool(m["error_near_one"]) for m in metrics),
        stop_reasons=";".join(sorted({m["stop_reason"] for m in metrics})),
        source="pipeline",
        citation="this pipeline",
    )
    return row


def table1(rows: list[tuple[str, list]], include_paper: bool = True) -> list[dict]:
    """Pipeline rows [(method, [eval.h5, ...]), ...] plus the paper's rows, sorted for reading."""
    out = [pipeline_row(method, paths) for method, paths in rows]
    if include_paper:
        equations = {r["equation"] for r in out}
        out += [r for r in paper_rows() if r["equation"] in equations]

    def order(r):
        return (list(PDES).index(r["equation"]), SOURCE_ORDER.index(r["source"]), r["method"])

    return sorted(out, key=order)


def _fmt(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def write_text(path, text: str) -> None:
    """Write a text artifact atomically (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def csv_text(rows: list[dict], columns) -> str:
    out = _io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in columns} for row in rows)
    return out.getvalue()


def write_csv(path, rows: list[dict]) -> None:
    write_text(path, csv_text(rows, COLUMNS))


def markdown(rows: list[dict]) -> str:
    """Table 1 as Markdown: value +- std, failure-mode flags, source."""
    def pm(row, key):
        mean, std = row.get(f"{key}_mean", ""), row.get(f"{key}_std", "")
        if mean in ("", None):
            return ""
        return f"{_fmt(float(mean))} ± {_fmt(float(std))}"

    lines = [
        "| equation | method | precision | loss | rMAE | rRMSE | N | seeds | failure mode | source |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['equation']} | {r['method']} | {r.get('precision') or ''} | {pm(r, 'loss')} | "
            f"{pm(r, 'rmae')} | {pm(r, 'rrmse')} | {r['N']} | {r.get('n_seeds', '')} | "
            f"{_failure_cell(r)} | {r['source']} |"
        )
    lines.append("")
    lines.append("Loss includes the regularization penalty (not comparable across methods). "
                 "failure mode: seeds flagged, and why: some loss term's test/train ratio above the "
                 "threshold (overfit) or rMAE near 1; a seed can be both. "
                 "literature/paper rows are cited from Andersen & Matsubara 2026, Table 1, not rerun.")
    return "\n".join(lines) + "\n"


def _failure_cell(row: dict) -> str:
    """'k/n', with the reasons when a seed is flagged: '2/3 (overfit 2, rMAE near 1: 1)'."""
    cell = row.get("failure_mode", "")
    reasons = [f"{label}{row[key]}" for key, label in (("n_overfit", "overfit "), ("n_error_near_one", "rMAE near 1: "))
               if row.get(key) not in (None, "", 0, "0")]
    return f"{cell} ({', '.join(reasons)})" if reasons else cell


def write_markdown(path, rows: list[dict]) -> None:
    write_text(path, markdown(rows))


def add_table_parser(sub) -> None:
    p = sub.add_parser("table1", help="build Table 1 (CSV + Markdown) from evaluations")
    p.add_argument("--row", action="append", required=True, metavar="METHOD=EVAL.h5[,EVAL.h5...]",
                   help="one pipeline row: a method label and the eval.h5 files of its seeds")
    p.add_argument("--csv", required=True, type=Path)
    p.add_argument("--md", type=Path)
    p.add_argument("--no-paper-rows", action="store_true", help="leave out the paper's cited rows")
    p.set_defaults(func=_cmd_table1)


def _cmd_table1(args) -> None:
    rows = []
    for item in args.row:
        method, sep, paths = item.partition("=")
        if not sep or not paths:
            raise ValueError(f"table1 --row: expected METHOD=EVAL.h5[,...], got {item!r}")
        rows.append((method, paths.split(",")))
    table = table1(rows, include_paper=not args.no_paper_rows)
    write_csv(args.csv, table)
    if args.md:
        write_markdown(args.md, table)
    print(markdown(table))
