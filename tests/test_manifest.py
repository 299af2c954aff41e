"""Manifests: what the plan writes reads back equal; every malformed one is one line naming the field."""
import json

import pytest

from pinnfail.workflow import manifest as M
from pinnfail.numerics.config import ConfigError

STUDY = M.Study("t", {"a": M.VariantRuns({"pde": "wave", "lambda": 1e-4}, [M.Pair("r0.h5", "e0.h5"), M.Pair("r1.h5", "e1.h5")])},
                ["sel.json"], [0, 1], [M.Continued("a", 1, "c.h5", "ce.h5")], [M.StudyFigure("fig6", "f.png", "f.pdf")],
                "ref.h5", {"dpi": 40})


@pytest.mark.parametrize("value", [
    STUDY, M.Table1([M.Row("double PINN", ["e0.h5", "e1.h5"])], "note: '$(x)'\n"),
    M.Figure("fig1", {"failure": M.Pair("a:b.h5", "c.h5")}, {"wave": "w.h5"}),
    M.Runs([M.RunEntry("e", "m, 'quoted'", "r.h5", "e.h5")]), M.Evaluate("r.h5", "ref.h5", {"solved_rmae": 0.05}, [8, 4]),
    M.ReferenceJob("allen_cahn", {"gamma": 5.0}, {"modes": 512, "dt": "1e-5"}),
])
def test_what_is_written_reads_back_equal(value, tmp_path):
    text = M.dumps(value)
    assert M.read(type(value), text) == value
    path = tmp_path / "m.json"
    path.write_text(text)
    assert M.read(type(value), str(path)) == value
    assert M.dumps(M.read(type(value), text)) == text  # canonical: the params rerun trigger compares it


def test_a_pair_unpacks_as_run_then_evaluation():
    run, evaluation = M.Pair("r.h5", "e.h5")
    assert (run, evaluation) == ("r.h5", "e.h5")


def test_integers_are_numbers_but_booleans_are_not():
    assert M.read(M.Continued, '{"variant": "a", "seed": 1, "run": "r", "eval": "e"}').seed == 1
    with pytest.raises(ConfigError, match=r"manifest.seed: expected an integer, got True"):
        M.read(M.Continued, '{"variant": "a", "seed": true, "run": "r", "eval": "e"}')


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("title"), "manifest.title: missing"),
    (lambda d: d["variants"]["a"]["runs"][1].update(eval=3), "manifest.variants.a.runs[1].eval: expected a string, got 3"),
    (lambda d: d["variants"]["a"].update(runs={"r": "e"}), "manifest.variants.a.runs: expected a list"),
    (lambda d: d.update(sweep_seeds=[0, "1"]), "manifest.sweep_seeds[1]: expected an integer, got '1'"),
    (lambda d: d["continued"][0].update(seeds=2), "manifest.continued[0]: unknown field(s) ['seeds']"),
    (lambda d: d.update(variants=[]), "manifest.variants: expected a mapping"),
])
def test_a_malformed_manifest_names_the_field(edit, message):
    data = json.loads(M.dumps(STUDY))
    edit(data)
    with pytest.raises(ConfigError) as err:
        M.read(M.Study, json.dumps(data))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_key_given_twice_or_text_that_is_not_json(tmp_path):
    with pytest.raises(ConfigError, match="key 'failure' given twice"):
        M.read(M.Figure, '{"name": "fig1", "runs": {"failure": {"run": "a", "eval": "b"}, '
                         '"failure": {"run": "c", "eval": "d"}}, "references": {}}')
    with pytest.raises(ConfigError, match="manifest: not JSON"):
        M.read(M.Table1, '{"rows": [}')
    with pytest.raises(ConfigError, match="manifest: cannot read"):
        M.read(M.Table1, str(tmp_path / "absent.json"))
