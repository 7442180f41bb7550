#!/usr/bin/env bash
# Set up the project's own environment (.venv) from pyproject.toml and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev,sage]"
.venv/bin/python -m pytest -q "$@"
