"""Workflow planning: study experiments (continued runs) and committed runs read instead of trained."""
import shutil
from pathlib import Path

import pytest

from pinnfail.numerics.config import run_config
from pinnfail.workflow.plan import CONTINUED, plan
from pinnfail.workflow.archive import archived, committed_runs, continuable
from conftest import TINY_RUN

EVALUATION = {"overfit_ratio": 100.0, "solved_rmae": 5e-2, "residual_grid": [16, 8]}


@pytest.fixture
def archive(tmp_path, evaluated):
    """An archive folder holding the evaluated tiny run of seed 0 as experiment 'exp'."""
    folder, _, evals = evaluated
    seed0 = tmp_path / "archive" / "exp" / "seed0"
    seed0.mkdir(parents=True)
    shutil.copy(folder / "run0.h5", seed0 / "run.h5")
    shutil.copy(evals[0], seed0 / "eval.h5")
    return tmp_path / "archive", seed0


def test_a_committed_run_is_used_only_for_its_own_config_and_seed(archive):
    folder, seed0 = archive
    config = run_config(TINY_RUN)
    assert archived([folder], "exp", 0, config, EVALUATION) == (str(seed0 / "run.h5"), str(seed0 / "eval.h5"))
    assert archived([folder], "exp", 1, config, EVALUATION) == (None, None)  # no such seed committed
    assert archived([folder], "other", 0, config, EVALUATION) == (None, None)
    assert archived([folder], "exp", 0, {**config, "max_iters": 21}, EVALUATION) == (None, None)  # edited: train
    # how it was checkpointed does not change a run (the workflow trains with --keep-checkpoint)
    assert archived([folder], "exp", 0, {**config, "keep_checkpoint": True, "checkpoint_every": 10},
                    EVALUATION)[0] == str(seed0 / "run.h5")
    assert archived([], "exp", 0, config, EVALUATION) == (None, None)
    # log_every is when the stop rule is checked: it can move where a run stops, so it retrains
    # (and the ledger keeps such runs apart: records.variant_key)
    assert archived([folder], "exp", 0, {**config, "log_every": config["log_every"] * 2}, EVALUATION) == (None, None)
    from pinnfail.products.records import variant_key

    assert variant_key({**config, "seed": 0}) != variant_key({**config, "seed": 0, "log_every": 7})
    assert variant_key({**config, "seed": 0}) == variant_key({**config, "seed": 1, "checkpoint_every": 7})
    # a setting added to the run schema since, at its default, still matches
    assert "stop_tolerance" in config and config["stop_tolerance"] is None


def test_a_committed_evaluation_is_used_only_with_the_current_evaluation_settings(archive):
    folder, seed0 = archive
    config = run_config(TINY_RUN)
    run = str(seed0 / "run.h5")
    assert archived([folder], "exp", 0, config, {**EVALUATION, "solved_rmae": 0.1}) == (run, None)
    assert archived([folder], "exp", 0, config, {**EVALUATION, "residual_grid": [32, 8]}) == (run, None)
    assert archived([folder], "exp", 0, config, EVALUATION, {"nx": 40, "nt": 21})[1] is not None
    assert archived([folder], "exp", 0, config, EVALUATION, {"nx": 64, "nt": 21}) == (run, None)


def test_a_damaged_committed_file_counts_as_absent(archive):
    folder, seed0 = archive
    config = run_config(TINY_RUN)
    (seed0 / "eval.h5").write_bytes(b"not hdf5")
    assert archived([folder], "exp", 0, config, EVALUATION) == (str(seed0 / "run.h5"), None)
    (seed0 / "run.h5").write_bytes((seed0 / "run.h5").read_bytes()[:1000])  # truncated
    assert archived([folder], "exp", 0, config, EVALUATION) == (None, None)


def test_a_study_that_continues_plateaus_plans_a_continued_twin_of_every_variant():
    config = {"pdes": {"convection": {"beta": 50.0}}, "experiments": {}, "run_defaults": {"log_every": 10},
              "study": {"s": {"seeds": [0, 1], "base": {"pde": "convection", "max_iters": 500},
                              "continue_plateaus": {"runs": 1, "max_iters": 900},
                              "variants": [{"regularizer": "none"}, {"regularizer": "l2", "lambda": [1e-5, 1e-4]}]}}}
    p = plan(config)
    names = sorted(p.studies["s"])
    assert len(names) == 3
    for name in names:
        base, twin = p.experiments[f"s__{name}"], p.experiments[f"s__{name}{CONTINUED}"]
        assert twin == {**base, "stop_tolerance": 0.0, "max_iters": 900}
        assert p.seeds[f"s__{name}"] == [0, 1] and p.seeds[f"s__{name}{CONTINUED}"] == []
    assert p.experiments["s__convection_none_fp32"]["log_every"] == 10  # run_defaults reach study runs


