"""Configuration: schemas completed from the PDE registry, validated with messages that name
the field; numbers must be finite everywhere."""
from __future__ import annotations

import hashlib
import json
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import jsonschema
import numpy as np

from pinnfail.numerics.pdes import PDES, get_pde


# Run settings that never change a run's result (when a checkpoint is written, whether the last
# one is kept, the order of the objective's sums): runs differing only in them are the same run,
# as runs on two devices are. Not log_every: it is when the stop rule is checked, so it can move
# the iteration where a run stops (a run with another log_every trains anew).
NO_EFFECT_KEYS = ("checkpoint_every", "keep_checkpoint", "point_block")
# Settings a finished run may differ in from a run that continues it (more iterations).
RESUMABLE_KEYS = ("max_iters", *NO_EFFECT_KEYS)
# How a finished run must have ended to be continued (by the cap, or by the stop rule, which a
# continuation ends again at once): not diverged or interrupted.
CONTINUABLE = ("max_iters", "converged")


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field."""


@lru_cache(maxsize=None)
def _run_schema_file() -> str:
    return resources.files("pinnfail").joinpath("schemas/run.schema.json").read_text()


def with_pde_names(schema: dict, where: dict) -> dict:
    """``schema`` with the registry's equation names as the enum of ``where`` (a sub-schema)."""
    where["enum"] = list(PDES)
    return schema


def run_schema() -> dict:
    """The run schema (src/pinnfail/schemas/run.schema.json), ``pde`` enumerating the registry."""
    schema = json.loads(_run_schema_file())
    return with_pde_names(schema, schema["properties"]["pde"])


def non_finite(instance: Any, prefix: str = "config") -> list[str]:
    """Messages for every NaN or infinite number in ``instance`` (nested), naming its field."""
    if isinstance(instance, float) and not math.isfinite(instance):
        return [f"{prefix}: {instance} is not a finite number"]
    if isinstance(instance, Mapping):
        return [m for key, value in instance.items() for m in non_finite(value, f"{prefix}.{key}")]
    if isinstance(instance, (list, tuple)):
        return [m for i, value in enumerate(instance) for m in non_finite(value, f"{prefix}.{i}")]
    return []


def _field(error: jsonschema.ValidationError, prefix: str) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"{prefix}.{path}" if path else prefix


def _message(error: jsonschema.ValidationError, prefix: str) -> str:
    where = _field(error, prefix)
    if error.validator == "enum":
        hint = ("; an equation defined in a plugin file needs it: pinnfail --pde-plugin FILE, or "
                "pde_plugins: [FILE] in the workflow config" if where.split(".")[-1] == "pde" else "")
        return f"{where}: {error.instance!r} is not allowed; allowed: {error.validator_value}{hint}"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f"; allowed: {allowed}" if allowed else ""
        return f"{where}: unknown key(s) {extra}{hint}"
    if error.validator == "type" and isinstance(error.instance, str) and _looks_numeric(error.instance):
        return (f"{where}: {error.message} (YAML reads {error.instance} as text: write it with a decimal "
                f"point, e.g. {_with_point(error.instance)})")
    return f"{where}: {error.message}"


_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _looks_numeric(text: str) -> bool:
    """Digits with an optional point and exponent (not 'nan' or 'inf', which have no point to add)."""
    return _DECIMAL.fullmatch(text.strip()) is not None


def _with_point(text: str) -> str:
    """'1e-3' -> '1.0e-3', '5e4' -> '5.0e+4': the spelling YAML 1.1 reads as a number (a
    decimal point, and a signed exponent)."""
    mantissa, _, exponent = text.lower().partition("e")
    mantissa = mantissa if "." in mantissa else f"{mantissa}.0"
    if exponent and exponent[0] not in "+-":
        exponent = f"+{exponent}"
    return f"{mantissa}e{exponent}" if exponent else mantissa


def validate(instance: Any, schema: Mapping, prefix: str = "config") -> None:
    """Raise ConfigError naming every non-finite number, or else every violation of ``schema``
    (JSON Schema's ``number`` admits NaN and infinity)."""
    messages = non_finite(instance, prefix)
    if not messages:
        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        messages = [_message(e, prefix) for e in errors]
    if messages:
        raise ConfigError("\n".join(messages))


def run_config(values: Mapping[str, Any], prefix: str = "run") -> dict:
    """A complete run config: schema defaults filled in, validated, cross-checked."""
    schema = run_schema()
    validate(dict(values), schema, prefix)
    config = {k: spec["default"] for k, spec in schema["properties"].items() if "default" in spec}
    config.update(values)
    config["grid"] = list(config["grid"])
    if config["stop_window"] % config["log_every"]:
        raise ConfigError(
            f"{prefix}.stop_window: must be a multiple of log_every ({config['log_every']}), "
            f"got {config['stop_window']}"
        )
    if config["checkpoint_every"] % config["log_every"]:
        raise ConfigError(
            f"{prefix}.checkpoint_every: must be a multiple of log_every ({config['log_every']}), "
            f"got {config['checkpoint_every']}"
        )
    pde = get_pde(config["pde"])
    try:
        pde.params(config["pde_params"])
    except ValueError as err:
        raise ConfigError(f"{prefix}.{err}") from None
    terms = ("domain",) + pde.condition_names
    unknown = sorted(set(config["weights"]) - set(terms))
    if unknown:
        raise ConfigError(f"{prefix}.weights: unknown term(s) {unknown}; allowed: {list(terms)}")
    if config["regularizer"] == "none" and config["lambda"] != 0:
        raise ConfigError(f"{prefix}.lambda: must be 0 with regularizer 'none', got {config['lambda']}")
    return config


def stop_tolerance(config: Mapping[str, Any]) -> float:
    """The stop rule's threshold: ``stop_tolerance``, or sqrt(eps) of the run's precision (the paper's)."""
    if config.get("stop_tolerance") is not None:
        return float(config["stop_tolerance"])
    return math.sqrt(float(np.finfo(np.float64 if config["precision"] == "fp64" else np.float32).eps))


def config_hash(config: Mapping[str, Any]) -> str:
    """A stable short hash of a config (used to match checkpoints to runs)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
