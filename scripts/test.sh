#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Python tools the
# integration tests drive (moto's IAM server, pre-commit, maturin), then runs
# every Rust test, then builds the wheel and runs the hook it installs.
# Tests only ever talk to loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
# The wheel and the container image hold a static (musl) keyward: the
# target and its C compiler (tree-sitter and aws-lc are C), and buildah,
# which builds and runs the image without a container engine.
musl=$(uname -m)-unknown-linux-musl
rustup target list --installed | grep -qx "$musl" || rustup target add "$musl"
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -q "$@" >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}
command -v musl-gcc >/dev/null || apt_install musl-tools
command -v buildah >/dev/null || apt_install buildah
cargo test --locked --all-targets "$@"
# The examples in the docs, and the fact names a typo must not compile with.
cargo test --locked --doc
# The wheel and the `keyward` pre-commit hook that installs it, then the
# container image around the same static binary.
bash scripts/test-wheel.sh
bash scripts/test-image.sh "target/$musl/debug/keyward"
