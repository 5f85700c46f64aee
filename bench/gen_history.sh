#!/usr/bin/env bash
# Builds a git repo of N small commits (default 5,000) with planted synthetic
# keys through `git fast-import`, in a few seconds. The planted key IDs are in
# DIR/.git/planted.  usage: bench/gen_history.sh DIR [COMMITS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: gen_history.sh DIR [COMMITS]}
commits=${2:-5000}
rm -rf "$dir"
git init -q -b main "$dir"
python3 "$here/gen_history.py" "$dir/.git/planted" --commits "$commits" | git -C "$dir" fast-import --quiet
git -C "$dir" reset -q --hard main
echo "$dir: $(git -C "$dir" rev-list --count HEAD) commits, $(git -C "$dir" ls-files | wc -l) files, $(wc -l < "$dir/.git/planted") planted keys"
