"""Command line: ``pinnfail reference | train | evaluate | table1 | figure | study``.

Every training setting of the run schema is a ``train`` flag (generated from
the schema, so flags, --config files and the Snakemake rules cannot drift).
Errors in input print one message naming the field and exit with status 2;
nothing is written then.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from .config import ConfigError, run_schema


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
            parser.add_argument(flag, type=types[spec["type"]], dest=name, choices=spec.get("enum"),
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


def cmd_train(args) -> None:
    from .config import run_config
    from .train import train

    values = _run_values(args)
    seeds = args.seeds if args.seeds is not None else [values.get("seed", 0)]
    outs = args.outs if args.outs is not None else ([args.out] if args.out else None)
    if not outs or len(outs) != len(seeds):
        raise ConfigError("train: give --out PATH for one seed, or --seeds S... with as many --outs PATH...")
    members = train(run_config(values), seeds, outs, progress=not args.quiet)
    for m in members:
        print(json.dumps({"seed": m.seed, "out": str(m.out), "stop_reason": m.stop_reason,
                          "iterations": int(m.history.last("iteration")),
                          "wall_time_s": round(m.wall_time, 3)}))


def cmd_evaluate(args) -> None:
    from .evaluate import evaluate, write_evaluation

    thresholds = _key_values(args.threshold, "thresholds")
    result = evaluate(args.run, args.reference, residual_grid=args.residual_grid, thresholds=thresholds)
    if args.out:
        write_evaluation(args.out, result)
    print(json.dumps(result["metrics"], default=float))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinnfail", description=__doc__.split("\n")[0])
    parser.add_argument("--pde-plugin", action="append", default=[], metavar="FILE",
                        help="before the subcommand: a Python file defining PINNFAIL_PDES, "
                             "equations to add to the registry (repeatable)")
    sub = parser.add_subparsers(dest="command", required=True)

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
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a run against a reference; prints JSON")
    p.add_argument("run", type=Path)
    p.add_argument("--reference", required=True, type=Path)
    p.add_argument("--out", type=Path, help="also write eval.h5")
    p.add_argument("--threshold", action="append", metavar="NAME=VALUE",
                   help="failure-mode thresholds: overfit_ratio, error")
    p.add_argument("--residual-grid", type=_grid, default=[256, 256], help="residual map grid NXxNT")
    p.set_defaults(func=cmd_evaluate)

    from .tables import add_table_parser
    from .figures import add_figure_parser
    from .study import add_study_parser

    add_table_parser(sub)
    add_figure_parser(sub)
    add_study_parser(sub)
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
        print(f"pinnfail {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
