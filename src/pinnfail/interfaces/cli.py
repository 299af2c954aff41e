"""Command line: ``pinnfail reference | train | evaluate | cost | table1 | figure | study | ...``.

Each command parses its arguments, calls one library function and prints. Every training
setting of the run schema is a ``train`` flag (generated from the schema, so flags, --config
files and the Snakemake rules cannot drift). The workflow's jobs hand the products' commands
(``table1``, ``figure``, ``study``, ``study-select``, ``runs``, ``convergence``, ``caption``)
one structured manifest (``--manifest JSON`` or a JSON file; ``pinnfail.workflow.manifest``).
Errors in input print one message naming the field and exit with status 2; nothing is written
then. Errors of the machine (an ``OSError``: a full disk, a read-only folder, a damaged
checkpoint that cannot be moved aside) print one message naming the file and exit with status
1; no half-written file is left.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pinnfail.numerics import history as H
from pinnfail.workflow import layout
from pinnfail.workflow import manifest as M
from pinnfail.numerics.config import ConfigError
from pinnfail.interfaces.flags import add_run_flags, grid, key_values, run_values


def _manifest(args):
    """The command's manifest (``--manifest JSON|FILE``), read by its type."""
    return M.read(M.COMMANDS[args.subcommand], args.manifest)


def cmd_reference(args) -> None:
    from pinnfail.artifacts.formats import write_reference
    from pinnfail.numerics.reference import compute_reference

    job = _manifest(args) if args.manifest else M.ReferenceJob(
        args.pde, key_values(args.param, "pde_params"), key_values(args.set, "reference"))
    if not job.pde:
        raise ConfigError("reference: give --pde or --manifest")
    ref = compute_reference(job.pde, job.params, job.settings)
    write_reference(args.out, ref)
    print(json.dumps({"pde": ref.pde, "out": str(args.out), "shape": list(ref.u.shape), "wall_time_s": ref.wall_time}))


def cmd_train(args) -> None:
    from pinnfail.workflow.cluster import gpu_guard
    from pinnfail.numerics.config import run_config
    from pinnfail.products.train import train

    if args.require_gpu if args.require_gpu is not None else os.environ.get("PINNFAIL_REQUIRE_GPU") != "0":
        gpu_guard()
    values = run_values(args)
    seeds = args.seeds if args.seeds is not None else [values.get("seed", 0)]
    outs = args.outs if args.outs is not None else ([args.out] if args.out else None)
    if not outs or len(outs) != len(seeds):
        raise ConfigError("train: give --out PATH for one seed, or --seeds S... with as many --outs PATH...")
    for flag in ("lambdas", "continue_from", "checkpoints"):
        given = getattr(args, flag)
        if given is not None and len(given) != len(seeds):
            raise ConfigError(f"train: --{flag.replace('_', '-')} needs one value per seed ({len(seeds)}), "
                              f"got {len(given)}")
    continued = None if args.continue_from is None else [None if r == "-" else r for r in args.continue_from]
    for m in train(run_config(values), seeds, outs, checkpoints=args.checkpoints, progress=not args.quiet,
                   lambdas=args.lambdas, continue_from=continued, keep_last=args.keep_last,
                   code_version=args.code_version):
        print(json.dumps({"seed": m.seed, "lambda": m.lam, "out": str(m.out), "stop_reason": m.stop_reason,
                          "iterations": int(m.history.last(H.ITERATION)), "wall_time_s": round(m.wall_time, 3),
                          **({"continued_from_iteration": m.continued["iteration"]} if m.continued else {})}))


def cmd_evaluate(args) -> None:
    from pinnfail.products.evaluate import evaluate, write_result

    if args.manifest:
        job = _manifest(args)
    elif args.run and args.reference:
        test_set = None if args.test_points is None else {
            "domain": args.test_points[0], "line": args.test_points[1], "seed": args.test_seed}
        job = M.Evaluate(str(args.run), str(args.reference), key_values(args.threshold, "thresholds"), args.residual_grid,
                         test_set)
    else:
        raise ConfigError("evaluate: give RUN and --reference REF_H5, or --manifest")
    result = evaluate(job.run, job.reference, residual_grid=job.residual_grid, thresholds=job.thresholds,
                      slice_grid=args.slice_grid, test_set=job.test_set)
    if args.out:
        write_result(args.out, result)
    print(json.dumps(result["metrics"], default=float))


def cmd_signature(args) -> None:
    from pinnfail.products.evaluate import amend_signature

    for run in args.runs:
        print(json.dumps({"run": str(run), **amend_signature(run, run.with_name("eval.h5"))}, default=float))


