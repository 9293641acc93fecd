#!/usr/bin/env bash
# Full comparison: set up the peers' venv, build our release `dbn`, then run compare.py
# (arguments pass through, e.g. `scripts/bench/run.sh --rounds 5` or `--quick`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$here/setup.sh"
(cd "$repo" && swift build -c release --product dbn)
exec "$here/.venv/bin/python" "$here/compare.py" "$@"
