#!/usr/bin/env bash
# Times `keyward scan --history` next to `git log -p | rg` with the key-ID
# regex on the same generated repo (bench/gen_history.sh), interleaved, and
# prints recall on the planted keys. usage: bench/history.sh [COMMITS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-5000}
runs=${2:-3}
repo=${BENCH_REPO:-/tmp/keyward-history-$commits}
command -v rg >/dev/null || { apt-get update -qq && apt-get install -y -qq ripgrep; }
cargo build --release --locked -q
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/keyward
[ -f "$repo/.git/planted" ] || bash bench/gen_history.sh "$repo" "$commits"
regex='\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b'
echo "repo: $repo ($(git -C "$repo" rev-list --count HEAD) commits, $(git -C "$repo" count-objects -v | awk '/in-pack/ {print $2}') objects); $(nproc) cores; runs: $runs"
declare -a kt gt pt ct
now() { date +%s.%N; }
for r in $(seq "$runs"); do
  s=$(now); (cd "$repo" && "$bin" scan --history --format json --fail-on never > /tmp/kwh.json); e=$(now)
  kt+=("$(echo "$e - $s" | bc)")
  s=$(now); git -C "$repo" log -p --no-color HEAD | rg -c "$regex" > /tmp/rgh.out || true; e=$(now)
  gt+=("$(echo "$e - $s" | bc)")
  # The git plumbing keyward runs, alone: the floor for any git backend.
  s=$(now); git -C "$repo" log --raw -z --no-abbrev --no-renames --root -c --reverse --topo-order --full-history HEAD > /tmp/kwh.log; e=$(now)
  pt+=("$(echo "$e - $s" | bc)")
  s=$(now); git -C "$repo" rev-list --objects --all | awk 'NF==2 {print $1}' | git -C "$repo" cat-file --batch > /dev/null; e=$(now)
  ct+=("$(echo "$e - $s" | bc)")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %.3fs  min %.3fs  max %.3fs", a[int((NR+1)/2)], a[1], a[NR]}'; }
echo "keyward --history:          $(stats "${kt[@]}")"
echo "git log -p | rg:            $(stats "${gt[@]}")"
echo "  git log --raw (walk):     $(stats "${pt[@]}")"
echo "  cat-file --batch (blobs): $(stats "${ct[@]}")"
python3 - "$repo/.git/planted" <<'PY'
import json, sys
d = json.load(open("/tmp/kwh.json"))
ids = {f["key_id"] for f in d["findings"] if f["key_id"]}
planted = [l.strip() for l in open(sys.argv[1]) if l.strip()]
s = d["summary"]
print(f"keyward recall: {sum(k in ids for k in planted)}/{len(planted)} planted keys; "
      f"{len(d['findings'])} findings; {s['files_scanned']} distinct blobs scanned")
PY
echo "rg matching lines in git log -p: $(cat /tmp/rgh.out)"
