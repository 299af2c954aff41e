#!/usr/bin/env bash
# Wheels that benchmarks/gpu_table1.sh installs on the lent GPU machine, which has JAX, flax,
# optax, h5py, scipy and matplotlib but no Snakemake and no package index:
# Snakemake and every one of its dependencies (jsonschema among them) for CPython 3.12 on
# x86_64 Linux, about 28 MB (PuLP alone 16 MB). Run from the repository root:
#   bash benchmarks/fetch_wheels.sh            # -> .whl/snakemake/ (about 53 wheels)
# .whl/ must stay out of git (echo /.whl/ >> .git/info/exclude) and travel with the
# device call (carry: [".whl"]). connection_pool has no wheel on PyPI: it is pure Python,
# so a wheel is built from its sdist here. The last step proves the set complete: pip
# resolves snakemake for CPython 3.12 from these files alone.
set -euo pipefail
SNAKEMAKE=${SNAKEMAKE:-snakemake==9.27.1}
dest=.whl/snakemake
mkdir -p "$dest"
platform=(--python-version 3.12 --implementation cp --only-binary=:all: --platform any
          --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
          --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
python3 -m pip wheel -q --no-deps -w "$dest" connection_pool==0.0.3
python3 -m pip download -q "${platform[@]}" --find-links "$dest" -d "$dest" "$SNAKEMAKE"
python3 -m pip install -q --dry-run --no-index --find-links "$dest" "${platform[@]}" \
  --target "$(mktemp -d)" "$SNAKEMAKE"
echo "$(ls "$dest" | wc -l) wheels, $(du -sh "$dest" | cut -f1) in $dest: complete for CPython 3.12"
