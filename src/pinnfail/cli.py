"""Command line: ``pinnfail reference | train | evaluate | cost | table1 | figure | study | caption | runs | convergence``.

Every training setting of the run schema is a ``train`` flag (generated from
the schema, so flags, --config files and the Snakemake rules cannot drift).
Errors in input print one message naming the field and exit with status 2;
nothing is written then. Errors of the machine (an ``OSError``: a full disk, a
read-only folder, a damaged checkpoint that cannot be moved aside) print one
message naming the file and exit with status 1; no half-written file is left.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

from .config import ConfigError, run_schema
from . import history as H


def _key_values(items, what: str) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"{what}: expected NAME=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"{what}.{key}: cannot parse {value!r}") from None
    return out


def _grid(text: str) -> list[int]:
    try:
        nx, nt = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid: expected NXxNT (e.g. 20x20), got {text!r}") from None
    return [nx, nt]


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    types = {"integer": int, "number": float, "string": str}
    for name, spec in run_schema()["properties"].items():
        flag = "--" + name.replace("_", "-")
        help_text = spec.get("description", "")
        if "default" in spec:
            help_text += f" (default: {spec['default']})"
        if name == "grid":
            parser.add_argument(flag, type=_grid, dest=name, help="training grid NXxNT" + help_text[help_text.find(" (default"):])
        elif name == "pde_params":
            parser.add_argument("--param", action="append", dest=name, metavar="NAME=VALUE",
                                help="PDE parameter override, e.g. beta=30 (repeatable)")
        elif name == "weights":
            parser.add_argument("--weight", action="append", dest=name, metavar="TERM=VALUE",
                                help="loss-term weight, e.g. initial=10 (repeatable)")
        elif spec["type"] == "boolean":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, dest=name, default=None,
                                help=help_text)
        else:
            kind = next(t for t in (spec["type"] if isinstance(spec["type"], list) else [spec["type"]]) if t != "null")
            parser.add_argument(flag, type=types[kind], dest=name, choices=spec.get("enum"),
                                help=help_text)


def _run_values(args) -> dict:
    values = {}
    sources = (("--config", args.config and Path(args.config).read_text(), yaml.safe_load),
               ("--config-json", args.config_json, json.loads))
    for source, text, parse in sources:
        if text:
            try:
                loaded = parse(text) or {}
            except (yaml.YAMLError, json.JSONDecodeError) as err:
                raise ConfigError(f"{source}: cannot parse: {err}") from None
            if not isinstance(loaded, dict):
                raise ConfigError(f"{source}: expected a mapping of run settings")
            values.update(loaded)
    for name in run_schema()["properties"]:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name == "pde_params":
            value = {**values.get(name, {}), **_key_values(value, "pde_params")}
        elif name == "weights":
            value = {**values.get(name, {}), **_key_values(value, "weights")}
        values[name] = value
    return values


def cmd_reference(args) -> None:
    from .reference import compute_reference, write_reference

    settings = _key_values(args.set, "reference")
    ref = compute_reference(args.pde, _key_values(args.param, "pde_params"), settings)
    write_reference(args.out, ref)
    print(json.dumps({"pde": ref.pde, "out": str(args.out), "shape": list(ref.u.shape),
                      "wall_time_s": ref.wall_time}))


def _gpu_guard() -> None:
    """Stop before any training when the scheduler gave this job GPUs that JAX cannot see."""
    import socket

    import jax

    from .cluster import gpu_guard_error

    error = gpu_guard_error(os.environ.get("CUDA_VISIBLE_DEVICES"), jax.devices(), socket.gethostname())
    if error:
        raise ConfigError(error)


def cmd_train(args) -> None:
    from .config import run_config
    from .train import train

    if args.require_gpu if args.require_gpu is not None else os.environ.get("PINNFAIL_REQUIRE_GPU") != "0":
        _gpu_guard()
    values = _run_values(args)
    seeds = args.seeds if args.seeds is not None else [values.get("seed", 0)]
    outs = args.outs if args.outs is not None else ([args.out] if args.out else None)
    if not outs or len(outs) != len(seeds):
        raise ConfigError("train: give --out PATH for one seed, or --seeds S... with as many --outs PATH...")
    if args.lambdas is not None and len(args.lambdas) != len(seeds):
        raise ConfigError(f"train: --lambdas needs one value per seed ({len(seeds)}), got {len(args.lambdas)}")
    members = train(run_config(values), seeds, outs, progress=not args.quiet, lambdas=args.lambdas)
    for m in members:
        print(json.dumps({"seed": m.seed, "lambda": m.lam, "out": str(m.out), "stop_reason": m.stop_reason,
                          "iterations": int(m.history.last(H.ITERATION)),
                          "wall_time_s": round(m.wall_time, 3)}))


def cmd_evaluate(args) -> None:
    from .evaluate import evaluate, write_evaluation

    thresholds = _key_values(args.threshold, "thresholds")
    result = evaluate(args.run, args.reference, residual_grid=args.residual_grid, thresholds=thresholds,
                      slice_grid=args.slice_grid)
    if args.out:
        write_evaluation(args.out, result)
    print(json.dumps(result["metrics"], default=float))


def cmd_signature(args) -> None:
    from .evaluate import amend_signature

    for run in args.runs:
        signature = amend_signature(run, run.with_name("eval.h5"))
        print(json.dumps({"run": str(run), **signature}, default=float))


def _figure_run(item: str) -> tuple[str, tuple[str, str]]:
    """ROLE=RUN_H5:EVAL_H5; a path containing ':' is resolved by which files exist."""
    role, sep, rest = item.partition("=")
    if not sep or not role or not rest:
        raise ValueError(f"figure --run: expected ROLE=RUN_H5:EVAL_H5, got {item!r}")
    cuts = [i for i, ch in enumerate(rest) if ch == ":" and 0 < i < len(rest) - 1]
    if not cuts:
        raise ValueError(f"figure --run {role}: expected RUN_H5:EVAL_H5 after '=', got {rest!r}")
    if len(cuts) > 1:
        existing = [i for i in cuts if Path(rest[:i]).is_file() and Path(rest[i + 1:]).is_file()]
        if len(existing) != 1:
            raise ValueError(f"figure --run {role}: cannot split {rest!r} into RUN_H5:EVAL_H5 "
                             "unambiguously (paths contain ':')")
        cuts = existing
    i = cuts[0]
    return role, (rest[:i], rest[i + 1:])


def _figure_runs(items) -> dict[str, tuple[str, str]]:
    runs: dict[str, tuple[str, str]] = {}
    for item in items or []:
        role, pair = _figure_run(item)
        if role in runs:
            raise ValueError(f"figure --run: role {role!r} given twice")
        runs[role] = pair
    return runs


def _figure_references(items) -> dict:
    """[PDE=]REF_H5 items -> {pde or None: path}; a prefix counts as a PDE only if it names one."""
    from .pdes import PDES

    refs: dict = {}
    for item in items or []:
        pde, sep, path = item.partition("=")
        if sep and pde in PDES and path:
            key = pde
        elif sep and pde not in PDES and not Path(item).exists():
            raise ValueError(f"figure --reference: unknown equation {pde!r} in {item!r}; "
                             f"allowed: {sorted(PDES)}")
        else:
            key, path = None, item
        if key in refs:
            raise ValueError(f"figure --reference: {'unnamed reference' if key is None else key!r} "
                             "given twice")
        refs[key] = path
    return refs


def _figure_style(items) -> dict:
    """KEY=VALUE items -> a style dict (values checked and converted by ``resolve_style``)."""
    from .figures import DEFAULT_STYLE, resolve_style

    style = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"figure --style: expected KEY=VALUE, got {item!r}")
        if key not in DEFAULT_STYLE:
            raise ValueError(f"figure --style: unknown key {key!r}; allowed: {sorted(DEFAULT_STYLE)}")
        style[key] = value
    resolve_style(style)
    return style


def cmd_figure(args) -> None:
    from .figures import FIGURES, make_figure

    if args.name not in FIGURES:
        raise ValueError(f"unknown figure {args.name!r}; allowed: {sorted(FIGURES)}")
    runs = _figure_runs(args.run)
    refs = _figure_references(args.reference)
    if not refs:
        raise ValueError("give --reference [PDE=]REF_H5")
    if args.name == "fig5":
        if None in refs:
            raise ValueError("fig5: name each reference as PDE=REF_H5")
        references = refs
    else:
        references = refs if len(refs) != 1 or None not in refs else refs[None]
    result = make_figure(args.name, runs, references, args.png, args.pdf, _figure_style(args.style))
    if args.caption:
        from .captions import figure_caption
        from .io import read_metrics, write_text

        write_text(args.caption, figure_caption(args.name, {role: read_metrics(e) for role, (_, e) in runs.items()}))
    print(json.dumps(result))


def cmd_cost(args) -> None:
    import re

    from snakemake.utils import update_config

    from .cluster import cost_text, cost_totals, job_cost, load_rates
    from .dryrun import DryRunError, planned_jobs
    from .pdes import load_plugin
    from .plan import plan

    config = yaml.safe_load(Path("config.yaml").read_text())
    for path in args.configfile or []:
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    for path in config.get("pde_plugins") or []:  # as the workflow does, before planning
        load_plugin(path)
    experiments = plan(config).experiments
    rates = load_rates(args.rates)
    try:  # what `snakemake -n TARGETS --configfile ...` plans, through Snakemake's API
        planned = planned_jobs(args.targets, args.configfile or ())
    except DryRunError as err:
        raise ConfigError(f"snakemake -n: {err}") from None
    jobs = []
    for job in planned:
        if not job.rule.startswith("train"):
            continue
        runs = [re.fullmatch(r"results/runs/(\w+)/seed\d+/run\.h5", out).group(1) for out in job.outputs]
        name = job.rule if job.rule != "train" else job.outputs[0].rsplit("/", 1)[0].removeprefix("results/runs/")
        jobs.append({"name": name, **job_cost(experiments[runs[0]], len(runs), job.resources, rates)})
    jobs.sort(key=lambda job: job["name"])
    print(json.dumps({"jobs": jobs, "totals": cost_totals(jobs)}, indent=1) if args.json else cost_text(jobs))


def _add_figure_parser(sub) -> None:
    """``figure NAME --run ROLE=RUN_H5:EVAL_H5 ... --reference [PDE=]REF_H5 ... --png OUT.png
    --pdf OUT.pdf [--style KEY=VALUE ...]``."""
    from .figures import DEFAULT_STYLE, ROLES, SUBSET

    roles = "; ".join(f"{name}: {'any of ' if name in SUBSET else ''}{', '.join(r)}" for name, r in ROLES.items())
    p = sub.add_parser(
        "figure", help="draw a paper figure (PNG and PDF) from runs and their evaluations",
        description=f"Draw one of the paper's figures. Roles: {roles}.",
    )
    p.add_argument("name", metavar="NAME", help=f"the figure: {', '.join(ROLES)}")
    p.add_argument("--run", action="append", required=True, metavar="ROLE=RUN_H5:EVAL_H5",
                   help="a run file and its evaluation file for one role (repeat for every role)")
    p.add_argument("--reference", action="append", required=True, metavar="[PDE=]REF_H5",
                   help="reference solution file; fig5 needs one per equation it shows, as PDE=REF_H5")
    p.add_argument("--png", required=True, type=Path, help="PNG to write")
    p.add_argument("--pdf", required=True, type=Path, help="PDF to write")
    p.add_argument("--style", action="append", metavar="KEY=VALUE",
                   help=f"style override, one of {', '.join(DEFAULT_STYLE)}")
    p.add_argument("--caption", type=Path,
                   help="also write the figure's report caption (rst) from its runs' eval.h5")
    p.set_defaults(func=cmd_figure)


def _add_table_parser(sub) -> None:
    p = sub.add_parser("table1", help="build Table 1 (CSV + Markdown) from evaluations")
    p.add_argument("--row", action="append", required=True, metavar="METHOD=EVAL.h5[,EVAL.h5...]",
                   help="one pipeline row: a method label and the eval.h5 files of its seeds")
    p.add_argument("--csv", required=True, type=Path)
    p.add_argument("--md", type=Path)
    p.add_argument("--no-paper-rows", action="store_true", help="leave out the paper's cited rows")
    p.add_argument("--note", default="", help="a closing line for the Markdown table and the caption")
    p.add_argument("--caption", type=Path, help="also write the report caption (rst) from the table")
    p.set_defaults(func=_cmd_table1)


def _cmd_table1(args) -> None:
    from .captions import table1_caption
    from .io import write_text
    from .tables import markdown, table1, write_csv, write_markdown

    rows = []
    for item in args.row:
        method, sep, paths = item.partition("=")
        if not sep or not paths:
            raise ValueError(f"table1 --row: expected METHOD=EVAL.h5[,...], got {item!r}")
        rows.append((method, paths.split(",")))
    table = table1(rows, include_paper=not args.no_paper_rows)
    write_csv(args.csv, table)
    if args.md:
        write_markdown(args.md, table, args.note)
    if args.caption:
        write_text(args.caption, table1_caption(table, args.note))
    print(markdown(table, args.note))


def _add_study_parser(sub) -> None:
    p = sub.add_parser("study", help="aggregate a regularizer study (CSV + Markdown)")
    p.add_argument("--variant", action="append", required=True, metavar="NAME=RUN:EVAL[,RUN:EVAL...]",
                   help="a variant and its seeds' run.h5:eval.h5 pairs")
    p.add_argument("--settings", required=True, help="JSON {variant: run settings}")
    p.add_argument("--title", default="Regularizer study")
    p.add_argument("--csv", type=Path, help="write the study table as CSV")
    p.add_argument("--md", type=Path, help="write the study table as Markdown")
    p.add_argument("--caption", type=Path, help="also write the report caption (rst) from the study table")
    p.add_argument("--selection", type=Path, action="append", default=[],
                   help="a staged study's selection (`pinnfail study-select`): its strengths are used, not "
                        "recomputed from variants that now have more seeds (repeatable)")
    p.add_argument("--sweep-seeds", type=int, nargs="+", default=[],
                   help="the seeds of the sweep (the others were added after the selection)")
    p.add_argument("--continued", nargs=4, action="append", default=[], metavar=("VARIANT", "SEED", "RUN", "EVAL"),
                   help="a plateau stop of VARIANT's seed SEED continued past the stop rule")
    p.add_argument("--figure", nargs=3, action="append", default=[], metavar=("NAME", "PNG", "PDF"),
                   help="draw fig1, fig6 or convergence from the selected variants' median-rMAE seeds "
                        "(convergence: every seed), or plateaus (the --continued runs), each with its report "
                        "caption (PNG's name, .rst)")
    p.add_argument("--reference", type=Path, help="the reference solution the figures need")
    p.add_argument("--style", action="append", metavar="KEY=VALUE", help="figure style override")
    p.set_defaults(func=_cmd_study)
    p = sub.add_parser("study-select", help="after a study's sweep: the selected strengths, the seeds to add "
                                            "and the plateau stops to continue (JSON)")
    p.add_argument("--variant", action="append", required=True, metavar="NAME=RUN:EVAL[,RUN:EVAL...]")
    p.add_argument("--settings", required=True, help="JSON {variant: run settings}")
    p.add_argument("--confirm-seeds", type=int, nargs="*", default=[],
                   help="seeds added to each selected variant and to the unregularized one")
    p.add_argument("--continue-runs", type=int, default=0,
                   help="plateau stops to continue past the stop rule, per selected variant")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=_cmd_study_select)


def _study_runs(args) -> tuple[dict, dict]:
    variants = json.loads(args.settings)
    runs = {}
    for item in args.variant:
        name, sep, pairs = item.partition("=")
        if not sep or name not in variants:
            raise ValueError(f"study --variant: expected a known NAME=RUN:EVAL[,...], got {item!r}")
        runs[name] = [tuple(p.split(":", 1)) for p in pairs.split(",")]
    return runs, variants


def _classes(runs: dict) -> dict[str, dict[int, str]]:
    from .io import read_metrics

    out: dict[str, dict[int, str]] = {}
    for name, pairs in runs.items():
        for _, e in pairs:
            m = read_metrics(e)
            out.setdefault(name, {})[int(m["seed"])] = m["classification"]
    return out


def _cmd_study_select(args) -> None:
    from .io import write_text
    from .study import select_lambda, study_plan, summarize

    runs, variants = _study_runs(args)
    rows = summarize(runs, variants)
    plan = study_plan(rows, select_lambda(rows), _classes(runs), args.confirm_seeds, args.continue_runs)
    write_text(args.out, json.dumps(plan, indent=1, sort_keys=True) + "\n")
    print(json.dumps(plan, indent=1, sort_keys=True))


def _study_figures(args, runs: dict, rows: list, selected: list, continued=()) -> None:
    """The study's figures; ``continued``: (variant, seed, original run.h5, continued run.h5)."""
    from .captions import figure_caption
    from .evidence import continuation_figure, convergence_figure
    from .figures import make_figure
    from .io import Run, read_metrics, write_text
    from .study import figure_choice, median_seed

    if not args.figure:
        return
    if not args.reference and any(name in ("fig1", "fig6") for name, _, _ in args.figure):
        raise ValueError("study --figure: fig1 and fig6 need --reference")
    choice = figure_choice(rows, selected)
    style = _figure_style(args.style)
    for name, png, pdf in args.figure:
        caption = Path(png).with_suffix(".rst")
        if name == "plateaus":
            solved = next(iter(read_metrics(e)["thresholds"]["solved_rmae"] for p in runs.values() for _, e in p[:1]))
            continuation_figure([(v, int(seed), run, cont, int(Run.read(run).attrs["iterations"]))
                                 for v, seed, run, cont in continued], png, pdf, solved)
            write_text(caption, f"Plateau stops continued past the stop rule ({len(continued)} runs): test rMAE "
                       "and objective against iterations, the original stop dotted.\n")
            continue
        if name == "convergence":
            # the variants of Fig. 6 (or Fig. 1); a study without them: all of its variants
            roles = choice.get("fig6") or choice.get("fig1") or {v: v for v in runs}
            labelled = [(variant, r, e) for variant in dict.fromkeys(roles.values()) for r, e in runs[variant]]
            convergence_figure(labelled, png, pdf, by="label")
            write_text(caption, "rMAE on the test points (lines) and against the reference at the end (dots), "
                       "and the test loss, against iterations: every seed of "
                       + ", ".join(f"**{v}**" for v in dict.fromkeys(roles.values())) + ".\n")
            continue
        if name not in choice:
            raise ValueError(f"study --figure {name}: the study has no variants for it "
                             f"(fig1 needs an unregularized and a regularized variant; fig6 also L2, L1, double)")
        picked = {role: runs[variant][median_seed(runs[variant])] for role, variant in choice[name].items()}
        make_figure(name, picked, str(args.reference), png, pdf, style)
        write_text(caption, figure_caption(name, {role: read_metrics(e) for role, (_, e) in picked.items()})
                   .rstrip("\n") + " Each panel shows the seed with the median rMAE of its variant.\n")


