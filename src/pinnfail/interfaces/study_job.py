"""A regularizer study's products from its manifest (``pinnfail study`` / ``study-select``).

``select``: after the sweep, the strengths chosen by the lowest median test loss, the seeds to
add and the plateau stops to continue (selection.json). ``write``: the study table (CSV,
Markdown, report caption) and the figures it names, drawn from the selected variants'
median-rMAE seeds. The aggregation and the verdicts live in ``pinnfail.products.study``.
"""
from __future__ import annotations

import json
from pathlib import Path

from pinnfail.artifacts.formats import Run, read_metrics
from pinnfail.artifacts.files import write_text
from pinnfail.workflow.manifest import Select, Study
from pinnfail.products.study import GROUP_KEYS
from pinnfail.products.study import capped_markdown, confirmation_markdown, continuation_markdown, continuation_rows, figure_choice, markdown, median_seed, select_lambda, study_plan, summarize


def _runs(variants) -> tuple[dict, dict]:
    """{variant: [(run.h5, eval.h5)]} and {variant: settings} of a manifest's variants."""
    return ({name: [tuple(p) for p in v.runs] for name, v in variants.items()},
            {name: v.settings for name, v in variants.items()})


def _classes(runs: dict) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for name, pairs in runs.items():
        for _, e in pairs:
            m = read_metrics(e)
            out.setdefault(name, {})[int(m["seed"])] = m["classification"]
    return out


def _solved(runs: dict) -> float:
    return next(iter(read_metrics(e)["thresholds"]["solved_rmae"] for p in runs.values() for _, e in p[:1]))


def select(manifest: Select, out) -> dict:
    """The sweep's selection, written to OUT as JSON."""
    runs, variants = _runs(manifest.variants)
    rows = summarize(runs, variants)
    plan = study_plan(rows, select_lambda(rows), _classes(runs), manifest.confirm_seeds, manifest.continue_runs)
    write_text(out, json.dumps(plan, indent=1, sort_keys=True) + "\n")
    return plan


def _selected(rows: list, selections: list[str]) -> list[dict]:
    """Staged studies' strengths as their selections chose them (on the sweep's seeds), the
    others' from the rows."""
    by_name = {r["variant"]: r for r in rows}
    selected = [{**s, "rmae_median": by_name[s["variant"]]["rmae_median"]}
                for path in selections for s in json.loads(Path(path).read_text())["selected"]
                if s["variant"] in by_name]
    chosen = {tuple(s[k] for k in GROUP_KEYS) for s in selected}
    return selected + [s for s in select_lambda(rows) if tuple(s[k] for k in GROUP_KEYS) not in chosen]


def _continued(manifest: Study, runs: dict) -> list[tuple]:
    """(variant, seed, run.h5, eval.h5, continued run.h5, its eval.h5) of the continued runs."""
    pairs = {name: {int(read_metrics(e)["seed"]): (r, e) for r, e in p} for name, p in runs.items()}
    out = []
    for c in manifest.continued:
        if c.variant not in pairs or c.seed not in pairs[c.variant]:
            raise ValueError(f"study: continued run {c.variant} seed {c.seed} is not a run of the study")
        out.append((c.variant, c.seed, *pairs[c.variant][c.seed], c.run, c.eval))
    return out


def write(manifest: Study, csv=None, md=None, caption=None) -> str:
    """The study's table (CSV, Markdown, caption) and figures; returns the Markdown."""
    from pinnfail.products.captions import study_caption
    from pinnfail.products.study import write_study_csv

    runs, variants = _runs(manifest.variants)
    if not (csv or md or caption or manifest.figures):
        raise ValueError("study: give at least one of --csv, --md, --caption, or figures in the manifest")
    rows = summarize(runs, variants)
    selected = _selected(rows, manifest.selections)
    continued = _continued(manifest, runs)
    solved = _solved(runs)
    text = (markdown(rows, selected, manifest.title) + capped_markdown(rows)
            + confirmation_markdown(rows, _classes(runs), set(manifest.sweep_seeds))
            + continuation_markdown(continuation_rows(continued, solved), solved))
    if csv:
        write_study_csv(csv, rows)
    if md:
        write_text(md, text)
    if caption:
        write_text(caption, study_caption(rows, manifest.title))
    draw(manifest, runs, rows, selected, [(v, seed, r, c) for v, seed, r, _, c, _ in continued])
    return text


def draw(manifest: Study, runs: dict, rows: list, selected: list, continued=()) -> None:
    """The study's figures, each with its report caption (the PNG's name, .rst); ``continued``:
    (variant, seed, original run.h5, continued run.h5)."""
    if not manifest.reference and any(f.name in ("fig1", "fig6") for f in manifest.figures):
        raise ValueError("study: fig1 and fig6 need the manifest's reference")
    choice = figure_choice(rows, selected)
    for figure in manifest.figures:
        caption = Path(figure.png).with_suffix(".rst")
        if figure.name == "plateaus":
            text = _plateaus(figure, continued, _solved(runs), manifest.style)
        elif figure.name == "convergence":
            text = _convergence(figure, runs, choice, manifest.style)
        else:
            text = _paper_figure(figure, manifest, runs, choice)
        write_text(caption, text)


def _plateaus(figure, continued, solved: float, style) -> str:
    from pinnfail.products.evidence import continuation_figure

    continuation_figure([(v, int(seed), run, cont, int(Run.read(run).attrs["iterations"]))
                         for v, seed, run, cont in continued], figure.png, figure.pdf, solved, style)
    return (f"Plateau stops continued past the stop rule ({len(continued)} runs): test rMAE "
            "and objective against iterations, the original stop dotted.\n")


def _convergence(figure, runs: dict, choice: dict, style) -> str:
    from pinnfail.products.evidence import convergence_figure

    # the variants of Fig. 6 (or Fig. 1); a study without them: all of its variants
    roles = choice.get("fig6") or choice.get("fig1") or {v: v for v in runs}
    shown = list(dict.fromkeys(roles.values()))
    convergence_figure([(variant, r, e) for variant in shown for r, e in runs[variant]], figure.png, figure.pdf,
                       style, by="label")
    return ("rMAE on the test points (lines) and against the reference at the end (dots), "
            "and the test loss, against iterations: every seed of " + ", ".join(f"**{v}**" for v in shown) + ".\n")


def _paper_figure(figure, manifest: Study, runs: dict, choice: dict) -> str:
    from pinnfail.products.captions import figure_caption
    from pinnfail.products.figures import make_figure

    if figure.name not in choice:
        raise ValueError(f"study figure {figure.name}: the study has no variants for it "
                         f"(fig1 needs an unregularized and a regularized variant; fig6 also L2, L1, double)")
    picked = {role: runs[variant][median_seed(runs[variant])] for role, variant in choice[figure.name].items()}
    make_figure(figure.name, picked, manifest.reference, figure.png, figure.pdf, manifest.style)
    return (figure_caption(figure.name, {role: read_metrics(e) for role, (_, e) in picked.items()}).rstrip("\n")
            + " Each panel shows the seed with the median rMAE of its variant.\n")
