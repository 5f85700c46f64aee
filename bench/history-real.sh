#!/usr/bin/env bash
# Times `keyward scan --history` on a real repository next to git's own dump
# of every object (`git cat-file --batch-all-objects --batch --unordered`,
# the issue's yardstick), alternating, and prints the peak RSS of
# keyward's whole process tree (its git children included).
# usage: bench/history-real.sh REPO [RUNS]   (REPO: a clone; --no-checkout is fine)
set -euo pipefail
repo=${1:?usage: bench/history-real.sh REPO [RUNS]}
runs=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${KEYWARD:-}
if [ -z "$bin" ]; then
  (cd "$here" && cargo build --release --locked -q)
  bin=${CARGO_TARGET_DIR:-$here/target}/release/keyward
fi
bin=$(realpath "$bin")
echo "repo: $repo ($(git -C "$repo" rev-list --count HEAD) commits, $(git -C "$repo" count-objects -v | awk '/size-pack/ {print $2}') KB of packs); $(nproc) cores; runs: $runs"
declare -a kt gt
rss=0
for r in $(seq "$runs"); do
  /usr/bin/time -o /tmp/kwhr.time -f "%e %M" sh -c "cd '$repo' && '$bin' scan --history --format json --fail-on never > /tmp/kwhr.json"
  read -r t m < /tmp/kwhr.time
  kt+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  /usr/bin/time -o /tmp/kwhr.time -f "%e" git -C "$repo" cat-file --batch-all-objects --batch --unordered > /dev/null
  gt+=("$(cat /tmp/kwhr.time)")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %.2fs  min %.2fs  max %.2fs", a[int((NR+1)/2)], a[1], a[NR]}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "keyward --history: $(stats "${kt[@]}")  peak RSS $((rss / 1024)) MB"
echo "git's dump:        $(stats "${gt[@]}")"
echo "ratio (medians):   $(echo "$(median "${kt[@]}") / $(median "${gt[@]}")" | bc -l | cut -c1-4)"
python3 -c "import json; d=json.load(open('/tmp/kwhr.json')); s=d['summary']; print(f\"{len(d['findings'])} findings, {s['files_scanned']} blobs scanned, {len(d['errors'])} warnings\")"
