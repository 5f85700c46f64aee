#!/usr/bin/env bash
# The pre-commit hook as it runs: `keyward scan --staged FILE` in a git
# repository of FILES generated files (bench/gen_tree.py: a realistic infra
# monorepo with planted keys, one file in eight mentioning a credential
# keyword), one small file holding a key changed and staged. A commit is
# judged with the files of the repository that share its keys, so this
# measures that too: cold (no .git/keyward/key-ids: every blob of HEAD read once)
# and warm (only blobs that share a key read and parsed), with hyperfine,
# start-up included.
#
# usage: bench/precommit.sh [FILES...]   (default: 5000 50000)
# environment: BIN=target/release/keyward   BENCH_DIR=/tmp   RUNS=20
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${BIN:-$repo/target/release/keyward}
bench_dir=${BENCH_DIR:-/tmp}
runs=${RUNS:-20}
[ -x "$bin" ] || cargo build --release --locked --bin keyward
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(5000 50000)

for n in "${sizes[@]}"; do
  dir=$bench_dir/keyward-precommit-$n
  if [ ! -d "$dir/.git" ]; then
    rm -rf "$dir"
    python3 bench/gen_tree.py "$dir" --files "$n" --planted $((n / 250 + 1)) > /dev/null
    git -C "$dir" init -q -b main
    git -C "$dir" -c user.email=bench@example.com -c user.name=bench add -A
    git -C "$dir" -c user.email=bench@example.com -c user.name=bench commit -qm tree
  fi
  # The commit: one small Terraform file holding a key.
  small=$(awk -F'\t' '$1 == "tf-provider" {print $2; exit}' "$dir/.planted")
  echo "# touched by the benchmark" >> "$dir/$small"
  git -C "$dir" add "$small"
  with_keys=$(cd "$dir" && rm -f .git/keyward/key-ids && "$bin" scan --staged "$small" --format json --fail-on never > /dev/null; grep -c "	A" .git/keyward/key-ids || true)
  echo "== $n files ($(git -C "$dir" ls-files | wc -l) tracked, $with_keys files of HEAD holding a key ID), staged: $small"
  (cd "$dir" && hyperfine -N --runs "$runs" \
    --prepare 'rm -f .git/keyward/key-ids' \
    --command-name "cold (no cache)" "$bin scan --staged $small --format json --fail-on never" \
    --export-json "$bench_dir/precommit-$n-cold.json")
  (cd "$dir" && hyperfine -N --warmup 3 --runs "$runs" \
    --command-name "warm (cached)" "$bin scan --staged $small --format json --fail-on never" \
    --export-json "$bench_dir/precommit-$n-warm.json")
  git -C "$dir" checkout -q -- "$small" 2>/dev/null || true
  git -C "$dir" reset -q
  git -C "$dir" checkout -q -- .
done