def cmd_table1(args) -> None:
    from pinnfail.products.tables import write_table1

    print(write_table1(_manifest(args), args.csv, args.md, args.caption,
                       include_paper=not args.no_paper_rows))


def cmd_figure(args) -> None:
    from pinnfail.products.figures import draw

    print(json.dumps(draw(_manifest(args), args.png, args.pdf, args.caption)))


def cmd_study(args) -> None:
    from pinnfail.interfaces.study_job import write

    print(write(_manifest(args), args.csv, args.md, args.caption))


def cmd_study_select(args) -> None:
    from pinnfail.interfaces.study_job import select

    print(json.dumps(select(_manifest(args), args.out), indent=1, sort_keys=True))


def cmd_caption(args) -> None:
    from pinnfail.products.captions import figure_caption
    from pinnfail.artifacts.formats import read_metrics
    from pinnfail.artifacts.files import write_text

    job = _manifest(args)
    write_text(args.out, figure_caption(job.figure, {role: read_metrics(e) for role, e in job.evals.items()}))


def cmd_runs(args) -> None:
    from pinnfail.products.evidence import write_runs

    write_runs(_manifest(args), args.csv)


def cmd_convergence(args) -> None:
    from pinnfail.products.evidence import convergence_figure

    job = _manifest(args)
    convergence_figure([(r.label, r.run, r.eval) for r in job.runs], args.png, args.pdf)


def cmd_cost(args) -> None:
    from pinnfail.workflow.cluster import cost_text, cost_totals
    from pinnfail.workflow.dryrun import cost_preview

    jobs = cost_preview(args.targets, args.configfile or (), args.rates)
    print(json.dumps({"jobs": jobs, "totals": cost_totals(jobs)}, indent=1) if args.json else cost_text(jobs))


def cmd_archive(args) -> None:
    from pinnfail.products.evidence import archive

    copied, size, skipped = archive(args.prefix, args.source, args.to)
    for seed in skipped:
        print(f"pinnfail archive: skipping {seed}", file=sys.stderr)
    print(f"pinnfail archive: {copied} runs ({size / 1e6:.1f} MB) from {args.source} to {args.to}")


def cmd_publish(args) -> None:
    from pinnfail.artifacts.files import copy_file

    for path in args.files:
        copy_file(path, Path(args.to) / Path(path).name)
        print(f"{path} -> {Path(args.to) / Path(path).name}")


def cmd_claims(args) -> None:
    from pinnfail.products.ledger import write

    folders = [f for f in args.folders if f.is_dir()]
    if not folders:
        raise ValueError(f"claims: none of {', '.join(map(str, args.folders))} is a folder of committed runs")
    print(write(folders, args.out, args.command).split("## Evidence per claim")[0].rstrip())


def cmd_readme(args) -> None:
    from pinnfail.products.readme import rewrite

    print(rewrite(args.readme, args.root, check=args.check))


# -- the parser: one small function per group of commands ------------------------------------
def _manifest_flag(p, what: str, required: bool = True) -> None:
    p.add_argument("--manifest", required=required, metavar="JSON|FILE",
                   help=f"{what} as JSON, or a JSON file (pinnfail.workflow.manifest; the workflow writes it)")


def _add_reference_and_train(sub) -> None:
    from pinnfail.numerics.pdes import PDES

    p = sub.add_parser("reference", help="compute a reference solution (HDF5)")
    p.add_argument("--pde", choices=sorted(PDES))
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="PDE parameter override")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="reference setting, e.g. nx=256, nt=101 (allen_cahn: modes, dt, ...)")
    _manifest_flag(p, "the equation, its parameters and the solver's settings (instead of the flags)", False)
    p.set_defaults(func=cmd_reference)
    p = sub.add_parser("train", help="train a PINN (one or several seeds of one configuration)")
    p.add_argument("--config", help="YAML/JSON file of run settings; flags override it")
    p.add_argument("--config-json", help="run settings as a JSON string (used by the workflow)")
    add_run_flags(p)
    p.add_argument("--out", help="run.h5 to write (one seed)")
    p.add_argument("--seeds", type=int, nargs="+", help="train these seeds at once (batched)")
    p.add_argument("--outs", nargs="+", help="one run.h5 per seed, with --seeds")
    p.add_argument("--lambdas", type=float, nargs="+",
                   help="one lambda per seed, with --seeds (members may differ in lambda; default: --lambda)")
    p.add_argument("--continue-from", nargs="+", metavar="RUN_H5",
                   help="continue these finished runs (one per seed; '-' for none): same settings, fewer "
                        "iterations than --max-iters; from their final parameters, the L-BFGS memory restarted")
    p.add_argument("--checkpoints", nargs="+", metavar="PATH",
                   help="one checkpoint per seed (default: beside each output, OUT.ckpt.h5)")
    p.add_argument("--keep-last", action="store_true",
                   help="keep a copy of each finished run beside its checkpoint (X.last.h5): a later job "
                        "with a larger --max-iters continues it (the workflow's jobs do)")
    p.add_argument("--code-version", default="",
                   help="a name for the code that trains (the workflow passes its train stage's hash): a run "
                        "kept by --keep-last is continued only by the same")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--require-gpu", action=argparse.BooleanOptionalAction, default=None,
                   help="stop at once if CUDA_VISIBLE_DEVICES names GPUs (a Slurm gres job) but JAX sees none "
                        "(default: on unless PINNFAIL_REQUIRE_GPU=0, which the workflow sets from "
                        "config.yaml cluster.require_gpu: false)")
    p.set_defaults(func=cmd_train)


