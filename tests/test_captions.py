"""Report captions are written from the artifacts: they quote each run's rMAE and class."""
import json

from pinnfail.products import captions, tables
from pinnfail.artifacts.formats import read_metrics
from pinnfail.products.tables import _fmt


def test_figure_caption_quotes_each_runs_numbers_and_class(evaluated):
    _, _, paths = evaluated
    runs = {"failure": read_metrics(paths[0]), "regularized": read_metrics(paths[1])}
    text = captions.figure_caption("fig1", runs)
    for role, m in runs.items():
        assert f"**{role}**" in text
        assert f"rMAE {_fmt(float(m['rmae']))} after {m['iterations']} of {m['config']['max_iters']} iterations" in text
        assert f"*{m['classification']}*" in text and m["classification_reason"] in text
    # a tiny 20-iteration run is not the paper's solved regularized run: the caption says so
    assert "These runs do not show the paper's reading" in text
    assert f"regularized is {runs['regularized']['classification']} (paper: solved)" in text


def test_figure_caption_states_the_papers_reading_only_when_the_classes_show_it(evaluated):
    _, _, paths = evaluated
    m = read_metrics(paths[0])
    shown = {"failure": {**m, "classification": "overfit"}, "regularized": {**m, "classification": "solved"}}
    assert "These runs show the paper's reading: failure overfit; regularized solved." in \
        captions.figure_caption("fig1", shown)


def test_table1_caption_quotes_the_tables_rows(evaluated):
    _, _, paths = evaluated
    rows = tables.table1([("PINN FP32", [str(p) for p in paths])])
    text = captions.table1_caption(rows, note="Wave is left out here.")
    row = next(r for r in rows if r["source"] == "pipeline")
    assert f"rMAE {_fmt(row['rmae_mean'])} ± {_fmt(row['rmae_std'])} over 2 seed(s), *{row['classification']}*" in text
    assert f"max_iters {row['max_iters']}" in text and text.rstrip().endswith("Wave is left out here.")
    failing = "none" if not row["n_overfit"] else f"convection PINN FP32 ({row['failure_mode']} seeds)"
    assert f"Failure modes (overfit seeds, the only failure mode): {failing}." in text


def test_caption_command_writes_the_file(evaluated, tmp_path):
    from pinnfail.interfaces.cli import main

    _, _, paths = evaluated
    out = tmp_path / "fig5.rst"
    manifest = json.dumps({"figure": "fig5", "evals": {"convection": str(paths[0])}})
    assert main(["caption", "--manifest", manifest, "--out", str(out)]) == 0
    m = read_metrics(paths[0])
    assert f"rMAE {_fmt(float(m['rmae']))}" in out.read_text()
