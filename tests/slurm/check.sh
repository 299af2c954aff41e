#!/usr/bin/env bash
# Smoke test for the cluster brought up by tests/slurm/start.sh.
# Checks: batch job + srun step, partition routing, fake-GPU gres routing
# (--gres and --gpus forms), --account accepted without accounting,
# two jobs running at once, finished jobs still visible to squeue/scontrol.
# Exit 0 if all pass. Leaves the cluster running.
set -euo pipefail
WORK="$(mktemp -d /tmp/slurm-check.XXXXXX)"
cd "$WORK"
fail() { echo "[slurm-check] FAIL: $*" >&2; exit 1; }
field() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }

wait_done() { # jobid... ; wait until none is PENDING/RUNNING (max 60 s)
  for _ in $(seq 1 120); do
    local busy=0
    for j in "$@"; do
      case "$(squeue -h -t all -j "$j" -o %T 2>/dev/null)" in
        PENDING|RUNNING|CONFIGURING|COMPLETING|"") busy=1 ;;
      esac
    done
    [ "$busy" -eq 0 ] && return 0
    sleep 0.5
  done
  fail "jobs $* did not finish in 60 s"
}

j_cpu=$(sbatch --parsable --wrap 'hostname; srun hostname')
j_a100=$(sbatch --parsable -p gpu --gres=gpu:a100:1 --wrap 'echo "CVD=$CUDA_VISIBLE_DEVICES"')
j_titan=$(sbatch --parsable -p gpu --gpus=titanrtx:1 --cpus-per-task=1 --wrap 'echo "CVD=$CUDA_VISIBLE_DEVICES"')
j_acct=$(sbatch --parsable --account=dummy --mem=500 --wrap 'echo acct')
c1=$(sbatch --parsable --wrap 'sleep 6')
c2=$(sbatch --parsable --wrap 'sleep 6')

# concurrency: both sleepers RUNNING at the same time
both=0
for _ in $(seq 1 40); do
  [ "$(squeue -h -j "$c1,$c2" -t RUNNING -o %i | wc -l)" -eq 2 ] && { both=1; break; }
  sleep 0.25
done
[ "$both" -eq 1 ] || fail "jobs $c1 and $c2 never ran concurrently"

wait_done "$j_cpu" "$j_a100" "$j_titan" "$j_acct" "$c1" "$c2"

for j in "$j_cpu" "$j_a100" "$j_titan" "$j_acct" "$c1" "$c2"; do
  [ "$(field "$j" JobState)" = COMPLETED ] || fail "job $j state $(field "$j" JobState)"
  [ "$(squeue -h -t all -j "$j" -o %T)" = COMPLETED ] || fail "squeue lost finished job $j"
done
[ "$(wc -l < "slurm-$j_cpu.out")" -eq 2 ] || fail "srun step did not run in job $j_cpu"
[ "$(field "$j_cpu" Partition)" = cpu ] || fail "default partition is not cpu"
[ "$(field "$j_a100" Partition)" = gpu ] || fail "a100 job not in gpu partition"
[ "$(field "$j_a100" TresPerNode)" = "gres:gpu:a100:1" ] || fail "a100 TresPerNode=$(field "$j_a100" TresPerNode)"
[ "$(field "$j_titan" TresPerJob)" = "gres:gpu:titanrtx:1" ] || fail "titan TresPerJob=$(field "$j_titan" TresPerJob)"
grep -q '^CVD=0$' "slurm-$j_a100.out" || fail "a100 job CUDA_VISIBLE_DEVICES: $(cat "slurm-$j_a100.out")"
grep -q '^CVD=1$' "slurm-$j_titan.out" || fail "titan job CUDA_VISIBLE_DEVICES: $(cat "slurm-$j_titan.out")"
[ "$(field "$j_acct" Account)" = dummy ] || fail "account not recorded"
if sbatch --parsable -p gpu --gres=gpu:a100:2 --wrap true >/dev/null 2>&1; then
  fail "impossible gres request (gpu:a100:2) was accepted"
fi
echo "[slurm-check] all checks passed (work dir $WORK)"
rm -rf "$WORK"
