#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Python tools the
# integration tests drive (moto's IAM server, pre-commit, maturin), then runs
# every Rust test, then builds the wheel and runs the hook it installs.
# Tests only ever talk to loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
cargo test --locked --all-targets "$@"
# The examples in the docs, and the fact names a typo must not compile with.
cargo test --locked --doc
# The wheel and the `keyward` pre-commit hook that installs it.
bash scripts/test-wheel.sh
