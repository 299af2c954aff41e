"""Slurm routing of the training jobs and the project's Slurm profile.

* Dry runs (no Slurm needed, part of the default run; through Snakemake's API in this
  process, ``pinnfail.workflow.dryrun``): with the shipped config.yaml every FP64 training job asks
  for an A100 (gres gpu:a100:1, partition gpu), every FP32 job for a generic GPU (gres
  gpu:1), in both the per-seed and the batched (batch_seeds) form; no empty resource
  (constraint "", account "") is set; local rules get no GPU. ``pinnfail cost`` prices
  the jobs a dry run plans (once as a command, the other cases in this process).
* ``@pytest.mark.cluster`` (``pytest -m cluster``): a real single-node Slurm
  (tests/slurm/start.sh) runs the tiny preset tests/data/cluster.yaml through
  ``snakemake --profile slurm``; the jobs Slurm recorded must carry the configured
  partition/gres, and the evaluation metrics must equal a local ``--cores 2`` run's.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PRESET = Path("tests/data/cluster.yaml")
TARGETS = ["results/table1.csv"]
SNAKEMAKE_TIMEOUT_S = 900
EXPECTED = {  # what the tiny preset routes where, as `scontrol show job` reports it
    "fp64": {"Partition": "gpu", "TresPerNode": "gres:gpu:a100:1"},
    "fp32": {"Partition": "gpu", "TresPerNode": "gres:gpu:titanrtx:1"},
}
A100 = "a100"


def _env():
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env.pop("PINNFAIL_JAX_CACHE", None)  # the jobs use the workflow's own cache (jax_compilation_cache)
    return env


def _snakemake():
    exe = shutil.which("snakemake", path=_env()["PATH"])
    return [exe] if exe else [sys.executable, "-m", "snakemake"]


def copy_workflow(dest: Path) -> Path:
    """The workflow as a user checks it out: Snakefile, config files, workflow/, ./slurm link."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "config.yaml", "environment.yml"):  # workflow/envs/pinnfail.yaml links to the last
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "workflow", dest / "workflow", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    os.symlink(os.readlink(ROOT / "slurm"), dest / "slurm")
    (dest / PRESET).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / PRESET, dest / PRESET)
    return dest


def run(cmd, cwd, timeout=SNAKEMAKE_TIMEOUT_S + 60):
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- dry runs


