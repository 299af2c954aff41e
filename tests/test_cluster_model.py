"""pinnfail.workflow.cluster (Slurm cost model, GPU guard) and pinnfail.workflow.plan (which runs train together)."""
from types import SimpleNamespace

import pytest

from pinnfail.workflow.cluster import DEFAULTS, assigned_gpus, gpu_guard_error, gpus_requested, job_resources, mem_mb, n_points, resource_names, runtime_minutes, slurm_keys
from pinnfail.numerics.config import ConfigError, run_config
from pinnfail.workflow.plan import batch_jobs, plan

CLUSTER = {
    "account": "",
    "fp64": {"slurm_partition": "gpu", "gres": "gpu:a100:1", "constraint": ""},
    "fp32": {"slurm_partition": "gpu", "gres": "gpu:1", "constraint": None, "qos": "short"},
    "minutes_per_giga_point_iteration": 10.0, "min_points": 2000, "runtime_safety": 2.0,
    "min_runtime": 10, "max_runtime": 2880, "mem_mb_base": 4000, "mem_mb_per_mega_value": 16,
}


def cfg(**settings):
    return run_config({"pde": "convection", "grid": [20, 20], "n_initial": 200, "n_boundary": 200, **settings})


# --------------------------------------------------------------------------- runtime


@pytest.mark.parametrize("precision", ["fp32", "fp64"])
def test_runtime_none_single(precision):
    # 1e6 iterations x 800 points (floored to 2000) x 1 x 10 min per 1e9 x safety 2 = 40 min
    assert n_points(cfg()) == 800
    assert runtime_minutes(cfg(precision=precision, max_iters=1_000_000), 1, CLUSTER) == 40


def test_runtime_double_is_three_evaluations_per_point():
    none = cfg(max_iters=1_000_000)
    double = cfg(max_iters=1_000_000, regularizer="double", **{"lambda": 1e-4})
    assert runtime_minutes(double, 1, CLUSTER) == 3 * runtime_minutes(none, 1, CLUSTER) == 120


def test_runtime_batched_scales_with_members_above_min_points():
    big = cfg(grid=[101, 101], n_initial=101, n_boundary=101, max_iters=100_000)  # 10403 points
    assert runtime_minutes(big, 1, CLUSTER) == int(10 * 100_000 * 10403 / 1e9 * 2) == 20
    assert runtime_minutes(big, 5, CLUSTER) == int(10 * 100_000 * 10403 * 5 / 1e9 * 2) == 104


def test_runtime_clamped_to_min_and_max():
    assert runtime_minutes(cfg(max_iters=10), 1, CLUSTER) == 10
    assert runtime_minutes(cfg(max_iters=10), 1, {**CLUSTER, "min_runtime": 3}) == 3
    assert runtime_minutes(cfg(max_iters=10**9), 16, CLUSTER) == 2880
    assert runtime_minutes(cfg(max_iters=10**9), 16, {**CLUSTER, "max_runtime": 600}) == 600


def test_defaults_apply_where_cluster_block_is_missing_or_null():
    config = cfg(max_iters=1_000_000)
    assert runtime_minutes(config, 1, None) == runtime_minutes(config, 1, CLUSTER)
    assert mem_mb(config, 1, {"mem_mb_base": None}) == mem_mb(config, 1, CLUSTER)
    assert DEFAULTS["require_gpu"] is True


# --------------------------------------------------------------------------- memory


@pytest.mark.parametrize("precision", ["fp32", "fp64"])
def test_memory_points_times_network_times_members(precision):
    config = cfg(precision=precision, width=128, depth=4)
    # 800 points x 128 x 4 = 409600 values -> 0.4096 mega values x 16 MB + 4000 MB
    assert mem_mb(config, 1, CLUSTER) == int(4000 + 16 * 0.4096) == 4006
    assert mem_mb(config, 16, CLUSTER) == int(4000 + 16 * 0.4096 * 16) == 4104
    double = cfg(precision=precision, regularizer="double", **{"lambda": 1e-4})
    assert mem_mb(double, 1, CLUSTER) == mem_mb(config, 1, CLUSTER)  # memory does not see the regularizer


