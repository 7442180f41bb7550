#!/usr/bin/env bash
# Set up the project's own environment (.venv) from pyproject.toml and run the whole test suite.
# The cluster tests run Dask and Ray inside a loopback-only network namespace (unshare --net, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if { ! command -v unshare || ! command -v ip; } >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq util-linux iproute2 >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev,sage,flint,dask,ray,train]"
.venv/bin/python -m pip install --quiet --no-deps calt-x==1.5.0  # reference for tests/test_calt_parity.py
# Two processes, one file each (module fixtures, one cluster at a time), in the order tests/conftest.py gives
# (longest first; xdist would otherwise hand out the files with the most tests first).
.venv/bin/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder "$@"
# The declared floors (scripts/floor-constraints.txt: the oldest datasets and huggingface-hub that
# pyproject.toml admits) against the tests of the Hugging Face side, in an environment of their own.
if [ "$#" = 0 ]; then
  python3 -m venv .venv-floor
  .venv-floor/bin/python -m pip install --quiet -e ".[dev]" -c scripts/floor-constraints.txt
  .venv-floor/bin/python -m pytest -q -n 2 tests/test_hf.py tests/test_hub_push.py tests/test_writer.py
fi
