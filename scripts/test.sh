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
.venv/bin/python -m pip install --quiet -e ".[dev,sage,dask,ray]"
.venv/bin/python -m pip install --quiet --no-deps calt-x==1.5.0  # reference for tests/test_calt_parity.py
.venv/bin/python -m pytest -q "$@"