def _cmd_study(args) -> None:
    from .captions import study_caption
    from .io import read_metrics, write_text
    from .study import (GROUP_KEYS, capped_markdown, confirmation_markdown, continuation_markdown,
                        continuation_rows, markdown, select_lambda, summarize, write_csv)

    runs, variants = _study_runs(args)
    if not (args.csv or args.md or args.caption or args.figure):
        raise ValueError("study: give at least one of --csv, --md, --caption, --figure")
    rows = summarize(runs, variants)
    # staged studies' strengths as their selections chose them (on the sweep's seeds); the other
    # studies' from their rows
    by_name = {r["variant"]: r for r in rows}
    selected = [{**s, "rmae_median": by_name[s["variant"]]["rmae_median"]}
                for path in args.selection for s in json.loads(Path(path).read_text())["selected"]
                if s["variant"] in by_name]
    chosen = {tuple(s[k] for k in GROUP_KEYS) for s in selected}
    selected += [s for s in select_lambda(rows) if tuple(s[k] for k in GROUP_KEYS) not in chosen]
    pairs = {name: {int(read_metrics(e)["seed"]): (r, e) for r, e in p} for name, p in runs.items()}
    continued = []
    for variant, seed, run, evaluation in args.continued:
        if variant not in pairs or int(seed) not in pairs[variant]:
            raise ValueError(f"study --continued: {variant} seed {seed} is not a run of the study")
        continued.append((variant, int(seed), *pairs[variant][int(seed)], run, evaluation))
    solved = next(iter(read_metrics(e)["thresholds"]["solved_rmae"] for p in runs.values() for _, e in p[:1]))
    extra = (capped_markdown(rows) + confirmation_markdown(rows, _classes(runs), set(args.sweep_seeds))
             + continuation_markdown(continuation_rows(continued, solved), solved))
    if args.csv:
        write_csv(args.csv, rows)
    if args.md:
        write_text(args.md, markdown(rows, selected, args.title) + extra)
    if args.caption:
        write_text(args.caption, study_caption(rows, args.title))
    _study_figures(args, runs, rows, selected, [(v, seed, r, c) for v, seed, r, _, c, _ in continued])
    print(markdown(rows, selected, args.title) + extra)


