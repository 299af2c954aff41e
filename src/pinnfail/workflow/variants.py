"""A study's variants: the settings crossed from its list values, each named once (planning; no JAX).
"""
from __future__ import annotations


import itertools


from pinnfail.numerics.config import ConfigError, run_config




def variant_name(settings: dict) -> str:
    settings = run_config(settings)  # the run schema's defaults filled in
    parts = [settings["pde"], settings["regularizer"]]
    if settings["regularizer"] == "double":
        parts.append(settings["double_form"])
    if settings["regularizer"] != "none":
        parts.append(f"{float(settings['lambda']):.0e}".replace("+", ""))
    parts.append(settings["precision"])
    return "_".join(parts).replace(".", "p").replace("-", "m")


def _choices(key: str, value) -> list:
    """A block value as a list of choices; a grid [nx, nt] is one choice, [[..], [..]] several."""
    if not isinstance(value, list):
        return [value]
    if key == "grid" and not any(isinstance(v, list) for v in value):
        return [value]
    return value


def expand_study(study: dict, defaults: dict | None = None) -> dict[str, dict]:
    """{variant name: run settings} for every combination in the study's blocks (named with
    ``defaults``, the workflow's run_defaults, filled in)."""
    combos = []
    for block in study["variants"]:
        keys = sorted(block)
        values = [_choices(k, block[k]) for k in keys]
        for combo in itertools.product(*values):
            settings = {**study["base"], **dict(zip(keys, combo))}
            combos.append((variant_name({**(defaults or {}), **settings}), settings))
    # variants that differ only in their grid are named with it: wave_none_fp64_12x12
    names = [name for name, _ in combos]
    variants = {}
    for name, settings in combos:
        if names.count(name) > 1:
            grid = settings.get("grid", (defaults or {}).get("grid", [20, 20]))
            name = f"{name}_{grid[0]}x{grid[1]}"
        if name in variants:
            raise ConfigError(f"variants: {name!r} is defined twice")
        variants[name] = settings
    return variants
