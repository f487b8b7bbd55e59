#!/usr/bin/env bash
# The whole documentation site, every gallery example executed, warnings as errors:
# open docs/_build/html/index.html. Offline; about 5 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m sphinx -W -b html docs docs/_build/html "$@"