def _cmd_claims(args) -> None:
    from .ledger import write

    folders = [f for f in args.folders if f.is_dir()]
    if not folders:
        raise ValueError(f"claims: none of {', '.join(map(str, args.folders))} is a folder of committed runs")
    text = write(folders, args.out, args.command)
    print(text.split("## Evidence per claim")[0].rstrip())


def _add_claims_parser(sub) -> None:
    p = sub.add_parser("claims", help="the claims ledger (docs/claims.md): one verdict per claim of the paper "
                                      "from the committed runs")
    p.add_argument("folders", type=Path, nargs="+", help="folders of committed runs (as archive: names them)")
    p.add_argument("--out", type=Path, required=True, help="the ledger to write (Markdown)")
    p.add_argument("--command", default="snakemake --cores 2 docs/claims.md",
                   help="the command quoted in the ledger as the way to regenerate it")
    p.set_defaults(func=_cmd_claims)


def _cmd_readme(args) -> None:
    from .io import write_text
    from .readme import stale, update

    text = args.readme.read_text()
    if args.check:
        if late := stale(text, args.root):
            raise ValueError(f"{args.readme}: stale generated blocks: {', '.join(late)} (run `pinnfail readme`)")
        print(f"{args.readme}: generated blocks current")
        return
    write_text(args.readme, update(text, args.root))
    print(f"{args.readme}: generated blocks rewritten")


