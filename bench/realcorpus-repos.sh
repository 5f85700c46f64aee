#!/usr/bin/env bash
# Per-repository times on the real corpus (../shared/realcorpus): keyward
# next to rg with the kit's own regex, alternating, RUNS each, medians.
#   bash bench/realcorpus-repos.sh [KEYWARD_BIN] [REPO_DIR…]
# Default repositories: the three largest of the kit.
set -euo pipefail
bin=$(realpath "${1:-target/release/keyward}")
shift || true
base=${PEERBENCH:-/tmp/peerbench}/planted
runs=${RUNS:-5}
repos=("$@")
[ ${#repos[@]} -gt 0 ] || repos=(aws-samples__serverless-patterns bitnami__charts aws-samples__aws-cdk-examples)
re='(?-u:\b)(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?-u:\b)'
# pip's rg behind a pyenv shim is a shell script that starts pyenv first:
# about 55 ms a run, which flattered every ratio measured through it.
if command -v pyenv >/dev/null && real=$(pyenv which rg 2>/dev/null); then
  rg() { "$real" "$@"; }
fi
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
printf '| repository | files | MB | keyward s | rg s | keyward/rg |\n|---|---|---|---|---|---|\n'
for r in "${repos[@]}"; do
  d="$base/$r"
  rg -uu -c AKIA "$d" >/dev/null 2>&1 || true
  kt=(); rt=()
  for _ in $(seq "$runs"); do
    t0=$(now); rg -uu -n --no-heading -o -e "$re" "$d" >/dev/null 2>&1 || true; t1=$(now)
    rt+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); "$bin" scan "$d" --format json >/dev/null 2>&1 || true; t1=$(now)
    kt+=("$(echo "$t1 - $t0" | bc)")
  done
  k=$(printf '%s\n' "${kt[@]}" | median); g=$(printf '%s\n' "${rt[@]}" | median)
  files=$(find "$d" -type f | wc -l); mb=$(du -sm "$d" | cut -f1)
  printf '| %s | %s | %s | %.3f | %.3f | %.2f |\n' "$r" "$files" "$mb" "$k" "$g" "$(echo "$k / $g" | bc -l)"
done
