#!/usr/bin/env bash
# Builds keyward's container image (container/Containerfile) around a
# static keyward binary.
#   bash scripts/image.sh BINARY TAG [VERSION]
# The binary must be static (x86_64/aarch64-unknown-linux-musl): the image
# has no C library. Uses docker when it can reach an engine, else buildah
# (BUILDAH_ARGS: extra global options, e.g. --root for a private store).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: image.sh BINARY TAG [VERSION]}
tag=${2:?usage: image.sh BINARY TAG [VERSION]}
version=${3:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)}
if LC_ALL=C readelf -l "$bin" 2>/dev/null | grep -q 'program interpreter'; then
  echo "image.sh: $bin is dynamically linked; build it for a *-linux-musl target" >&2
  exit 1
fi
certs=""
for c in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  [ -s "$c" ] && { certs=$c; break; }
done
[ -n "$certs" ] || { echo "image.sh: no CA bundle on this machine (install ca-certificates)" >&2; exit 1; }
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
# One tree copied as it is: COPY keeps the modes of what is inside a
# folder, not of the folder it names.
mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/tmp"
chmod 1777 "$ctx/rootfs/tmp"
cp "$bin" "$ctx/rootfs/keyward"
chmod 0755 "$ctx/rootfs/keyward"
cp "$certs" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  docker build -f "$root/container/Containerfile" --build-arg "VERSION=$version" -t "$tag" "$ctx"
elif command -v buildah >/dev/null; then
  # shellcheck disable=SC2086
  buildah ${BUILDAH_ARGS:-} bud --isolation chroot -q -f "$root/container/Containerfile" \
    --build-arg "VERSION=$version" -t "$tag" "$ctx"
else
  echo "image.sh: neither a docker engine nor buildah here" >&2
  exit 1
fi
