#!/usr/bin/env bash
# Table 1 on one lent GPU (issue 14): the real Snakemake workflow with the GPU preset, in one
# device command, bringing back at most 8 small files. From the repository root:
#   bash benchmarks/gpu_table1.sh OUTDIR [DEADLINE_S]      # DEADLINE_S: whole script, default 530
# Before the device call, here: bash benchmarks/fetch_wheels.sh (Snakemake and its
# dependencies for CPython 3.12 into .whl/snakemake, ~28 MB; .whl/ is git-ignored), then
#   git rev-parse HEAD > REVISION   # the device tree has no .git; README.md names this revision
#   run(command="bash benchmarks/gpu_table1.sh $OUT 530", carry=[".whl"], timeout_s=600)
# Steps (times are measured and written to OUTDIR/README.md):
#  1. install the carried wheels where Snakemake is missing (pip --no-index: only what the
#     machine lacks), a `pinnfail` shim on PATH (python3 -m pinnfail.interfaces.cli, this checkout's src/);
#  2. concurrency probe: the convection job of the preset (2 members) for PROBE_ITERS
#     iterations as 1, 2 and 4 simultaneous processes; aggregate member-iterations/s from the
#     run.h5 histories (compilation excluded); the best count becomes snakemake --cores;
#  3. the workflow, snakemake --configfile workflow/presets/gpu_table1.yaml [extra] [budget],
#     targets Table 1, fig5, the convergence figure, runs.csv and the lambda study, in two
#     passes: (a) the targets' training jobs alone (--omit-from every other rule), C at a time; the budget layer scales
#     every max_iters of the preset by SCALE x min(1, time left / 290 s) x C / 4 (the preset
#     is sized for 290 s of training with 4 jobs at once). 150 s before the deadline
#     snakemake gets SIGTERM (it starts nothing more) and so do the jobs' processes:
#     `pinnfail train` writes its runs marked stop_reason `interrupted` at the iteration
#     reached, and --keep-incomplete keeps them. (b) everything else (references,
#     evaluations, products) on all CPU cores, --ignore-incomplete, no training rule allowed;
#  4. OUTDIR (8 files): README.md (command, device, budget per row, probe, timings),
#     runs.csv (Table 1 rows and the sweep, one line per run), table1.md, table1.csv, fig5.png,
#     convergence.png, study.md (lambda chosen by lowest test loss), logs.tar.gz.
# Environment: GPU_TABLE1_EXTRA_CONFIG (config files layered after the preset),
# GPU_TABLE1_SCALE (iterations factor, default 1), GPU_TABLE1_PROBE_ITERS (default 2000),
# GPU_TABLE1_CORES (skip the probe and use this many concurrent jobs, e.g. once measured).
# The CPU rehearsal: GPU_TABLE1_EXTRA_CONFIG=benchmarks/rehearsal_cpu.yaml GPU_TABLE1_SCALE=0.005
#   GPU_TABLE1_PROBE_ITERS=30 bash benchmarks/gpu_table1.sh /tmp/rehearsal 1500
set -u
out=$(mkdir -p "${1:?OUTDIR}" && cd "$1" && pwd); deadline=${2:-530}
repo=$(cd "$(dirname "$0")/.." && pwd)
preset=workflow/presets/gpu_table1.yaml
extra=${GPU_TABLE1_EXTRA_CONFIG:-}; scale=${GPU_TABLE1_SCALE:-1}; probe_iters=${GPU_TABLE1_PROBE_ITERS:-2000}
planned_train_s=290; reserve_s=150
targets=(results/table1.csv results/table1.md results/figures/fig5.png results/figures/convergence.png
         results/runs.csv results/studies/gpu_lambda/study.md results/studies/gpu_lambda/runs.csv)
work=$(mktemp -d /tmp/gpu_table1.XXXXXX); logs=$work/logs_out; mkdir -p "$logs"
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false MPLBACKEND=Agg
export JAX_COMPILATION_CACHE_DIR=$work/jax_cache PYTHONPATH=$repo/src${PYTHONPATH:+:$PYTHONPATH}
stamp() { echo "$(date -u +%T) t=${SECONDS}s $*" | tee -a "$logs/timeline.txt"; }

