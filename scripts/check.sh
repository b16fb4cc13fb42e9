#!/usr/bin/env bash
# The test command: installs the packages it needs, builds, makes the PyTorch
# fixtures and runs every test. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j2 all
make test