def _add_evaluate(sub) -> None:
    p = sub.add_parser("signature", help="add the collocation signature to the eval.h5 beside each run.h5 "
                                         "(an evaluation made before the metric existed); prints JSON lines")
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN_H5")
    p.set_defaults(func=cmd_signature)
    p = sub.add_parser("evaluate", help="evaluate a run against a reference; prints JSON")
    p.add_argument("run", type=Path, nargs="?")
    p.add_argument("--reference", type=Path)
    p.add_argument("--out", type=Path, help="also write eval.h5")
    p.add_argument("--threshold", action="append", metavar="NAME=VALUE",
                   help="classification thresholds: overfit_ratio, solved_rmae")
    p.add_argument("--residual-grid", type=grid, default=[256, 256], help="residual map grid NXxNT")
    p.add_argument("--slice-grid", type=grid, default=[2001, 11],
                   help="residual slices (Fig. 3): NX points on an x line, at the run's training "
                        "times and NT regular times")
    p.add_argument("--test-points", type=int, nargs=2, metavar=("N_DOMAIN", "N_LINE"),
                   help="test the final network on a fresh set: N_DOMAIN random domain points and N_LINE on each "
                        "line (the paper: 10000 10000); default: the training history's own test points")
    p.add_argument("--test-seed", type=int, default=0, help="the fresh test set's seed (the same for every run)")
    _manifest_flag(p, "the run, reference, thresholds, residual grid and test set (instead of the flags)", False)
    p.set_defaults(func=cmd_evaluate)


def _add_products(sub) -> None:
    p = sub.add_parser("table1", help="build Table 1 (CSV + Markdown) from evaluations")
    _manifest_flag(p, "the pipeline rows (method, eval.h5 of its seeds) and the note")
    p.add_argument("--csv", required=True, type=Path)
    p.add_argument("--md", type=Path)
    p.add_argument("--no-paper-rows", action="store_true", help="leave out the paper's cited rows")
    p.add_argument("--caption", type=Path, help="also write the report caption (rst) from the table")
    p.set_defaults(func=cmd_table1)
    p = sub.add_parser("figure", help="draw a paper figure (PNG and PDF) from runs and their evaluations")
    _manifest_flag(p, "the figure, its runs by role, the references by equation and the style")
    p.add_argument("--png", required=True, type=Path)
    p.add_argument("--pdf", required=True, type=Path)
    p.add_argument("--caption", type=Path, help="also write the figure's report caption (rst)")
    p.set_defaults(func=cmd_figure)
    p = sub.add_parser("caption", help="write a figure's report caption (rst) from its runs' evaluations")
    _manifest_flag(p, "the figure and the eval.h5 of each role")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=cmd_caption)
    p = sub.add_parser("study", help="aggregate a regularizer study (CSV, Markdown, figures)")
    _manifest_flag(p, "the variants (settings, runs), selections, continued runs and figures")
    p.add_argument("--csv", type=Path)
    p.add_argument("--md", type=Path)
    p.add_argument("--caption", type=Path, help="also write the report caption (rst) from the study table")
    p.set_defaults(func=cmd_study)
    p = sub.add_parser("study-select", help="after a study's sweep: the selected strengths, the seeds to add "
                                            "and the plateau stops to continue (JSON)")
    _manifest_flag(p, "the sweep's variants, the seeds to confirm and the runs to continue")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=cmd_study_select)