def _add_readme_parser(sub) -> None:
    p = sub.add_parser("readme", help="rewrite (or --check) the README's blocks copied from generated files")
    p.add_argument("readme", type=Path, nargs="?", default=Path("README.md"))
    p.add_argument("--root", type=Path, default=Path("."), help="the folder the blocks' sources are read from")
    p.add_argument("--check", action="store_true", help="fail if a block differs from its source; write nothing")
    p.set_defaults(func=_cmd_readme)


def _add_caption_parser(sub) -> None:
    p = sub.add_parser("caption", help="write a figure's report caption (rst) from its runs' evaluations")
    p.add_argument("figure", help="figure name, e.g. fig1")
    p.add_argument("--run", action="append", required=True, metavar="ROLE=[RUN.h5:]EVAL.h5",
                   help="a panel role and the eval.h5 of the run it shows (the figure's --run form is accepted)")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=_cmd_caption)


def _cmd_caption(args) -> None:
    from .captions import figure_caption
    from .io import read_metrics, write_text

    runs = {}
    for item in args.run:
        role, sep, path = item.partition("=")
        if not sep or not path:
            raise ValueError(f"caption --run: expected ROLE=EVAL.h5, got {item!r}")
        runs[role] = read_metrics(path.rsplit(":", 1)[-1])
    write_text(args.out, figure_caption(args.figure, runs))