# 1. Snakemake and the shim
stamp "start (deadline ${deadline}s)"
if ! python3 -c "import snakemake" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-cache-dir --find-links "$repo/.whl/snakemake" snakemake==9.27.1 \
    >"$logs/pip.txt" 2>&1 || { cat "$logs/pip.txt"; exit 1; }
fi
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec python3 -m pinnfail.interfaces.cli "$@"\n' >"$work/bin/pinnfail"; chmod +x "$work/bin/pinnfail"
export PATH=$work/bin:$PATH
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  python3 -c "import jax, snakemake; print('jax', jax.__version__, jax.devices(), '| snakemake', snakemake.__version__)"
} >"$logs/device.txt" 2>&1
cat "$logs/device.txt"
stamp "installed"
cp -r "$repo/Snakefile" "$repo/config.yaml" "$repo/workflow" "$work/"
[ -n "$extra" ] && for f in $extra; do cp "$repo/$f" "$work/extra_$(basename "$f")"; done
cd "$work"
configs=("$preset"); for f in $extra; do configs+=("extra_$(basename "$f")"); done

# 2. concurrency probe
probe() { # copies -> aggregate member-iterations/s
  local c=$1 pids=() i
  for i in $(seq 1 "$c"); do
    pinnfail train --pde convection --regularizer double --lambda 1e-4 --precision fp64 --grid 20x20 \
      --n-initial 200 --n-boundary 200 --max-iters "$probe_iters" --stop-window 0 --checkpoint-every 0 \
      --log-every 10 --seeds 0 1 --outs "probe/c${c}_$i/s0.h5" "probe/c${c}_$i/s1.h5" --quiet \
      >"probe/c${c}_$i.log" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  python3 - "$c" <<'EOF'
import glob, json, sys
import h5py
c = int(sys.argv[1]); rates = []
for path in sorted(glob.glob(f"probe/c{c}_*/s0.h5")):
    with h5py.File(path) as f:
        it, t = f["history/iteration"][()], f["history/wall_time"][()]
    rates.append(2 * (it[-1] - it[1]) / (t[-1] - t[1]))  # 2 members; from the 2nd log row: compiled
print(json.dumps({"processes": c, "member_iters_per_s": [round(r, 1) for r in rates], "aggregate": round(sum(rates), 1)}))
EOF
}
mkdir -p probe
if [ -n "${GPU_TABLE1_CORES:-}" ]; then
  cores=$GPU_TABLE1_CORES; echo "{\"skipped\": \"GPU_TABLE1_CORES=$cores\"}" >"$logs/probe.jsonl"
