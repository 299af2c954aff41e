#!/usr/bin/env bash
# Evidence longer than a sitting (docs/development.md): build CPU-evidence targets one after the
# other, niced, from a worktree of a committed revision, with checkpoints outside the work tree.
# Run it again with the same arguments to resume: finished runs are kept, unfinished ones resume
# from their checkpoints, a raised max_iters continues the finished (or committed) run.
#
#   workflow/scripts/evidence_chain.sh WORKTREE CHECKPOINT_DIR LOG TARGET...
#
# WORKTREE: a `git worktree` of the revision that trains (its src/ is the code that runs);
# CHECKPOINT_DIR: outside every work tree, where checkpoints survive a new checkout;
# LOG: the chain's log file (each target's start, end and exit status; Snakemake's output).
set -u
if [ $# -lt 4 ]; then
    echo "usage: $0 WORKTREE CHECKPOINT_DIR LOG TARGET..." >&2
    exit 2
fi
worktree=$(cd "$1" && pwd) || exit 2
checkpoints=$2
log=$3
shift 3
mkdir -p "$checkpoints" "$(dirname "$log")"
overrides=$(mktemp --suffix=.yaml)
trap 'rm -f "$overrides"' EXIT
# the path is written as a YAML string (quoted), never through a shell
python3 -c 'import json, sys; print("checkpoint_dir: " + json.dumps(sys.argv[1]))' "$checkpoints" > "$overrides"
cd "$worktree" || exit 2
export PYTHONPATH="$worktree/src"
for target in "$@"; do
    echo "=== $(date -u +%FT%TZ) start $target (revision $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg))" >> "$log"
    nice -n 10 snakemake --cores 2 --rerun-incomplete \
        --configfile workflow/presets/cpu_evidence.yaml "$overrides" -- "$target" >> "$log" 2>&1
    status=$?
    echo "=== $(date -u +%FT%TZ) end $target: exit $status" >> "$log"
done
