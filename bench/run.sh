#!/usr/bin/env bash
# Times `keyward scan` next to `rg` with the bare key-ID regex (the floor) on
# the same generated tree, interleaved, and prints recall on planted keys.
# usage: bench/run.sh [FILES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-10000}
runs=${2:-5}
tree=${BENCH_TREE:-/tmp/keyward-bench-$files}
command -v rg >/dev/null || { apt-get update -qq && apt-get install -y -qq ripgrep; }
cargo build --release --locked -q
bin=$PWD/target/release/keyward
[ -f "$tree/.planted" ] || python3 bench/gen_tree.py "$tree" --files "$files" --planted 200
# .planted lists the answers; keep both tools from reading it.
printf '.planted\n' > "$tree/.ignore"
regex='\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b'
echo "tree: $tree ($(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1)); $(nproc) cores; runs: $runs"
declare -a kt rt
for r in $(seq "$runs"); do
  s=$(date +%s.%N); "$bin" scan "$tree" --format json --fail-on never > /tmp/kw.json; e=$(date +%s.%N)
  kt+=("$(echo "$e - $s" | bc)")
  s=$(date +%s.%N); rg -c --hidden "$regex" "$tree" > /tmp/rg.out || true; e=$(date +%s.%N)
  rt+=("$(echo "$e - $s" | bc)")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %.3fs  min %.3fs  max %.3fs", a[int((NR+1)/2)], a[1], a[NR]}'; }
echo "keyward: $(stats "${kt[@]}")"
echo "rg:      $(stats "${rt[@]}")"
km=$(printf '%s\n' "${kt[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
rm_=$(printf '%s\n' "${rt[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "keyward/rg: $(echo "scale=2; $km / $rm_" | bc)"
rss=$( { /usr/bin/time -f '%M' "$bin" scan "$tree" --format json --fail-on never > /dev/null; } 2>&1 | tail -1)
echo "keyward peak RSS: ${rss} KiB"
found=$(python3 -c "
import json; d=json.load(open('/tmp/kw.json'))
ids={f['key_id'] for f in d['findings'] if f['key_id']}
planted=[l.strip() for l in open('$tree/.planted') if l.strip()]
print(sum(1 for k in planted if k in ids), len(planted), len(d['findings']))")
echo "keyward recall: $(echo "$found" | awk '{print $1 "/" $2}') planted keys; findings: $(echo "$found" | awk '{print $3}')"
echo "rg files with a match: $(wc -l < /tmp/rg.out)"