else
  for c in 1 2 4; do probe "$c" | tee -a "$logs/probe.jsonl" || echo "{\"processes\": $c, \"aggregate\": 0}" >>"$logs/probe.jsonl"; done
  cores=$(python3 -c "
import json; rows = [json.loads(l) for l in open('$logs/probe.jsonl')]
print(max(rows, key=lambda r: r['aggregate'])['processes'])")
fi
stamp "probe done: --cores $cores"

# 3. the workflow
train_end=$((deadline - reserve_s))
python3 - "$preset" "$scale" "$((train_end - SECONDS))" "$planned_train_s" "$cores" >budget.yaml <<'EOF'
import sys, yaml
preset, scale, left, planned, cores = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
factor = scale * min(1.0, max(left, 0) / planned) * min(cores, 4) / 4
spec = yaml.safe_load(open(preset))
iters = lambda n: max(10, int(round(n * factor, -1)))
layer = {"experiments": {name: {"max_iters": iters(e["max_iters"])} for name, e in spec.get("experiments", {}).items()
                         if "max_iters" in e},
         "study": {name: {"base": {"max_iters": iters(s["base"]["max_iters"])}} for name, s in spec.get("study", {}).items()}}
print(f"# budget layer: max_iters x {factor:.4g} (scale {scale}, {left} s left for {planned} s planned, {cores} jobs at once)")
print(yaml.safe_dump(layer, sort_keys=True))
EOF
cat budget.yaml | tee "$logs/budget.yaml"
smk=(python3 -m snakemake --nocolor --configfile "${configs[@]}" budget.yaml)
other_rules=$("${smk[@]}" --list-rules 2>/dev/null | grep -v '^train' | tr '\n' ' ')
"${smk[@]}" --cores "$cores" --keep-incomplete --omit-from $other_rules -- "${targets[@]}" >"$logs/snakemake_1.txt" 2>&1 &
smk_pid=$!
job_processes() { # the processes below PID $1 that are not shells: the jobs' pinnfail commands
  python3 - "$1" <<'EOF'
import os, sys
children = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
    children.setdefault(int(rest[1]), []).append((int(pid), name))
todo, found = [int(sys.argv[1])], []
while todo:
    for pid, name in children.get(todo.pop(), []):
        todo.append(pid)
        found += [] if name in ("bash", "sh", "dash") else [pid]
print(*found)
EOF
}
while kill -0 "$smk_pid" 2>/dev/null && [ "$SECONDS" -lt "$train_end" ]; do sleep 2; done
if kill -0 "$smk_pid" 2>/dev/null; then
  pids=$(job_processes "$smk_pid")
  stamp "training deadline: SIGTERM to snakemake and its jobs' processes ($pids)"
  kill -TERM "$smk_pid" $pids 2>/dev/null
  # pinnfail train acts on SIGTERM between on-device chunks (log_every iterations): a chunk
  # longer than 60 s (seen on 2 CPU cores, never expected on a GPU) loses its runs instead
  for _ in $(seq 30); do kill -0 "$smk_pid" 2>/dev/null || break; sleep 2; done
  if kill -0 "$smk_pid" 2>/dev/null; then
    stamp "jobs still running 60 s after SIGTERM: SIGKILL"
    kill -KILL $(job_processes "$smk_pid") "$smk_pid" 2>/dev/null
  fi
fi
wait "$smk_pid"; rc1=$?
stamp "snakemake (training) exit $rc1"
# products only: a run that never started is not trained now (its products are then missing)
left=$((deadline - SECONDS - 15)); [ "$left" -lt 30 ] && left=30
timeout -s TERM "$left" "${smk[@]}" --cores "$(nproc)" --keep-going --ignore-incomplete \
  --allowed-rules $other_rules -- "${targets[@]}" >"$logs/snakemake_2.txt" 2>&1
rc2=$?
stamp "snakemake (products) exit $rc2"

# 4. pack
python3 - "$out" <<'EOF'
import csv, sys
rows, seen = [], set()
for path in ("results/runs.csv", "results/studies/gpu_lambda/runs.csv"):
    try:
        with open(path) as f:
            for row in csv.DictReader(f):
                if (row["experiment"], row["seed"]) not in seen:
                    seen.add((row["experiment"], row["seed"])); rows.append(row)
    except FileNotFoundError:
        pass
if rows:
    with open(sys.argv[1] + "/runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
EOF
for f in results/table1.md results/table1.csv results/figures/fig5.png results/figures/convergence.png; do
  [ -f "$f" ] && cp "$f" "$out/"
done
[ -f results/studies/gpu_lambda/study.md ] && cp results/studies/gpu_lambda/study.md "$out/study.md"
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || cat "$repo/REVISION" 2>/dev/null || echo unknown)
{
  echo "# Table 1 on one GPU: benchmarks/gpu_table1.sh"
  echo
  echo "Command: \`bash benchmarks/gpu_table1.sh OUTDIR $deadline\` (extra config: ${extra:-none}, scale $scale)"
  echo "Revision: $revision. Device: $(head -n1 "$logs/device.txt")"
  echo "$(tail -n1 "$logs/device.txt")"
  echo
  echo "Concurrency probe (convection double PINN FP64, 2 members, $probe_iters iterations per process):"
  echo '```'; cat "$logs/probe.jsonl"; echo '```'
  echo "Chosen: snakemake --cores $cores. Budget layer (max_iters per row):"
  echo '```'; cat budget.yaml; echo '```'
  echo "Exit codes: training pass $rc1, products pass $rc2. Timeline:"
  echo '```'; cat "$logs/timeline.txt"; echo "$(date -u +%T) t=${SECONDS}s packed"; echo '```'
} >"$out/README.md"
cp -r logs "$logs/job_logs" 2>/dev/null; cp -r probe/*.log "$logs/" 2>/dev/null
cp results/studies/gpu_lambda/study.csv "$logs/" 2>/dev/null
tar -czf "$out/logs.tar.gz" -C "$logs" . 2>/dev/null
ls -la "$out"
cat "$out/README.md"
exit $rc2
