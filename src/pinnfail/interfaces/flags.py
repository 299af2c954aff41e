"""Command-line flags: the run settings as flags generated from the run schema (so flags,
--config files and the workflow's --config-json cannot drift), and NAME=VALUE flags
(``--param``, ``--weight``, ``--set``, ``--threshold``) read as YAML values."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from pinnfail.numerics.config import ConfigError, run_schema


def key_values(items, what: str) -> dict:
    """NAME=VALUE flags (``--param``, ``--weight``, ``--set``, ``--threshold``), VALUE read as YAML."""
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


def grid(text: str) -> list[int]:
    try:
        nx, nt = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"grid: expected NXxNT (e.g. 20x20), got {text!r}") from None
    return [nx, nt]


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    types = {"integer": int, "number": float, "string": str}
    for name, spec in run_schema()["properties"].items():
        flag = "--" + name.replace("_", "-")
        help_text = spec.get("description", "")
        if "default" in spec:
            help_text += f" (default: {spec['default']})"
        if name == "grid":
            parser.add_argument(flag, type=grid, dest=name, help="training grid NXxNT" + help_text[help_text.find(" (default"):])
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


def run_values(args) -> dict:
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
        if value is not None and name in ("pde_params", "weights"):
            value = {**values.get(name, {}), **key_values(value, name)}
        if value is not None:
            values[name] = value
    return values
