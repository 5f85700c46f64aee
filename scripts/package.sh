#!/usr/bin/env bash
# Packs a built keyward the way the action's `version` input downloads it:
# keyward-<version>-<target>.tar.gz with the binary at the archive's root,
# and keyward-<version>-<target>.tar.gz.sha256 for `shasum -a 256 -c`.
# usage: scripts/package.sh BINARY VERSION TARGET OUTDIR
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 BINARY VERSION TARGET OUTDIR" >&2; exit 2; }
bin=$1 version=${2#v} target=$3 out=$4
root=$(cd "$(dirname "$0")/.." && pwd)
name="keyward-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/keyward"
# Debug info is for our own profiling, not for users' downloads.
if command -v strip >/dev/null; then strip "$stage/keyward"; fi
cp "$root/README.md" "$stage/"
mkdir -p "$out"
# GNU tar (Linux) makes the archive byte-stable: sorted names, fixed owner
# and time. macOS's bsdtar has none of these flags.
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  stable=(--sort=name --owner=0 --group=0 --numeric-owner --mtime='1970-01-01 00:00:00Z')
else
  stable=()
fi
tar -C "$stage" ${stable[@]+"${stable[@]}"} -cf - keyward README.md | gzip -n > "$out/$name.tar.gz"
if command -v shasum >/dev/null; then sum=(shasum -a 256); else sum=(sha256sum); fi
(cd "$out" && "${sum[@]}" "$name.tar.gz" > "$name.tar.gz.sha256")
echo "$out/$name.tar.gz"