def test_profile_link_resolves():
    link = ROOT / "slurm"
    assert link.is_symlink() and os.readlink(link) == "workflow/profiles/slurm"
    profile = yaml.safe_load((link / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["restart-times"] >= 1
    assert profile["slurm-keep-successful-logs"] is True


def dry_run_jobs(workdir, **config):
    """[(rule, wildcards, {resource: value})] of the jobs ``snakemake -n TARGETS --config
    CONFIG`` plans, through Snakemake's API."""
    from pinnfail.workflow.dryrun import planned_jobs

    return [(job.rule, job.wildcards, job.resources) for job in planned_jobs(TARGETS, config=config, workdir=workdir)]


@pytest.mark.parametrize("batch", [False, True], ids=["per_seed", "batch_seeds"])
def test_default_config_routing_dry_run(tmp_path, batch):
    """The shipped config.yaml: FP64 -> A100, FP32 -> any GPU, nothing empty reaches sbatch."""
    work = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((work / "config.yaml").read_text())
    fp64 = config["cluster"]["fp64"]
    assert fp64["gres"] == "gpu:a100:1" and config["cluster"]["fp32"]["gres"] == "gpu:1"
    jobs = dry_run_jobs(work, batch_seeds=batch)
    train = [j for j in jobs if j[0].startswith("train")]
    assert train and all((rule == "train") != batch for rule, _, _ in train)
    for rule, wildcards, res in jobs:
        assert "constraint" not in res and "slurm_account" not in res, (rule, res)
        assert all(str(v).strip() not in ("", "''") for v in res.values()), (rule, res)
        if not rule.startswith("train"):
            assert "gres" not in res and "slurm_partition" not in res, (rule, res)
            continue
        experiment = rule[len("train_batch_"):] if batch else wildcards["experiment"]
        precision = config["experiments"][experiment]["precision"]
        assert res.get("gres") == config["cluster"][precision]["gres"], (rule, wildcards, res)
        assert res.get("slurm_partition") == config["cluster"][precision]["slurm_partition"], (rule, res)
        assert (A100 in res["gres"]) == (precision == "fp64"), (rule, res)
        assert int(res["runtime"]) >= config["cluster"]["min_runtime"] and int(res["mem_mb"]) > 0


# --------------------------------------------------------------------------- real Slurm


def _slurm_skip_reason():
    if os.geteuid() != 0:
        return "needs root (tests/slurm/start.sh starts munged/slurmctld/slurmd)"
    have_slurm = all(shutil.which(b) for b in ("slurmctld", "slurmd", "munged", "sbatch"))
    if not have_slurm and not shutil.which("apt-get"):
        return "Slurm is not installed and apt-get is unavailable to install it"
    if not shutil.which("timeout"):
        return "needs coreutils timeout (a hung Slurm plugin never exits)"
    return None


@pytest.fixture(scope="module")
def slurm_cluster():
    reason = _slurm_skip_reason()
    if reason:
        pytest.skip(f"local Slurm test cluster unavailable: {reason}")
    import importlib.util

    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:  # the `slurm` extra
        pytest.fail("Snakemake's Slurm executor plugin is not installed: python3 -m pip install -e '.[workflow,slurm]'")
    proc = subprocess.run(["bash", str(ROOT / "tests/slurm/start.sh")], capture_output=True, text=True, timeout=300)
    try:
        if proc.returncode != 0:
            pytest.fail(f"tests/slurm/start.sh failed (rc {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        yield
    finally:
        subprocess.run(["bash", str(ROOT / "tests/slurm/stop.sh")], capture_output=True, timeout=120)


def failure_report(workdir: Path, out: str) -> str:
    """Snakemake's errors and the tail of every job log (rule logs and Slurm job logs)."""
    errors = [out[m.start():m.start() + 1500] for m in re.finditer(r"Error in rule", out)][:3]
    parts = ["\n".join(errors) or out[-4000:]]
    for log in sorted([*(workdir / "logs").rglob("*.log"), *(workdir / ".snakemake/slurm_logs").rglob("*.log")]):
        tail = log.read_text(errors="replace").splitlines()[-12:]
        parts.append(f"--- {log.relative_to(workdir)} (tail)\n" + "\n".join(tail))
    return "\n".join(parts)[-12000:]


@pytest.fixture(scope="module")
def pipeline_runs(slurm_cluster, tmp_path_factory):
    """The tiny preset through Slurm (profile slurm) and locally, side by side."""
    base = tmp_path_factory.mktemp("cluster")
    on_slurm = copy_workflow(base / "slurm_run")
    local = copy_workflow(base / "local_run")
    kill = ["timeout", "-s", "KILL", str(SNAKEMAKE_TIMEOUT_S)]
    slurm_cmd = [*kill, *_snakemake(), "--profile", "slurm", "--slurm-status-command", "squeue",
                 "--slurm-init-seconds-before-status-checks", "2", "--nocolor",
                 *TARGETS, "--configfile", str(PRESET)]
    local_cmd = [*kill, *_snakemake(), "--cores", "2", "--nocolor", *TARGETS, "--configfile", str(PRESET)]
    with ThreadPoolExecutor(2) as pool:
        slurm_future = pool.submit(run, slurm_cmd, on_slurm)
        local_future = pool.submit(run, local_cmd, local)
        (slurm_rc, slurm_out), (local_rc, local_out) = slurm_future.result(), local_future.result()
    assert slurm_rc == 0, f"snakemake --profile slurm: rc {slurm_rc} (-9: killed by timeout)\n" + failure_report(
        on_slurm, slurm_out
    )
    assert local_rc == 0, f"local snakemake: rc {local_rc}\n" + failure_report(local, local_out)
    return {"slurm": on_slurm, "local": local, "slurm_log": slurm_out}


def preset_runs():
    """{(experiment, seed): precision} of the tiny preset's training runs."""
    spec = yaml.safe_load((ROOT / PRESET).read_text())["experiments"]
    return {(name, seed): e["precision"] for name, e in spec.items() for seed in e["seeds"]}


def scontrol_job(jobid: str) -> dict:
    out = subprocess.run(["scontrol", "show", "job", "-o", jobid], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"scontrol show job {jobid}: {out.stderr}"
    fields = {}
    for token in out.stdout.split():
        key, _, value = token.partition("=")
        fields.setdefault(key, value)
    return fields


def _comments() -> dict[str, tuple]:
    """The job comment the plugin sets (rule_<rule>_wildcards_<wildcards>) of every job the
    preset may submit: (rule, experiment or pde, seed)."""
    runs = preset_runs()
    found = {f"rule_{rule}_wildcards_{name}_{seed}": (rule, name, seed)
             for name, seed in runs for rule in ("train", "evaluate")}
    found.update({f"rule_reference_wildcards_{pde}": ("reference", pde, None)
                  for pde in yaml.safe_load((ROOT / PRESET).read_text())["reference"]})
    return found


def slurm_jobs(workdir: Path, rule: str = "train") -> dict:
    """{(experiment or pde, seed): [scontrol fields of each attempt]} of the Slurm jobs of
    ``rule`` this run submitted; any submitted job the preset does not send to Slurm fails.

    The plugin keeps every job's log as .snakemake/slurm_logs/rule_<rule>/<wildcards>/<jobid>.log
    and sets the job comment to rule_<rule>_wildcards_<wildcards>.
    """
    logs = sorted((workdir / ".snakemake/slurm_logs").rglob("*.log"))
    assert logs, "no Slurm job logs: nothing was submitted to Slurm"
    comments = _comments()
    jobs = {}
    for log in logs:
        fields = scontrol_job(log.stem)
        assert fields.get("Comment") in comments, (
            f"Slurm job {log.stem} ({log.relative_to(workdir)}, comment {fields.get('Comment')!r}) "
            "is not a training, evaluation or reference job of the preset: the others stay on the submit host"
        )
        kind, name, seed = comments[fields["Comment"]]
        if kind == rule:
            jobs.setdefault((name, seed), []).append(fields)
    return jobs


@pytest.mark.cluster
def test_training_jobs_routed_by_precision(pipeline_runs):
    log = pipeline_runs["slurm_log"]
    assert "Using profile slurm" in log, log[:2000]
    jobs = slurm_jobs(pipeline_runs["slurm"])
    runs = preset_runs()
    assert set(jobs) == set(runs), f"Slurm jobs for {sorted(jobs)}, expected {sorted(runs)}"
    assert {"fp32", "fp64"} <= set(runs.values())
    problems = []
    for (name, seed), attempts in sorted(jobs.items()):
        precision = runs[name, seed]
        for job in attempts:
            got = {key: job.get(key) for key in EXPECTED[precision]}
            where = f"{precision} job {name} seed {seed} (Slurm job {job['JobId']})"
            if got != EXPECTED[precision]:
                problems.append(f"{where}: {got}, expected {EXPECTED[precision]}")
            if precision == "fp32" and A100 in job.get("TresPerNode", "") + job.get("TresPerJob", ""):
                problems.append(f"{where} asked for an A100: TresPerNode={job.get('TresPerNode')}")
            if job.get("Features") not in ("(null)", None):
                problems.append(f"{where}: constraint {job.get('Features')!r} (none configured)")
            if job.get("Account") != "pinnfail_test":
                problems.append(f"{where}: account {job.get('Account')!r}, expected 'pinnfail_test'")
        if attempts[-1].get("JobState") != "COMPLETED":
            problems.append(f"{name} seed {seed}: last Slurm job state {attempts[-1].get('JobState')}")
    assert not problems, "Slurm routing:\n" + "\n".join(problems)


@pytest.mark.cluster
def test_references_and_evaluations_go_to_the_cpu_partition(pipeline_runs):
    """cluster.cpu (partition cpu, 15 minutes): every reference and evaluation job ran there,
    with no GPU; Table 1 stayed on the submit host (slurm_jobs fails on any other job)."""
    cpu = yaml.safe_load((ROOT / PRESET).read_text())["cluster"]["cpu"]
    evaluations = slurm_jobs(pipeline_runs["slurm"], "evaluate")
    references = slurm_jobs(pipeline_runs["slurm"], "reference")
    assert set(evaluations) == set(preset_runs()) and set(references) == {("convection", None)}
    for (name, seed), attempts in {**evaluations, **references}.items():
        job = attempts[-1]
        assert job["Partition"] == cpu["slurm_partition"], (name, seed, job["Partition"])
        assert job["TimeLimit"] == f"00:{cpu['runtime']:02d}:00", (name, seed, job["TimeLimit"])
        assert "gpu" not in job.get("TresPerNode", "") + job.get("TresPerJob", ""), (name, seed)
        assert job.get("JobState") == "COMPLETED", (name, seed, job.get("JobState"))


@pytest.mark.cluster
def test_cluster_artifacts_equal_local(pipeline_runs):
    from pinnfail.artifacts.formats import read_metrics

    for (name, seed), precision in sorted(preset_runs().items()):
        path = f"results/runs/{name}/seed{seed}/eval.h5"
        on_slurm = read_metrics(pipeline_runs["slurm"] / path)
        local = read_metrics(pipeline_runs["local"] / path)
        assert on_slurm["iterations"] == local["iterations"], path
        rel = 1e-10 if precision == "fp64" else 1e-5
        for key in ("rmae", "train_loss", "test_loss"):
            assert math.isclose(on_slurm[key], local[key], rel_tol=rel, abs_tol=1e-14), (
                f"{path} {key}: Slurm {on_slurm[key]!r} vs local {local[key]!r}"
            )
    assert (pipeline_runs["slurm"] / "results/table1.csv").is_file()


# --------------------------------------------------------------------------- cost preview


def cost_preview(workdir, *configfiles, monkeypatch=None, capsys=None):
    """``pinnfail cost results/table1.csv --json`` in ``workdir``: as a command, or in this
    process (its ``main``) when given pytest's monkeypatch and capsys."""
    argv = ["cost", "results/table1.csv", "--json", "--rates", str(ROOT / "benchmarks/results/gpu_check_h100.json"),
            *(["--configfile", *configfiles] if configfiles else [])]
    if monkeypatch is None:
        rc, out = run([sys.executable, "-m", "pinnfail.interfaces.cli", *argv], workdir, timeout=300)
        assert rc == 0, out[-3000:]
        return json.loads(out)
    from pinnfail.interfaces.cli import main

    monkeypatch.chdir(workdir)
    capsys.readouterr()
    rc = main(argv)
    out = capsys.readouterr()
    assert rc == 0, out.err[-3000:]
    return json.loads(out.out)


def expected_minutes(spec, defaults, cluster, members):
    """The README's formula, written out: 10 min per 1e9 point-iterations x 2, clamped to [10, 2880]."""
    from pinnfail.numerics.collocation import n_points
    from pinnfail.numerics.pdes import get_pde

    points = max(n_points(get_pde(spec["pde"]), spec), cluster["min_points"])  # N of the paper, as Table 1
    work = spec.get("max_iters", defaults["max_iters"]) * points * (3 if spec["regularizer"] == "double" else 1)
    minutes = cluster["minutes_per_giga_point_iteration"] * work * members / 1e9 * cluster["runtime_safety"]
    return int(min(max(minutes, cluster["min_runtime"]), cluster["max_runtime"]))


@pytest.mark.parametrize("batch", [False, True], ids=["per_seed", "batch_seeds"])
def test_cost_preview_of_full_table1_matches_rows_and_seeds(tmp_path, monkeypatch, capsys, batch):
    work = copy_workflow(tmp_path / "wf")
    (work / "batch.yaml").write_text(yaml.safe_dump({"batch_seeds": batch}))
    preview = cost_preview(work, "batch.yaml", monkeypatch=monkeypatch, capsys=capsys)
    config = yaml.safe_load((work / "config.yaml").read_text())
    cluster, rows = config["cluster"], config["table1"]["rows"]
    specs = {row["experiment"]: config["experiments"][row["experiment"]] for row in rows}
    seeds = {name: len(spec["seeds"]) for name, spec in specs.items()}
    totals = preview["totals"]
    assert totals["jobs"] == (len(specs) if batch else sum(seeds.values()))
    assert totals["runs"] == sum(seeds.values())
    minutes = sum(expected_minutes(spec, config["run_defaults"], cluster, seeds[name] if batch else 1)
                  * (1 if batch else seeds[name]) for name, spec in specs.items())
    assert totals["requested_gpu_h"] == pytest.approx(minutes / 60)
    # priced at the H100's measured rate: only the double-PINN FP64 convection and reaction jobs
    check = json.loads((ROOT / "benchmarks/results/gpu_check_h100.json").read_text())
    priced = {job["pde"]: job for job in preview["jobs"] if job["measured_gpu_h"] is not None}
    assert set(priced) == {"convection", "reaction"}
    for pde, job in priced.items():
        assert (job["regularizer"], job["precision"], job["rate"]["device"]) == ("double", "fp64", "NVIDIA H100 80GB HBM3")
        assert job["measured_gpu_h"] == pytest.approx(job["members"] * 1_000_000 / check[pde]["iters_per_s"] / 3600)


def test_cost_preview_of_quick_preset_lists_only_jobs_still_to_run(tmp_path, monkeypatch, capsys):
    """The command end to end, then (in this process) with one run finished."""
    work = copy_workflow(tmp_path / "wf")
    shutil.copy2(ROOT / "workflow/presets/quick.yaml", work / "quick.yaml")
    preview = cost_preview(work, "quick.yaml")
    quick = yaml.safe_load((ROOT / "workflow/presets/quick.yaml").read_text())
    rows = (quick.get("table1") or yaml.safe_load((work / "config.yaml").read_text())["table1"])["rows"]
    expected = [f"{row['experiment']}/seed{seed}" for row in rows for seed in quick["experiments"][row["experiment"]]["seeds"]]
    assert sorted(job["name"] for job in preview["jobs"]) == sorted(expected)
    for job in preview["jobs"]:
        assert job["max_iters"] == quick["experiments"][job["name"].split("/")[0]]["max_iters"]
        assert job["runtime_min"] == 10 and job["gpus"] == 1
    done = work / "results/runs/conv_none_fp32/seed0/run.h5"  # a finished run is not priced again
    done.parent.mkdir(parents=True)
    done.write_bytes(b"")
    again = cost_preview(work, "quick.yaml", monkeypatch=monkeypatch, capsys=capsys)
    assert sorted(job["name"] for job in again["jobs"]) == sorted(set(expected) - {"conv_none_fp32/seed0"})


def test_cost_preview_of_a_bad_config_names_the_field(tmp_path, monkeypatch, capsys):
    """What Snakemake refuses, `pinnfail cost` reports with Snakemake's message: status 2, no traceback."""
    from pinnfail.interfaces.cli import main

    work = copy_workflow(tmp_path / "wf")
    (work / "bad.yaml").write_text(yaml.safe_dump({"figures": {"seed": 7}}))
    monkeypatch.chdir(work)
    assert main(["cost", "--configfile", "bad.yaml", "--rates", str(ROOT / "benchmarks/results/gpu_check_h100.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pinnfail cost: error: snakemake -n: ") and "has no seed 7" in err and "Traceback" not in err


@pytest.mark.cluster
def test_gpu_guard_stops_a_job_whose_gpu_jax_cannot_see(slurm_cluster, pipeline_runs, tmp_path):
    """The fake GPUs give the job CUDA_VISIBLE_DEVICES but JAX only CPUs: with require_gpu on,
    the training job fails with the guard's one line and writes nothing; pipeline_runs ran the
    same job with require_gpu: false to the end."""
    work = copy_workflow(tmp_path / "guard")
    (work / "guard.yaml").write_text(yaml.safe_dump({"cluster": {"require_gpu": True}}))
    target = "results/runs/tiny_fp64/seed0/run.h5"
    cmd = ["timeout", "-s", "KILL", "300", *_snakemake(), "--profile", "slurm", "--slurm-status-command", "squeue",
           "--slurm-init-seconds-before-status-checks", "2", "--restart-times", "0", "--nocolor", target,
           "--configfile", str(PRESET), "guard.yaml"]
    rc, out = run(cmd, work, timeout=360)
    assert rc != 0, out[-3000:]
    log = (work / "logs/train/tiny_fp64/seed0.log").read_text()
    lines = [line for line in log.splitlines() if "GPU guard" in line]
    assert len(lines) == 1, log[-3000:]
    assert "CUDA_VISIBLE_DEVICES=0" in lines[0] and "cpu" in lines[0] and "require_gpu: false" in lines[0]
    assert not (work / target).exists() and not (work / f"{target}.ckpt.h5").exists()
    assert " it/s" not in log  # stopped before training: no progress line
    (job,) = [scontrol_job(p.stem) for p in (work / ".snakemake/slurm_logs").rglob("*.log")]
    assert job["JobState"] == "FAILED" and job["TresPerNode"] == "gres:gpu:a100:1", job
    completed = pipeline_runs["slurm"] / target
    assert completed.is_file()  # require_gpu: false, the same job on the same fake GPU


# --------------------------------------------------------------------------- conda environments
# conda-forge is unreachable where these tests run: the environments are never solved here.
# What is checked: the files parse, environment.yml is the one definition (the local rules'
# env links to it, the training env is it with the CUDA build of jaxlib), the training env
# pins a CUDA build, every rule names the env of its purpose, and each env's post-deploy
# script installs the checkout.

ENVS = ROOT / "workflow/envs"


def rule_envs():
    """{rule file: [conda env of each rule in it]} from the rule files' text."""
    out = {}
    for path in sorted((ROOT / "workflow/rules").glob("*.smk")):
        lines = path.read_text().splitlines()
        rules = [line for line in lines if re.match(r"^\s*(rule|checkpoint)( \w+)?:\s*$", line)]
        envs = [lines[i + 1].strip().strip('"') for i, line in enumerate(lines) if line.strip() == "conda:"]
        assert len(envs) == len(rules), f"{path.name}: {len(rules)} rules, {len(envs)} conda directives"
        out[path.name] = envs
    return out


def test_every_rule_names_the_env_of_its_purpose():
    for name, envs in rule_envs().items():
        expected = "../envs/train-gpu.yaml" if name == "train.smk" else "../envs/pinnfail.yaml"
        assert set(envs) <= {expected}, (name, envs)
    assert rule_envs()["train.smk"] and rule_envs()["evaluate.smk"]


def test_environment_yml_is_the_one_definition():
    """`conda env create -f environment.yml` makes the env the local rules use (a link, not a
    copy); the training env differs from it only by the CUDA 12 build of jaxlib."""
    local = ENVS / "pinnfail.yaml"
    assert local.is_symlink() and os.readlink(local) == "../../environment.yml"
    assert local.resolve() == (ROOT / "environment.yml").resolve()
    root = yaml.safe_load((ROOT / "environment.yml").read_text())
    gpu = yaml.safe_load((ENVS / "train-gpu.yaml").read_text())
    assert root["name"] == "pinnfail" and gpu["channels"] == root["channels"]
    expected = [d + " cuda12*" if d.split()[0] == "jaxlib" else d for d in root["dependencies"]]
    expected.insert(expected.index(next(d for d in expected if d.startswith("jaxlib"))) + 1, "cuda-version >=12,<13")
    assert gpu["dependencies"] == expected


def test_env_files_parse_and_training_env_pins_cuda():
    pyproject = (ROOT / "pyproject.toml").read_text()
    for name in ("pinnfail", "train-gpu"):
        env = yaml.safe_load((ENVS / f"{name}.yaml").read_text())
        deps = {d.split()[0]: d for d in env["dependencies"] if isinstance(d, str)}
        assert env["channels"][0] == "conda-forge" and "pip" in deps and not any(isinstance(d, dict) for d in env["dependencies"])
        for package in ("jax", "flax", "optax", "h5py", "jsonschema"):  # pyproject's ranges
            assert package in deps and deps[package].split(" ", 1)[1] in pyproject.replace('"', " "), deps[package]
        script = (ENVS / f"{name}.post-deploy.sh").read_text()
        assert 'pip install --no-deps --no-build-isolation' in script and '-e "$PWD"' in script
    gpu = {d.split()[0]: d for d in yaml.safe_load((ENVS / "train-gpu.yaml").read_text())["dependencies"]}
    assert gpu["jaxlib"].endswith(" cuda12*") and gpu["cuda-version"] == "cuda-version >=12,<13"
    local = {d.split()[0]: d for d in yaml.safe_load((ENVS / "pinnfail.yaml").read_text())["dependencies"]}
    assert "cuda" not in local["jaxlib"] and "cuda-version" not in local


def test_post_deploy_installs_the_checkout(tmp_path):
    """Run as Snakemake does (cwd = the checkout) with a stub python recording its arguments."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "python").write_text('#!/bin/sh\necho "$@" > "$RECORD"\n')
    (stub / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}{os.pathsep}{os.environ['PATH']}", "RECORD": str(tmp_path / "args")}
    proc = subprocess.run(["bash", str(ENVS / "train-gpu.post-deploy.sh")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "args").read_text().split()[-2:] == ["-e", str(ROOT)]
    proc = subprocess.run(["bash", str(ENVS / "train-gpu.post-deploy.sh")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "checkout's root" in proc.stderr


def test_batched_lambda_sweep_is_one_job(tmp_path):
    """batch_seeds: a study's lambda variants train in one job, members = seeds x lambdas."""
    from pinnfail.workflow.dryrun import planned_jobs

    work = copy_workflow(tmp_path / "wf")
    sweep = {"batch_seeds": True, "study": {"sweep": {
        "seeds": [0, 1], "base": {"pde": "convection", "regularizer": "l2", "max_iters": 50},
        "variants": [{"lambda": [1.0e-5, 1.0e-4]}, {"regularizer": "none"}]}}}
    (work / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    planned = planned_jobs(["results/studies/sweep/study.csv"], ["sweep.yaml"], workdir=work)
    train = {job.rule: job for job in planned if job.rule.startswith("train")}
    assert sorted(train) == ["train_batch_sweep__convection_l2_1em05_fp32", "train_batch_sweep__convection_none_fp32"]
    runs = [f"results/runs/sweep__convection_l2_{lam}_fp32/seed{s}/run.h5" for lam in ("1em05", "1em04") for s in (0, 1)]
    assert train["train_batch_sweep__convection_l2_1em05_fp32"].outputs == runs
    # the job's members (its `--seeds ... --lambdas ...`), from the planner the rule calls
    from pinnfail.workflow.plan import batch_jobs, plan

    experiments, seeds, _ = plan({**yaml.safe_load((work / "config.yaml").read_text()), **sweep})
    jobs = {job.name: job for job in batch_jobs(experiments, seeds)}
    assert [(m.seed, m.lam) for m in jobs["sweep__convection_l2_1em05_fp32"].members] == [
        (0, 1e-5), (1, 1e-5), (0, 1e-4), (1, 1e-4)]
    assert len(set(jobs["sweep__convection_none_fp32"].lambdas)) == 1  # the unregularized job has one lambda


def test_the_preview_says_where_each_group_of_jobs_goes_as_the_dry_run_asks(tmp_path, monkeypatch, capsys):
    """Partitions the test chooses: per (rule, precision) the preview's partition, gres,
    constraint, time limits and memory are what the dry run's jobs ask sbatch for."""
    from pinnfail.workflow.cluster import where_groups
    from pinnfail.workflow.dryrun import planned_jobs

    work = copy_workflow(tmp_path / "wf")
    site = {"cluster": {"fp64": {"slurm_partition": "gpu-a100", "gres": "gpu:a100:1", "constraint": "sxm"},
                        "fp32": {"slurm_partition": "gpu-any", "gres": "gpu:1", "constraint": ""}}}
    (work / "site.yaml").write_text(yaml.safe_dump(site))
    preview = cost_preview(work, "site.yaml", monkeypatch=monkeypatch, capsys=capsys)
    groups = {(g["rule"], g["precision"]): g for g in where_groups(preview["jobs"])}
    assert set(groups) == {("train", "fp32"), ("train", "fp64")}
    assert (groups["train", "fp64"]["partition"], groups["train", "fp64"]["gres"],
            groups["train", "fp64"]["constraint"]) == ("gpu-a100", "gpu:a100:1", "sxm")
    assert (groups["train", "fp32"]["partition"], groups["train", "fp32"]["constraint"]) == ("gpu-any", "-")
    asked = {}
    for job in planned_jobs(["results/table1.csv"], ["site.yaml"], workdir=work):
        if job.rule.startswith("train"):
            precision = "fp64" if job.resources.get("gres") == "gpu:a100:1" else "fp32"
            asked.setdefault(precision, []).append(job.resources)
    for precision, resources in asked.items():
        group = groups["train", precision]
        assert group["jobs"] == len(resources)
        assert {r["slurm_partition"] for r in resources} == {group["partition"]}
        lo, hi = min(r["runtime"] for r in resources), max(r["runtime"] for r in resources)
        assert group["time_limit"] == (f"{lo} min" if lo == hi else f"{lo}-{hi} min")


def test_a_cpu_block_sends_references_evaluations_and_studies_to_its_partition(tmp_path):
    """cluster.cpu set (partition names the test chooses): references, evaluations and studies
    are submitted there with its time limit and memory; training goes to the GPU partitions; the
    aggregation and document jobs stay local. Without the block, all of those run locally."""
    from pinnfail.workflow.dryrun import planned_jobs

    work = copy_workflow(tmp_path / "wf")
    site = {"cluster": {"fp64": {"slurm_partition": "gpu-a100", "gres": "gpu:a100:1"},
                        "fp32": {"slurm_partition": "gpu-any", "gres": "gpu:1"},
                        "cpu": {"slurm_partition": "cpu-long", "constraint": "avx2", "runtime": 90, "mem_mb": 6000}}}
    (work / "site.yaml").write_text(yaml.safe_dump(site))
    targets = ["results/table1.csv", "results/studies/regularizers_quick/study.md"]
    jobs = planned_jobs(targets, ["site.yaml"], workdir=work, forceall=True)
    by_rule = {}
    for job in jobs:
        by_rule.setdefault(job.rule.split("_")[0] if job.rule.startswith("train") else job.rule, []).append(job)
    for rule in ("reference", "evaluate", "study_regularizers_quick"):
        assert by_rule[rule] and all(not j.local for j in by_rule[rule]), rule
        assert {(j.resources.get("slurm_partition"), j.resources.get("constraint"), j.resources.get("runtime"),
                 j.resources.get("mem_mb")) for j in by_rule[rule]} == {("cpu-long", "avx2", 90, 6000)}, rule
    assert {j.resources.get("slurm_partition") for j in by_rule["train"]} <= {"gpu-a100", "gpu-any"}
    assert all(j.local for j in by_rule["table1"])
    local = planned_jobs(targets, [], workdir=work, forceall=True)
    assert all(j.local for j in local if j.rule in ("reference", "evaluate", "study_regularizers_quick"))
    assert not any("slurm_partition" in j.resources for j in local if j.rule == "evaluate")