# --------------------------------------------------------------------------- routing


def test_slurm_keys_by_precision_with_empty_values_dropped():
    assert slurm_keys(cfg(precision="fp64"), CLUSTER) == {"slurm_partition": "gpu", "gres": "gpu:a100:1"}
    assert slurm_keys(cfg(precision="fp32"), CLUSTER) == {"slurm_partition": "gpu", "gres": "gpu:1", "qos": "short"}
    assert slurm_keys(cfg(), {**CLUSTER, "account": "proj"})["slurm_account"] == "proj"
    assert slurm_keys(cfg(), {"fp32": None}) == {}


def test_job_resources_and_names():
    res = job_resources(cfg(precision="fp64", max_iters=1000), 2, CLUSTER)
    assert res == {"runtime": 10, "mem_mb": mem_mb(cfg(), 2, CLUSTER), "slurm_partition": "gpu", "gres": "gpu:a100:1"}
    assert resource_names(CLUSTER) == ["runtime", "mem_mb", "slurm_account", "slurm_partition", "gres",
                                       "constraint", "qos"]


@pytest.mark.parametrize("gres, gpus", [("gpu:a100:1", 1), ("gpu:1", 1), ("gpu:a100:2", 2), ("gpu", 1),
                                        ("gpu:a100", 1), ("", 0), (None, 0), ("mps:100", 0)])
def test_gpus_requested(gres, gpus):
    assert gpus_requested({"gres": gres}) == gpus


# --------------------------------------------------------------------------- GPU guard


@pytest.mark.parametrize("value, devices", [
    ("0", ["0"]), ("0,1", ["0", "1"]), ("1,-1,2", ["1"]), ("GPU-8f3a-11", ["GPU-8f3a-11"]),
    ("NoDevFiles", []), ("-1", []), ("", []), (None, []), ("none", []),
])
def test_assigned_gpus_reads_cuda_visible_devices_as_cuda_does(value, devices):
    assert assigned_gpus(value) == devices


CPU = [SimpleNamespace(platform="cpu", id=0)]
GPU = [SimpleNamespace(platform="gpu", id=0)]


def test_guard_stops_a_gpu_job_that_sees_no_gpu_with_one_line():
    error = gpu_guard_error("0", CPU, "node17")
    assert error and "\n" not in error
    for part in ("node17", "CUDA_VISIBLE_DEVICES=0", "cpu:0", ".[cuda]", "require_gpu: false"):
        assert part in error


@pytest.mark.parametrize("value, devices", [("0", GPU), (None, CPU), ("", CPU), ("NoDevFiles", CPU), ("-1", CPU)])
def test_guard_lets_gpu_jobs_and_jobs_without_gpus_run(value, devices):
    assert gpu_guard_error(value, devices, "host") is None


