#!/usr/bin/env bash
# Snakemake runs this once in the new environment, from its working directory (the
# checkout's root): install the checkout editable, without touching conda's packages.
set -euo pipefail
grep -q '^name = "pinnfail"' pyproject.toml 2>/dev/null || {
  echo "post-deploy: run snakemake from the pinnfail checkout's root (no pinnfail pyproject.toml in $PWD)" >&2
  exit 1
}
python -m pip install --no-deps --no-build-isolation --no-input -q -e "$PWD"