def _pairs(items, what: str) -> list[tuple[str, str, str]]:
    out = []
    for item in items or []:
        label, sep, paths = item.rpartition("=")
        run_path, colon, eval_path = paths.partition(":")
        if not (sep and colon and label):
            raise ValueError(f"{what}: expected LABEL=RUN.h5:EVAL.h5, got {item!r}")
        out.append((label, run_path, eval_path))
    return out


def _add_evidence_parsers(sub) -> None:
    p = sub.add_parser("runs", help="one CSV line per run (settings, metrics, device, revision)")
    p.add_argument("--run", action="append", required=True, metavar="EXPERIMENT=RUN.h5:EVAL.h5")
    p.add_argument("--method", action="append", default=[], metavar="EXPERIMENT=METHOD",
                   help="the method column of an experiment's runs (default: the experiment name)")
    p.add_argument("--csv", required=True, type=Path)
    p.set_defaults(func=_cmd_runs)
    p = sub.add_parser("convergence", help="figure: rMAE and test loss against iterations, per equation")
    p.add_argument("--run", action="append", required=True, metavar="LABEL=RUN.h5:EVAL.h5")
    p.add_argument("--png", required=True, type=Path)
    p.add_argument("--pdf", required=True, type=Path)
    p.set_defaults(func=_cmd_convergence)


