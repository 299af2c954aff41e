#!/usr/bin/env bash
# The one command for a lent GPU machine (device tool), from the repository root:
#   bash benchmarks/gpu_run.sh OUTDIR [DEADLINE_S] [check|batching]
# check (default): a CLI smoke run, then gpu_check.py; batching: gpu_batching.py only.
# The machine has JAX/flax/optax/torch but no package index: wheels for what it lacks
# (jsonschema and its needs) travel in .whl/base; .whl/fallback holds the flax/optax
# versions CI tests with, used only if the machine's own fail a smoke run.
set -u
out=${1:?OUTDIR}; deadline=${2:-460}; what=${3:-check}
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
python3 -c "import jsonschema" 2>/dev/null ||
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/base/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv >"$out/nvidia_smi.txt" 2>&1
if [ "$what" = batching ]; then
  exec python3 benchmarks/gpu_batching.py --out "$out/gpu_batching.json" --deadline "$deadline"
fi
smoke() {
  python3 -c "from pinnfail.interfaces.cli import main; raise SystemExit(main(['train', '--pde', 'convection', '--regularizer', 'double', '--lambda', '1e-4', '--precision', 'fp32', '--max-iters', '300', '--seeds', '0', '1', '--outs', '$out/run_s0.h5', '$out/run_s1.h5', '--quiet']))"
}
if ! smoke 2>"$out/smoke_err.txt"; then
  echo "smoke run failed with the machine's flax/optax; retrying with .whl/fallback" | tee "$out/fallback.txt"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/fallback .whl/fallback/*.whl || exit 1
  export PYTHONPATH=/tmp/site:/tmp/fallback:$PWD/src
  smoke 2>>"$out/smoke_err.txt" || { cat "$out/smoke_err.txt"; exit 1; }
fi
python3 -c "
import h5py, json, sys
for s in (0, 1):
    with h5py.File('$out/run_s%d.h5' % s) as f:
        print('cli run seed', s, {k: str(f.attrs[k])[:80] for k in f.attrs if k in ('stop_reason', 'device', 'wall_time_s', 'iterations')})
"
python3 benchmarks/gpu_check.py --out "$out/gpu_check.json" --deadline "$deadline" 2>&1 | tee "$out/gpu_check.log"
