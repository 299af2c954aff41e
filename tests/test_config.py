"""Configuration: schemas completed from the PDE registry; one line per bad field, non-finite
numbers refused everywhere (JSON Schema's ``number`` admits NaN and infinity)."""
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from pinnfail.numerics.config import ConfigError, non_finite, run_config, run_schema, validate
from pinnfail.workflow.plan import workflow_schema
from pinnfail.numerics.pdes import CONVECTION, PDES, register

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
RUN = {"pde": "convection", "regularizer": "l2", "lambda": 1e-5}


@pytest.fixture
def toy():
    """A registered equation beyond the paper's four, for one test."""
    pde = register(replace(CONVECTION, name="toy"))
    yield pde
    del PDES["toy"]


@pytest.mark.parametrize("values, field", [
    ({"pde_params": {"beta": float("nan")}}, "run.pde_params.beta: nan"),
    ({"lambda": float("inf")}, "run.lambda: inf"),
    ({"weights": {"initial": float("-inf")}}, "run.weights.initial: -inf"),
])
def test_non_finite_run_settings_are_refused_naming_the_field(values, field):
    with pytest.raises(ConfigError) as err:
        run_config({**RUN, **values})
    assert str(err.value) == f"{field} is not a finite number"


def test_non_finite_numbers_are_found_at_any_depth():
    config = {"a": [1.0, {"b": float("nan")}], "c": {"d": 2, "e": float("inf"), "f": "nan"}}
    assert non_finite(config) == ["config.a.1.b: nan is not a finite number",
                                  "config.c.e: inf is not a finite number"]
    assert non_finite({"x": 1e308, "y": -0.0, "z": True}) == []


def test_the_run_schema_enumerates_the_registry(toy):
    assert run_schema()["properties"]["pde"]["enum"] == list(PDES) == [
        "convection", "reaction", "wave", "allen_cahn", "toy"]
    assert run_config({"pde": "toy"})["pde"] == "toy"


def test_an_unregistered_equation_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match=r"run.pde: 'toy' is not allowed; allowed: \['convection'"):
        run_config({"pde": "toy"})


def full_config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_the_shipped_config_is_valid():
    validate(full_config(), workflow_schema(WORKFLOW_SCHEMA))


@pytest.mark.parametrize("overlay", sorted((ROOT / "workflow/presets").glob("*.yaml")), ids=lambda p: p.name)
def test_every_preset_over_the_shipped_config_is_valid(overlay):
    """A preset is a ``--configfile`` overlay: Snakemake merges it into config.yaml key by key."""
    from snakemake.utils import update_config

    config = full_config()
    update_config(config, yaml.safe_load(overlay.read_text()))
    validate(config, workflow_schema(WORKFLOW_SCHEMA))


def test_the_gpu_preset_reports_each_double_pinn_row_at_the_shipped_lambda():
    """The GPU preset's Table 1 takes sweep members by name; each must train at the lambda of
    config.yaml's own double-PINN row for that equation (one place sets it)."""
    from snakemake.utils import update_config

    from pinnfail.workflow.plan import plan

    shipped = plan(full_config()).experiments
    config = full_config()
    update_config(config, yaml.safe_load((ROOT / "workflow/presets/gpu_table1.yaml").read_text()))
    experiments = plan(config).experiments
    for row in config["table1"]["rows"]:
        run = experiments[row["experiment"]]
        assert run["lambda"] == shipped[f"double_fp64_{run['pde']}"]["lambda"], row


def test_the_ci_test_config_is_valid_on_its_own():
    """CI runs the whole pipeline on .test/ (``--directory .test``), where config.yaml is absent."""
    validate(yaml.safe_load((ROOT / ".test/config/config.yaml").read_text()), workflow_schema(WORKFLOW_SCHEMA))


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["pdes"]["wave"].update(c=float("nan")), "config.pdes.wave.c: nan is not a finite number"),
    (lambda c: c["evaluation"].update(overfit_ratio=float("inf")),
     "config.evaluation.overfit_ratio: inf is not a finite number"),
    (lambda c: c["cluster"].update(runtime_safety=float("nan")),
     "config.cluster.runtime_safety: nan is not a finite number"),
    (lambda c: c["reference"]["convection"].update(dt=float("inf")),
     "config.reference.convection.dt: inf is not a finite number"),
    (lambda c: c["study"]["regularizers_quick"]["variants"][1].update(**{"lambda": [1e-5, float("nan")]}),
     "config.study.regularizers_quick.variants.1.lambda.1: nan is not a finite number"),
    (lambda c: c["experiments"]["conv_l2_fp32"].update(pde="toy"),
     "config.experiments.conv_l2_fp32.pde: 'toy' is not allowed"),
    (lambda c: c["pdes"].update(toy={"beta": 1.0}), "config.pdes: 'toy' is not allowed"),
    (lambda c: c["reference"].update(toy={"nx": 8}), "config.reference: 'toy' is not allowed"),
])
def test_bad_workflow_config_is_one_line_naming_the_field(edit, message):
    config = full_config()
    edit(config)
    with pytest.raises(ConfigError) as err:
        validate(config, workflow_schema(WORKFLOW_SCHEMA))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_the_workflow_schema_takes_equation_names_from_the_registry(toy):
    config = full_config()
    config["pdes"]["toy"] = {"beta": 3.0}
    config["reference"]["toy"] = {"nx": 16, "nt": 9}
    config["experiments"]["toy_run"] = {"pde": "toy", "seeds": [0]}
    validate(config, workflow_schema(WORKFLOW_SCHEMA))


@pytest.mark.parametrize("text, spelled", [("1e-3", "1.0e-3"), ("5E4", "5.0e+4"), ("1.5e3", "1.5e+3")])
def test_a_number_yaml_reads_as_text_gets_the_spelling_it_reads_as_a_number(text, spelled):
    """PyYAML (YAML 1.1) reads ``1e-3`` as a string: the error says how to write it."""
    config = yaml.safe_load(f"lambda: {text}")
    assert config["lambda"] == text
    with pytest.raises(ConfigError, match=rf"run.lambda: .* is not of type 'number' \(YAML reads {text} as text: "
                                          rf"write it with a decimal point, e.g. {re.escape(spelled)}\)"):
        run_config(config)
    assert yaml.safe_load(f"lambda: {spelled}")["lambda"] == float(text)
    with pytest.raises(ConfigError, match=r"is not of type 'number'$"):  # no hint for plain text
        run_config({"lambda": "small"})
    with pytest.raises(ConfigError, match=r"is not of type 'number'$"):  # nor for 'nan', which has no point to add
        run_config({"lambda": "nan"})