def test_train_cli_guard(monkeypatch, tmp_path, capsys):
    """`pinnfail train` stops before writing anything; --no-require-gpu / PINNFAIL_REQUIRE_GPU=0 switch it off."""
    import jax

    from pinnfail.interfaces.cli import main

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("JAX sees a GPU here")
    out = tmp_path / "run.h5"
    argv = ["train", "--pde", "convection", "--max-iters", "2", "--grid", "4x4", "--n-initial", "4",
            "--n-boundary", "4", "--log-every", "1", "--stop-window", "0", "--checkpoint-every", "0",
            "--width", "4", "--depth", "1", "--out", str(out), "--quiet"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.delenv("PINNFAIL_REQUIRE_GPU", raising=False)
    assert main(argv) == 2
    assert "GPU guard" in capsys.readouterr().err and not out.exists()
    monkeypatch.setenv("PINNFAIL_REQUIRE_GPU", "0")
    assert main(argv) == 0 and out.exists()
    out.unlink()
    monkeypatch.delenv("PINNFAIL_REQUIRE_GPU")
    assert main([*argv, "--no-require-gpu"]) == 0 and out.exists()


# --------------------------------------------------------------------------- plan


def _workflow_config(**experiments):
    return {"pdes": {"convection": {"beta": 30.0}}, "run_defaults": {"max_iters": 100},
            "experiments": experiments}


def test_plan_merges_defaults_pde_params_and_study_variants():
    config = _workflow_config(a={"pde": "convection", "seeds": [0, 1]})
    config["study"] = {"s": {"seeds": [3], "base": {"pde": "convection"},
                             "variants": [{"regularizer": "l2", "lambda": [1e-5, 1e-4]}]}}
    experiments, seeds, studies = plan(config)
    assert experiments["a"]["max_iters"] == 100 and experiments["a"]["pde_params"] == {"beta": 30.0}
    assert sorted(studies["s"]) == ["convection_l2_1em04_fp32", "convection_l2_1em05_fp32"]
    assert seeds["s__convection_l2_1em05_fp32"] == [3] and seeds["a"] == [0, 1]


def test_plan_names_the_study_of_an_invalid_variant():
    config = _workflow_config()
    config["study"] = {"sweep": {"seeds": [0], "base": {"pde": "convection", "max_iters": 0},
                                 "variants": [{"lambda": 1e-3}]}}
    with pytest.raises(ConfigError, match=r"^study\.sweep\.max_iters: 0 is less than the minimum of 1"):
        plan(config)


def test_batch_jobs_group_experiments_that_differ_only_in_lambda():
    l2 = {"pde": "convection", "regularizer": "l2"}
    experiments, seeds, _ = plan(_workflow_config(
        lam5={**l2, "lambda": 1e-5, "seeds": [0, 1]},
        none={"pde": "convection", "seeds": [0, 1]},
        lam4={**l2, "lambda": 1e-4, "seeds": [0, 1]},
        lam4_fp64={**l2, "lambda": 1e-4, "precision": "fp64", "seeds": [0]},
        lam3_more_iters={**l2, "lambda": 1e-3, "max_iters": 200, "seeds": [0]},
    ))
    jobs = batch_jobs(experiments, seeds)
    assert [job.name for job in jobs] == ["lam5", "none", "lam4_fp64", "lam3_more_iters"]
    sweep = jobs[0]
    assert [(m.experiment, m.seed) for m in sweep.members] == [("lam5", 0), ("lam5", 1), ("lam4", 0), ("lam4", 1)]
    assert sweep.lambdas == [1e-5, 1e-5, 1e-4, 1e-4]
    assert sweep.config == experiments["lam5"]
    # every run is in exactly one job
    runs = [(m.experiment, m.seed) for job in jobs for m in job.members]
    assert sorted(runs) == sorted((n, s) for n in experiments for s in seeds[n])


# --------------------------------------------------------------------------- cost preview


def test_job_cost_prices_matching_kind_only():
    from pinnfail.workflow.cluster import Rate, cost_text, cost_totals, job_cost

    rates = [Rate("convection", "double", "fp64", 500.0, "GPU X", "bench.json")]
    double = cfg(precision="fp64", regularizer="double", max_iters=1000, **{"lambda": 1e-4})
    job = job_cost(double, 2, {"runtime": 30, "gres": "gpu:a100:2"}, rates)
    assert job["requested_gpu_h"] == 30 * 2 / 60 and job["points"] == 800 and job["members"] == 2
    assert job["measured_gpu_h"] == pytest.approx(2 * 1000 / 500 / 3600 * 2)
    other = job_cost(cfg(precision="fp64", max_iters=1000), 1, {"runtime": 10, "gres": "gpu:1"}, rates)
    assert other["measured_gpu_h"] is None and other["rate"] is None
    jobs = [{"name": "a", **job}, {"name": "b", **other}]
    totals = cost_totals(jobs)
    assert (totals["jobs"], totals["runs"], totals["member_iterations"], totals["measured_jobs"]) == (2, 3, 3000, 1)
    assert totals["requested_gpu_h"] == pytest.approx(1 + 10 / 60)
    text = cost_text(jobs)
    assert "GPU X (bench.json)" in text and "1 jobs have no GPU measurement" in text