def test_planning_imports_no_jax():
    """A dry run and `pinnfail cost` plan from the config alone: no JAX import (seconds saved
    on every snakemake call)."""
    import subprocess
    import sys

    code = ("import pinnfail.workflow.plan, pinnfail.workflow.cluster, pinnfail.interfaces.cli, pinnfail.numerics.config, pinnfail.products.ledger, "
            "pinnfail.workflow.manifest, pinnfail.workflow.layout, pinnfail.interfaces.flags, sys; "
            "from pinnfail.numerics.pdes import PDES; assert PDES['wave'].condition_names; "
            "assert 'jax' not in sys.modules, sorted(m for m in sys.modules if m.startswith('jax'))")
    subprocess.run([sys.executable, "-c", code], check=True)


def _quick_plan():
    import yaml
    from snakemake.utils import update_config

    from pinnfail.workflow.plan import WorkflowPlan

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config.yaml").read_text())
    update_config(config, yaml.safe_load((root / "workflow/presets/quick.yaml").read_text()))
    return WorkflowPlan(config, root / "workflow/schemas/config.schema.yaml")


def test_every_job_argument_is_a_manifest_its_command_reads_back():
    """What the plan hands each command is what that command reads (pinnfail.workflow.manifest): the
    quick preset's references, evaluations, Table 1, figures, studies and evidence."""
    from pinnfail.workflow import layout
    from pinnfail.workflow import manifest as M

    p = _quick_plan()
    jobs = [p.reference_argv(pde) for pde in sorted({p.pde_of(e) for e in p.experiments})]
    jobs += [p.evaluate_argv(e, s) for e, seeds in p.seeds.items() for s in seeds]
    jobs += [p.table_argv(), *map(p.figure_argv, p.figures), p.runs_argv(p.table1_runs()),
             p.convergence_argv(p.table1_runs())]
    jobs += [p.study_argv(study) for study in p.studies if not p.staged(study)]
    assert len(jobs) > 20
    for argv in jobs:
        command, flag, text = argv[-3:]
        assert flag == "--manifest" and command in M.COMMANDS
        job = M.read(M.COMMANDS[command], text)
        assert M.dumps(job) == text
    for e, seeds in p.seeds.items():
        for s in seeds:
            assert layout.parse_run_file(p.run_path(e, s, "eval")) == (e, s, "eval")



def test_a_committed_run_with_fewer_iterations_is_continued_from_any_experiment(archive, tmp_path):
    """Settings equal but max_iters: the committed run is continued (whatever experiment holds
    it), never one with more iterations than the cap, another seed or other settings."""
    folder, seed0 = archive
    config = run_config(TINY_RUN)  # max_iters 20, stopped by the cap
    index = committed_runs([str(folder)])
    assert continuable(index, {**config, "max_iters": 50}, 0) == str(seed0 / "run.h5")
    assert continuable(index, config, 0) == str(seed0 / "run.h5")  # at the cap: read again, no iteration
    assert continuable(index, {**config, "max_iters": 19}, 0) is None
    assert continuable(index, {**config, "max_iters": 50}, 1) is None
    assert continuable(index, {**config, "max_iters": 50, "width": 9}, 0) is None
    assert continuable(index, {**config, "max_iters": 50, "checkpoint_every": 7}, 0) == str(seed0 / "run.h5")
    # the longest committed run under the cap wins; interrupted runs are never taken
    import h5py

    longer = folder / "other" / "seed0"
    longer.mkdir(parents=True)
    shutil.copy(seed0 / "run.h5", longer / "run.h5")
    with h5py.File(longer / "run.h5", "a") as f:
        f.attrs["iterations"] = 30
    assert continuable(committed_runs([str(folder)]), {**config, "max_iters": 50}, 0) == str(longer / "run.h5")
    assert continuable(committed_runs([str(folder)]), {**config, "max_iters": 25}, 0) == str(seed0 / "run.h5")
    with h5py.File(longer / "run.h5", "a") as f:
        f.attrs["stop_reason"] = "interrupted"
    assert continuable(committed_runs([str(folder)]), {**config, "max_iters": 50}, 0) == str(seed0 / "run.h5")
    (seed0 / "run.h5").write_bytes(b"damaged")
    assert committed_runs([str(folder)]) == {}


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["run_defaults"].update(max_iters=-5),
     "run_defaults.max_iters: -5 is less than the minimum of 1 (reaches experiments."),
    (lambda c: c["pdes"]["wave"].update(speed=2.0), "pdes.wave.speed: unknown parameter; allowed: ['beta', 'c'] "
                                                    "(reaches experiments."),
    (lambda c: c["experiments"]["conv_none_fp32"].update(max_iters="x"),
     "experiments.conv_none_fp32.max_iters: 'x' is not of type 'integer'"),
    (lambda c: c["study"]["fig6_cpu"]["base"].update(n_initial=0), "study.fig6_cpu.n_initial: 0 is less than"),
])
def test_a_bad_value_is_named_where_it_was_written(edit, message):
    """run_defaults, pdes and studies reach many experiments: the error names the key the user
    wrote (and one experiment it reached), in one line."""
    import copy

    import yaml

    from pinnfail.numerics.config import ConfigError

    config = copy.deepcopy(yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text()))
    edit(config)
    with pytest.raises(ConfigError) as err:
        plan(config)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
