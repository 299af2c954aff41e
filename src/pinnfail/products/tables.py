"""Table 1: pipeline rows (mean and std over seeds) beside the paper's cited rows."""
from __future__ import annotations

import csv
import io as _io
from importlib import resources

import numpy as np

from pinnfail.products.classes import CLASSES
from pinnfail.products.formatting import format_number as _fmt
from pinnfail.artifacts.formats import read_metrics
from pinnfail.artifacts.files import write_text
from pinnfail.numerics.pdes import PDES

CLASS_COUNTS = tuple(f"n_{c.replace(' ', '_')}" for c in CLASSES)
TABLE1_COLUMNS = (
    "equation", "method", "precision", "N", "loss_mean", "loss_std", "rmae_mean", "rmae_std",
    "rrmse_mean", "rrmse_std", "n_seeds", "iterations_mean", "max_iters", "wall_time_s_mean",
    "test_train_ratio_mean", "max_term_ratio_mean", "classification", "failure_mode", *CLASS_COUNTS,
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
    classes = [m["classification"] for m in metrics]
    counts = {c: classes.count(c) for c in CLASSES}
    row.update(
        n_seeds=len(metrics),
        iterations_mean=float(np.mean([m["iterations"] for m in metrics])),
        wall_time_s_mean=float(np.mean([m["wall_time_s"] for m in metrics])),
        test_train_ratio_mean=float(np.mean([m["test_train_ratio"] for m in metrics])),
        max_term_ratio_mean=float(np.mean([m["max_term_test_train_ratio"] for m in metrics])),
        classification=classification_summary(counts),
        failure_mode=f"{counts['overfit']}/{len(metrics)}",
        **dict(zip(CLASS_COUNTS, counts.values())),
        stop_reasons=";".join(sorted({m["stop_reason"] for m in metrics})),
        max_iters=";".join(sorted({str(m["config"]["max_iters"]) for m in metrics})),
        source="pipeline",
        citation="this pipeline",
    )
    return row


def classification_summary(counts: dict[str, int]) -> str:
    """'overfit 3/3', or the classes present with their counts: 'solved 2/3, not converged 1/3'."""
    n = sum(counts.values())
    return ", ".join(f"{c} {k}/{n}" for c, k in counts.items() if k)


def table1(rows: list[tuple[str, list]], include_paper: bool = True) -> list[dict]:
    """Pipeline rows [(method, [eval.h5, ...]), ...] plus the paper's rows, sorted for reading."""
    out = [pipeline_row(method, paths) for method, paths in rows]
    if include_paper:
        equations = {r["equation"] for r in out}
        out += [r for r in paper_rows() if r["equation"] in equations]

    def order(r):
        return (list(PDES).index(r["equation"]), SOURCE_ORDER.index(r["source"]), r["method"])

    return sorted(out, key=order)


def csv_text(rows: list[dict], columns) -> str:
    out = _io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in columns} for row in rows)
    return out.getvalue()


def write_table_csv(path, rows: list[dict]) -> None:
    write_text(path, csv_text(rows, TABLE1_COLUMNS))


NOTE = ("Loss includes the regularization penalty (not comparable across methods). "
        "classification per seed (src/pinnfail/products/evaluate.py): solved (rMAE below the threshold), overfit "
        "(some loss term's test/train ratio above the threshold: the paper's failure mode, the only one), "
        "plateau (stopped by the stop rule at a higher rMAE) or not converged (the iteration budget ran out "
        "with the loss still falling). literature/paper rows are cited from Andersen & Matsubara 2026, "
        "Table 1, not rerun.")


def markdown(rows: list[dict], note: str = "") -> str:
    """Table 1 as Markdown: value +- std, iterations, classification, source; ``note`` closes it."""
    def pm(row, key):
        mean, std = row.get(f"{key}_mean", ""), row.get(f"{key}_std", "")
        if mean in ("", None):
            return ""
        return f"{_fmt(float(mean))} ± {_fmt(float(std))}"

    lines = [
        "| equation | method | precision | loss | rMAE | rRMSE | N | seeds | iterations | classification | source |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        iterations = r.get("iterations_mean", "")
        lines.append(
            f"| {r['equation']} | {r['method']} | {r.get('precision') or ''} | {pm(r, 'loss')} | "
            f"{pm(r, 'rmae')} | {pm(r, 'rrmse')} | {r['N']} | {r.get('n_seeds', '')} | "
            f"{_fmt(float(iterations)) if iterations not in ('', None) else ''} | "
            f"{r.get('classification', '')} | {r['source']} |"
        )
    lines.append("")
    lines.append(NOTE)
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def write_markdown(path, rows: list[dict], note: str = "") -> None:
    write_text(path, markdown(rows, note))


def write_table1(manifest, csv, md=None, caption=None, include_paper: bool = True) -> str:
    """Table 1 of a ``manifest.Table1`` as CSV (and Markdown, and the report caption); returns
    the Markdown."""
    from pinnfail.products.captions import table1_caption

    table = table1([(row.method, row.evals) for row in manifest.rows], include_paper=include_paper)
    write_table_csv(csv, table)
    if md:
        write_markdown(md, table, manifest.note)
    if caption:
        write_text(caption, table1_caption(table, manifest.note))
    return markdown(table, manifest.note)