def _cmd_runs(args) -> None:
    from .evidence import run_row, write_runs_csv

    methods = dict(item.split("=", 1) for item in args.method)
    rows = [run_row(exp, methods.get(exp, exp), run_path, eval_path) for exp, run_path, eval_path in _pairs(args.run, "--run")]
    write_runs_csv(args.csv, rows)


def _cmd_convergence(args) -> None:
    from .evidence import convergence_figure

    convergence_figure(_pairs(args.run, "--run"), args.png, args.pdf)


def _cmd_archive(args) -> None:
    """Copy finished runs (run.h5 and eval.h5, never checkpoints) into an archive folder."""
    from .io import Run, copy_artifact, read_metrics

    source, copied, size = Path(args.source), 0, 0
    experiments = sorted(d for d in source.iterdir() if d.is_dir() and d.name.startswith(tuple(args.prefix))) \
        if source.is_dir() else []
    if not experiments:
        raise ValueError(f"archive: no experiment under {source} starts with {' or '.join(args.prefix)}")
    for experiment in experiments:
        for seed in sorted(experiment.glob("seed*")):
            run, evaluation = seed / "run.h5", seed / "eval.h5"
            if not (run.is_file() and evaluation.is_file()):
                print(f"pinnfail archive: skipping {seed} (no run.h5 and eval.h5 pair)", file=sys.stderr)
                continue
            if Run.read(run).attrs.get("stop_reason") == "interrupted":
                print(f"pinnfail archive: skipping {seed} (an interrupted run)", file=sys.stderr)
                continue
            read_metrics(evaluation)
            for path in (run, evaluation):
                target = Path(args.to) / experiment.name / seed.name / path.name
                copy_artifact(path, target)
                size += target.stat().st_size
            copied += 1
    print(f"pinnfail archive: {copied} runs ({size / 1e6:.1f} MB) from {source} to {args.to}")


