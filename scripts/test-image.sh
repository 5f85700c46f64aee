#!/usr/bin/env bash
# The container image (container/Containerfile) as a CI system runs it:
# built by scripts/image.sh around a static binary with buildah, then its
# configuration read and the binary run inside the image's own file
# system (buildah run, chroot isolation: no container engine is needed).
#   bash scripts/test-image.sh STATIC_BINARY
# Run by scripts/test.sh with the musl binary the wheel test built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:?usage: test-image.sh STATIC_BINARY}")
fail() { echo "test-image: FAIL: $*" >&2; exit 1; }
say() { echo "test-image: $*"; }
command -v buildah >/dev/null || fail "buildah is not installed (apt-get install buildah)"
work=$(mktemp -d)
store=(--root "$work/storage" --runroot "$work/run" --storage-driver vfs)
ctr=""
cleanup() {
  [ -z "$ctr" ] || buildah "${store[@]}" rm "$ctr" >/dev/null 2>&1 || true
  buildah "${store[@]}" rmi -af >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)

# 1. A dynamic binary is refused: the image has no C library.
if bash "$root/scripts/image.sh" /bin/ls keyward:dynamic >"$work/out" 2>&1; then
  fail "image.sh took a dynamically linked binary"
fi
grep -q "dynamically linked" "$work/out" || { cat "$work/out" >&2; fail "no reason given for refusing /bin/ls"; }

# 2. The image.
BUILDAH_ARGS="${store[*]}" bash "$root/scripts/image.sh" "$bin" keyward:test >/dev/null
buildah "${store[@]}" inspect --type image keyward:test > "$work/inspect.json"
python3 - "$work/inspect.json" "$version" <<'PY' || fail "image configuration: $(cat "$work/inspect.json")"
import json, sys
c, version = json.load(open(sys.argv[1]))["OCIv1"]["config"], sys.argv[2]
assert c["Entrypoint"] == ["/keyward"], c
assert c["Cmd"] == ["scan", "."], c
assert c["WorkingDir"] == "/src", c
assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in c["Env"], c
assert c["Labels"]["org.opencontainers.image.version"] == version, c
PY
ctr=$(buildah "${store[@]}" from keyward:test)
mnt=$(buildah "${store[@]}" mount "$ctr")
files=$(cd "$mnt" && find . -type f | sort | tr '\n' ' ')
[ "$files" = "./etc/ssl/certs/ca-certificates.crt ./keyward " ] || fail "the image holds more than keyward and the CA bundle: $files"
[ "$(stat -c %a "$mnt/tmp")" = 1777 ] || fail "/tmp is not writable by every user"
size=$(du -sm "$mnt" | cut -f1)
say "built keyward:test ($size MB: $files)"

run() { buildah "${store[@]}" run --isolation chroot "$ctr" -- "$@"; }
got=$(run /keyward --version)
[ "$got" = "keyward $version" ] || fail "keyward --version in the image said '$got'"

# 3. A scan of a mounted tree, as `docker run -v "$PWD:/src" IMAGE` does:
# the demo, with the same findings as the binary outside the image.
cp -R "$root/fixtures/demo" "$mnt/src"
set +e
run /keyward scan . --format json >"$work/inside.json" 2>"$work/inside.err"
code=$?
(cd "$mnt/src" && "$bin" scan . --format json) >"$work/outside.json" 2>/dev/null
set -e
[ $code -eq 1 ] || { cat "$work/inside.err" >&2; fail "scan of the demo in the image: exit $code, expected 1"; }
python3 - "$work/inside.json" "$work/outside.json" <<'PY' || fail "the image's findings differ from the binary's"
import json, sys
inside, outside = (json.load(open(p)) for p in sys.argv[1:])
key = lambda d: sorted((f["rule"], f["path"], f["line"]) for f in d["findings"])
assert inside["findings"], "no findings in the demo"
assert key(inside) == key(outside), (key(inside), key(outside))
PY
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$work/inside.json")
say "scan of the demo in the image: exit 1, $n findings, as outside it"

# 4. A work tree in an image without git: the scan goes on; a git mode
# says what is missing instead of failing obscurely.
git -C "$mnt/src" init -q -b main
git -C "$mnt/src" -c user.email=ci@example.com -c user.name=CI add -A
git -C "$mnt/src" -c user.email=ci@example.com -c user.name=CI -c commit.gpgsign=false commit -q -m demo
set +e
run /keyward scan . --format json >"$work/git.json" 2>"$work/git.err"
code=$?
run /keyward scan --staged >"$work/staged.out" 2>&1
staged=$?
set -e
[ $code -eq 1 ] || { cat "$work/git.err" >&2; fail "scan of a work tree without git: exit $code, expected 1"; }
python3 - "$work/git.json" "$work/inside.json" <<'PY' || fail "a work tree changed the findings"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda d: sorted((f["rule"], f["path"], f["line"]) for f in d["findings"])
assert key(a) == key(b)
PY
[ $staged -eq 2 ] || { cat "$work/staged.out" >&2; fail "--staged without git: exit $staged, expected 2"; }
flat=$(tr -s ' \n' '  ' < "$work/staged.out")
case $flat in *"cannot run git"*"install it, or put it on PATH"*) ;; *) false ;; esac ||
  { cat "$work/staged.out" >&2; fail "--staged without git does not say git is missing and what to do"; }
sed 's/^/  | /' "$work/staged.out"
say "a work tree without git: scan unchanged; --staged exits 2 naming git"
say "ok"