def _add_evidence(sub) -> None:
    p = sub.add_parser("runs", help="one CSV line per run (settings, metrics, device, revision)")
    _manifest_flag(p, "the runs (experiment, method, run.h5, eval.h5)")
    p.add_argument("--csv", required=True, type=Path)
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser("convergence", help="figure: rMAE and test loss against iterations, per equation")
    _manifest_flag(p, "the runs (label, run.h5, eval.h5)")
    p.add_argument("--png", required=True, type=Path)
    p.add_argument("--pdf", required=True, type=Path)
    p.set_defaults(func=cmd_convergence)
    p = sub.add_parser("claims", help="the claims ledger (docs/claims.md): one verdict per claim of the paper "
                                      "from the committed runs")
    p.add_argument("folders", type=Path, nargs="+", help="folders of committed runs (as archive: names them)")
    p.add_argument("--out", type=Path, required=True, help="the ledger to write (Markdown)")
    p.add_argument("--command", default=f"snakemake --cores 2 {layout.CLAIMS_DOC}",
                   help="the command quoted in the ledger as the way to regenerate it")
    p.set_defaults(func=cmd_claims)
    p = sub.add_parser("readme", help="rewrite (or --check) the README's blocks copied from generated files")
    p.add_argument("readme", type=Path, nargs="?", default=Path("README.md"))
    p.add_argument("--root", type=Path, default=Path("."), help="the folder the blocks' sources are read from")
    p.add_argument("--check", action="store_true", help="fail if a block differs from its source; write nothing")
    p.set_defaults(func=cmd_readme)


def _add_workflow(sub) -> None:
    p = sub.add_parser("cost", help="preview the training jobs of a target: Slurm request and measured GPU-hours")
    p.add_argument("targets", nargs="*", default=[layout.TABLE1_CSV], help="Snakemake targets (default: Table 1)")
    p.add_argument("--configfile", nargs="+", help="config files merged over ./config.yaml, as snakemake's")
    p.add_argument("--rates", nargs="+", default=["benchmarks/results/gpu_check_h100.json"],
                   help="benchmarks/gpu_check.py results whose iterations/s price the jobs")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_cost)
    p = sub.add_parser("archive", help="commit finished runs: copy run.h5 and eval.h5 (no checkpoints) "
                                        "into a folder that config.yaml's `archive:` reads instead of training")
    p.add_argument("prefix", nargs="+", help="experiments whose names start with this, e.g. fig6_cpu__")
    p.add_argument("--from", dest="source", default=layout.RUNS, help=f"the runs folder (default: {layout.RUNS})")
    p.add_argument("--to", required=True, help="the archive folder, e.g. docs/results/cpu/fig6/runs")
    p.set_defaults(func=cmd_archive)
    p = sub.add_parser("publish", help="copy products (a study's md/csv/figures) into a committed folder, atomically")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--to", required=True, type=Path, help="the folder, e.g. docs/results/cpu/fig6")
    p.set_defaults(func=cmd_publish)


# The optional dependencies a command may need, by top-level module, and the extra that brings each.
EXTRAS = {"snakemake": "workflow", "snakemake_interface_executor_plugins": "workflow",
          "snakemake_executor_plugin_slurm": "slurm"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinnfail", description=__doc__.split("\n")[0])
    parser.add_argument("--pde-plugin", action="append", default=[], metavar="FILE",
                        help="a Python file defining PINNFAIL_PDES, equations to add to the registry "
                             "(repeatable; before or after the subcommand)")
    sub = parser.add_subparsers(dest="subcommand", required=True)  # not "command": claims has a --command
    for add in (_add_reference_and_train, _add_evaluate, _add_workflow, _add_products, _add_evidence):
        add(sub)
    return parser


def plugins_first(argv) -> tuple[list[str], list[str]]:
    """(the --pde-plugin files, ``argv`` with them moved before the subcommand): the flag is
    accepted before or after the subcommand, and the parser takes it before."""
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    early.add_argument("--pde-plugin", action="append", default=[])
    known, rest = early.parse_known_args(list(argv))
    return known.pde_plugin, [a for path in known.pde_plugin for a in ("--pde-plugin", path)] + rest


def main(argv=None) -> int:
    from pinnfail.numerics.pdes import load_plugin

    plugins, argv = plugins_first(sys.argv[1:] if argv is None else argv)
    try:
        for path in plugins:  # the parser's choices need them
            load_plugin(path)
    except ValueError as err:
        print(f"pinnfail: error: {err}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ModuleNotFoundError as err:  # an optional dependency this command needs
        extra = EXTRAS.get((err.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"pinnfail {args.subcommand}: error: needs {err.name.split('.')[0]}, which is not installed: "
              f"python3 -m pip install 'pinnfail[{extra}]' (or -e \".[{extra}]\" in a checkout)", file=sys.stderr)
        return 2
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
