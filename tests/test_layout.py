"""The path layout: every path the plan builds is read back by the one parser."""
import pytest

from pinnfail.workflow import layout


@pytest.mark.parametrize("experiment, seed, kind", [
    ("conv_double_fp32", 0, "run"), ("s__v_1em03_fp64__continued", 12, "eval"), ("x", 7, "run")])
def test_a_run_file_reads_back(experiment, seed, kind):
    path = layout.run_file(experiment, seed, kind)
    assert path.startswith(layout.RUNS + "/")
    assert layout.parse_run_file(path) == (experiment, seed, kind)
    assert layout.parse_run_file("/abs/work/" + path) == (experiment, seed, kind)  # under --directory


@pytest.mark.parametrize("path", ["results/runs/e/seedx/run.h5", "results/runs/e/seed0/ckpt.h5",
                                  "results/other/e/seed0/run.h5", "results/runs/a b/seed0/run.h5"])
def test_anything_else_is_refused_by_name(path):
    with pytest.raises(ValueError, match="not a run file"):
        layout.parse_run_file(path)


def test_a_kind_other_than_run_or_eval_is_refused():
    with pytest.raises(ValueError, match="kind"):
        layout.run_file("e", 0, "ckpt")


def test_derived_names():
    assert layout.checkpoint_of("e", 1) == "results/checkpoints/e/seed1.ckpt.h5"
    assert layout.last_run_of("e", 1, "/scratch/ck") == "/scratch/ck/e/seed1.last.h5"
    assert layout.caption_of(layout.figure_file("fig1", "png")) == "results/figures/fig1.rst"
    assert layout.selection_file("s") == layout.study_file("s", "selection.json") == "results/studies/s/selection.json"
    assert layout.published("docs/x/", layout.study_file("s", "study.md")) == "docs/x/study.md"
    assert layout.reference_file("wave") == "data/reference/wave.h5"
