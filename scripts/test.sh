#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Python tools the
# integration tests drive (moto's IAM server, pre-commit), then runs every
# Rust test. Tests only ever talk to loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
cargo test --locked --all-targets "$@"
# The examples in the docs, and the fact names a typo must not compile with.
cargo test --locked --doc
