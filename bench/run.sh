#!/usr/bin/env bash
# Times `keyward scan` next to `rg -c` with the bare key-ID regex (the floor)
# and the peers installable here (git-secrets from Debian, detect-secrets
# from PyPI) on the same generated trees, interleaved (one run of each tool
# in turn, RUNS times), with peak RSS; then the pre-commit case (one small
# file, hyperfine), cost against tree size, and --threads 1 vs 8. Recall on
# the planted keys and the table come from bench/report.py.
#
# usage: bench/run.sh [FILES] [RUNS]
#   FILES  main tree size (default 50000)     RUNS  runs per tool (default 5)
# environment:
#   PEERS=0          skip git-secrets and detect-secrets
#   PEER_FILES=2000  tree size for the detect-secrets comparison: it takes
#                    minutes per thousand files here, hours for 50,000
#   PEER_RUNS=1      runs of detect-secrets    PEER_TIMEOUT=900 (seconds)
#   SCALING=0        skip the 10k/50k/100k series
#   WRITE=FILE       also replace the table section of FILE (BENCHMARKS.md)
#   BENCH_DIR=/tmp   where trees are generated (kept between runs)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
files=${1:-50000}
runs=${2:-5}
peers=${PEERS:-1}
peer_files=${PEER_FILES:-2000}
peer_runs=${PEER_RUNS:-1}
peer_timeout=${PEER_TIMEOUT:-900}
scaling=${SCALING:-1}
bench_dir=${BENCH_DIR:-/tmp}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}

command -v rg >/dev/null || { apt-get update -qq && apt-get install -y -qq ripgrep; }
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ "$peers" = 1 ]; then
  command -v git-secrets >/dev/null || { apt-get update -qq && apt-get install -y -qq git-secrets; }
  command -v detect-secrets >/dev/null || pip install -q detect-secrets 2>/dev/null \
    || pip install -q --break-system-packages detect-secrets
fi
cargo build --release --locked -q
bin=$CARGO_TARGET_DIR/release/keyward

out=$(mktemp -d /tmp/keyward-bench-out.XXXXXX)
results=$out/results.tsv
: > "$results"
regex='\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b'
# git-secrets keeps its patterns in git config: a private file, not root's.
export GIT_CONFIG_GLOBAL=$out/gitconfig
if [ "$peers" = 1 ]; then git secrets --register-aws --global >/dev/null; fi

tree_for() {
  local n=$1 t=$bench_dir/keyward-bench-$1
  [ -f "$t/.planted" ] || python3 bench/gen_tree.py "$t" --files "$n" >&2
  echo "$t"
}

# measure TREE TOOL OUTFILE TIMEOUT CMD...: one timed run, appended to results.
measure() {
  local tree=$1 tool=$2 dest=$3 limit=$4; shift 4
  local s e rc=0
  s=$(date +%s%N)
  ( cd "$tree" && timeout "$limit" /usr/bin/time -f '%M' -o "$out/rss" "$@" > "$dest" 2> "$out/stderr" ) || rc=$?
  e=$(date +%s%N)
  local status=ok
  # rg exits 1 and the secret scanners 1 when they find something.
  if [ "$rc" = 124 ]; then status=timeout; elif [ "$rc" -gt 1 ]; then status="exit$rc"; fi
  # git-secrets reports matches on stderr.
  [ "$tool" = git-secrets ] && cat "$out/stderr" >> "$dest"
  printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$tree")" "$tool" "$(( (e - s) / 1000 ))" \
    "$(grep -E '^[0-9]+$' "$out/rss" | tail -1 || echo 0)" "$status" >> "$results"
}

# One untimed pass so every tool meets a warm page cache, not just the
# ones that happen to run after the first.
warm() { rg -c --hidden -uu zzzz-no-such-text "$1" > /dev/null 2>&1 || true; }

run_fast() { # TREE RUNS: keyward, rg (and git-secrets) interleaved
  local tree=$1 n=$2 name; name=$(basename "$tree")
  warm "$tree"
  for r in $(seq "$n"); do
    measure "$tree" keyward /dev/null 600 "$bin" scan . --format json --fail-on never
    measure "$tree" rg "$out/$name.rg" 600 rg -c --hidden "$regex" .
    if [ "$peers" = 1 ]; then
      measure "$tree" git-secrets "$out/$name.git-secrets" 600 git secrets --scan --no-index
    fi
  done
  # The findings for recall, untimed.
  (cd "$tree" && "$bin" scan . --format json --fail-on never > "$out/$name.keyward")
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -h | awk '/Mem:/ {print $2}') RAM" | tee "$out/machine"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine"

main=$(tree_for "$files")
echo "main tree: $main ($files files, $(du -sh "$main" | cut -f1)), $runs runs each" | tee -a "$out/machine"
run_fast "$main" "$runs"

# The pre-commit case: one small file holding a key, start-up included.
small=$(awk -F'\t' '$1 == "tf-provider" {print $2; exit}' "$main/.planted")
hyperfine -N --warmup 5 --runs 50 --export-json "$out/precommit.json" \
  "$bin scan $main/$small --format json --fail-on never" > "$out/precommit.txt"

# Output must not depend on scheduling.
(cd "$main" && "$bin" scan . --format json --fail-on never --threads 1 > "$out/t1.json")
(cd "$main" && "$bin" scan . --format json --fail-on never --threads 8 > "$out/t8.json")
if cmp -s "$out/t1.json" "$out/t8.json"; then echo same > "$out/threads"; else echo DIFFERENT > "$out/threads"; fi

if [ "$scaling" = 1 ]; then
  for n in 10000 50000 100000; do
    t=$(tree_for "$n")
    [ "$t" = "$main" ] && continue
    run_fast_scaling() {
      warm "$t"
      for r in 1 2 3; do
        measure "$t" keyward /dev/null 600 "$bin" scan . --format json --fail-on never
        measure "$t" rg /dev/null 600 rg -c --hidden "$regex" .
      done
    }
    run_fast_scaling
  done
fi

if [ "$peers" = 1 ]; then
  pt=$(tree_for "$peer_files")
  pname=$(basename "$pt")
  warm "$pt"
  for r in $(seq "$peer_runs"); do
    measure "$pt" keyward /dev/null 600 "$bin" scan . --format json --fail-on never
    measure "$pt" rg "$out/$pname.rg" 600 rg -c --hidden "$regex" .
    measure "$pt" git-secrets "$out/$pname.git-secrets" 600 git secrets --scan --no-index
    measure "$pt" detect-secrets "$out/$pname.detect-secrets" "$peer_timeout" detect-secrets scan --all-files
  done
  (cd "$pt" && "$bin" scan . --format json --fail-on never > "$out/$pname.keyward")
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine"
python3 bench/report.py "$out" "$bench_dir" ${WRITE:+--write "$WRITE"}
echo "raw results: $out"