def _cmd_publish(args) -> None:
    from .io import copy_file

    for path in args.files:
        copy_file(path, Path(args.to) / Path(path).name)
        print(f"{path} -> {Path(args.to) / Path(path).name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinnfail", description=__doc__.split("\n")[0])
    parser.add_argument("--pde-plugin", action="append", default=[], metavar="FILE",
                        help="before the subcommand: a Python file defining PINNFAIL_PDES, "
                             "equations to add to the registry (repeatable)")
    sub = parser.add_subparsers(dest="subcommand", required=True)  # not "command": study has a --command

    from .pdes import PDES

    p = sub.add_parser("reference", help="compute a reference solution (HDF5)")
    p.add_argument("--pde", required=True, choices=sorted(PDES))
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="PDE parameter override")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="reference setting, e.g. nx=256, nt=101 (allen_cahn: modes, dt, ...)")
    p.set_defaults(func=cmd_reference)

    p = sub.add_parser("train", help="train a PINN (one or several seeds of one configuration)")
    p.add_argument("--config", help="YAML/JSON file of run settings; flags override it")
    p.add_argument("--config-json", help="run settings as a JSON string (used by the workflow)")
    _add_run_flags(p)
    p.add_argument("--out", help="run.h5 to write (one seed)")
    p.add_argument("--seeds", type=int, nargs="+", help="train these seeds at once (batched)")
    p.add_argument("--outs", nargs="+", help="one run.h5 per seed, with --seeds")
    p.add_argument("--lambdas", type=float, nargs="+",
                   help="one lambda per seed, with --seeds (members may differ in lambda; default: --lambda)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--require-gpu", action=argparse.BooleanOptionalAction, default=None,
                   help="stop at once if CUDA_VISIBLE_DEVICES names GPUs (a Slurm gres job) but JAX sees none "
                        "(default: on unless PINNFAIL_REQUIRE_GPU=0, which the workflow sets from "
                        "config.yaml cluster.require_gpu: false)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("signature", help="add the collocation signature to the eval.h5 beside each run.h5 "
                                         "(an evaluation made before the metric existed); prints JSON lines")
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN_H5")
    p.set_defaults(func=cmd_signature)

    p = sub.add_parser("evaluate", help="evaluate a run against a reference; prints JSON")
    p.add_argument("run", type=Path)
    p.add_argument("--reference", required=True, type=Path)
    p.add_argument("--out", type=Path, help="also write eval.h5")
    p.add_argument("--threshold", action="append", metavar="NAME=VALUE",
                   help="classification thresholds: overfit_ratio, solved_rmae")
    p.add_argument("--residual-grid", type=_grid, default=[256, 256], help="residual map grid NXxNT")
    p.add_argument("--slice-grid", type=_grid, default=[2001, 11],
                   help="residual slices (Fig. 3): NX points on an x line, at the run's training "
                        "times and NT regular times")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("cost", help="preview the training jobs of a target: Slurm request and measured GPU-hours")
    p.add_argument("targets", nargs="*", default=["results/table1.csv"], help="Snakemake targets (default: Table 1)")
    p.add_argument("--configfile", nargs="+", help="config files merged over ./config.yaml, as snakemake's")
    p.add_argument("--rates", nargs="+", default=["benchmarks/results/gpu_check_h100.json"],
                   help="benchmarks/gpu_check.py results whose iterations/s price the jobs")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_cost)

    p = sub.add_parser("archive", help="commit finished runs: copy run.h5 and eval.h5 (no checkpoints) "
                                        "into a folder that config.yaml's `archive:` reads instead of training")
    p.add_argument("prefix", nargs="+", help="experiments whose names start with this, e.g. fig6_cpu__")
    p.add_argument("--from", dest="source", default="results/runs", help="the runs folder (default: results/runs)")
    p.add_argument("--to", required=True, help="the archive folder, e.g. docs/results/cpu/fig6/runs")
    p.set_defaults(func=_cmd_archive)

    p = sub.add_parser("publish", help="copy products (a study's md/csv/figures) into a committed folder, atomically")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--to", required=True, type=Path, help="the folder, e.g. docs/results/cpu/fig6")
    p.set_defaults(func=_cmd_publish)

    _add_table_parser(sub)
    _add_figure_parser(sub)
    _add_study_parser(sub)
    _add_caption_parser(sub)
    _add_claims_parser(sub)
    _add_readme_parser(sub)
    _add_evidence_parsers(sub)
    return parser


def main(argv=None) -> int:
    from .pdes import load_plugin

    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    early.add_argument("--pde-plugin", action="append", default=[])
    try:
        for path in early.parse_known_args(argv)[0].pde_plugin:  # the parser's choices need them
            load_plugin(path)
    except ValueError as err:
        print(f"pinnfail: error: {err}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ConfigError, ValueError, FileNotFoundError) as err:
        print(f"pinnfail {args.subcommand}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the machine, not the input: a full disk, a read-only folder, ...
        print(f"pinnfail {args.subcommand}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    return 0


def _one_line(err: OSError) -> str:
    """An OSError in one line that names its file: pinnfail's own errors already do
    (io.WriteError, checkpoint.CheckpointError); others carry it in ``filename``."""
    text = " ".join(str(err).split())
    if err.filename is not None and str(err.filename) not in text:
        text = f"{err.filename}: {text}"
    return text[:500]


if __name__ == "__main__":
    sys.exit(main())
