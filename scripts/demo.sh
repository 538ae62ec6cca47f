#!/usr/bin/env bash
# Bring the system up on SQLite with a demo town: http://127.0.0.1:8000 (the demo accounts are printed).
# Options go to `fangfan demo` (see ../shared/spec/CLI.md), e.g. --addr 0.0.0.0:8000, --no-serve.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/bootstrap.sh"
cd "$root"
exec .venv/bin/fangfan demo "$@"
