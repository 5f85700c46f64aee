#!/usr/bin/env bash
# The `keyward` pre-commit hook as a developer gets it, offline: maturin
# builds the wheel (python/keyward), a fresh venv installs it from that
# folder alone, and the real pre-commit installs the hook (`language:
# python`, pyproject.toml at the root) with pip pointed at the same folder
# and no index, then runs it on a commit with a key and on a clean one.
# Run by scripts/test.sh after the Rust tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test-wheel: FAIL: $*" >&2; exit 1; }
say() { echo "test-wheel: $*"; }

version=$(cd "$root/python/hook" && python3 -c 'import keyward_hook_backend as b; print(b.crate_version())')
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)

# 1. The static Linux wheel, as the release workflow builds it (there with
# --release): a musl binary tagged for glibc (manylinux_2_17) and musl
# (Alpine) systems alike, so this glibc machine installs it too. The
# release's manylinux_2_28 wheels are the same package around a glibc
# binary. scripts/test-image.sh reuses the binary.
target=$(uname -m)-unknown-linux-musl
(cd "$root/python/keyward" && maturin build --locked --profile dev --target "$target" \
  --compatibility manylinux_2_17 musllinux_1_2 --out "$work/dist" 2>"$work/maturin.log") ||
  { cat "$work/maturin.log" >&2; fail "maturin build"; }
shopt -s nullglob
wheels=("$work/dist"/keyward-"$version"-*.whl)
[ ${#wheels[@]} -eq 1 ] || fail "expected one keyward-$version wheel, found: $(ls "$work/dist")"
wheel=${wheels[0]}
python3 -m zipfile -l "$wheel" > "$work/listing"
grep -q "keyward-$version.data/scripts/keyward " "$work/listing" ||
  { cat "$work/listing" >&2; fail "the wheel carries no keyward script"; }
case $(basename "$wheel") in
  *manylinux_2_17_*musllinux_1_2_*) ;;
  *) fail "the wheel is not tagged for both glibc and musl systems: $(basename "$wheel")" ;;
esac
say "built $(basename "$wheel")"

# 2. Installed from that folder alone, it is a working keyward.
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index \
  --find-links "$work/dist" "keyward==$version"
got=$("$work/venv/bin/keyward" --version)
[ "$got" = "keyward $cargo_version" ] || fail "keyward --version from the wheel said '$got'"
say "pip install keyward==$version: $got"

# 3. The hook through the real pre-commit, offline: pip may read only dist/.
# The hook's repository holds what pre-commit reads of this one (the
# manifest, the package and its backend, the version), as they are in the
# working tree, committed.
hooks="$work/hooks"
mkdir -p "$hooks/python"
cp "$root/.pre-commit-hooks.yaml" "$root/pyproject.toml" "$root/Cargo.toml" "$hooks/"
cp -R "$root/python/hook" "$hooks/python/"
rm -rf "$hooks/python/hook/__pycache__"
g() { git -C "$1" -c user.email=dev@example.com -c user.name=Dev -c commit.gpgsign=false "${@:2}"; }
git init -q -b main "$hooks"
g "$hooks" add -A
g "$hooks" commit -q -m hooks
read -r key secret < <(python3 "$root/scripts/genkey.py" --seed 505 --secret --account 210987654321)
repo="$work/repo"
git init -q -b main "$repo"
cat > "$repo/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $hooks
    rev: $(git -C "$hooks" rev-parse HEAD)
    hooks:
      - id: keyward
EOF
echo demo > "$repo/README.md"
g "$repo" add README.md .pre-commit-config.yaml
g "$repo" commit -q -m init
hook() {
  (cd "$repo" && env -u AWS_ACCESS_KEY_ID PRE_COMMIT_HOME="$work/home" PIP_NO_INDEX=1 \
    PIP_FIND_LINKS="$work/dist" PIP_DISABLE_PIP_VERSION_CHECK=1 VIRTUALENV_NO_PERIODIC_UPDATE=1 \
    NO_COLOR=1 PRE_COMMIT_COLOR=never \
    pre-commit run keyward)
}
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$key" "$secret" > "$repo/prod.env"
g "$repo" add prod.env
set +e
start=$(date +%s.%N)
hook > "$work/out" 2>&1
code=$?
took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
set -e
sed 's/^/  | /' "$work/out"
out=$(cat "$work/out")
[ $code -eq 1 ] || { echo "$out" >&2; fail "a staged key: exit $code, expected 1"; }
case $out in *Failed*) ;; *) echo "$out" >&2; fail "no Failed line" ;; esac
case $out in *KW001*"$key"*) ;; *) echo "$out" >&2; fail "no KW001 naming the key" ;; esac
case $out in *"$secret"*) fail "the secret was printed in full" ;; esac
case $out in *KW002*) ;; *) echo "$out" >&2; fail "no KW002 for the secret" ;; esac
# The keyward that ran is the wheel's, in pre-commit's environment for
# the hook: nothing was compiled and no other keyward was used.
envs=("$work/home"/repo*/py_env-*/bin/keyward)
[ ${#envs[@]} -eq 1 ] || fail "no keyward in pre-commit's hook environment"
python3 - "$wheel" "${envs[0]}" "$version" <<'EOF' || fail "the hook's keyward is not the wheel's binary"
import sys, zipfile
wheel, installed, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    packed = z.read(f"keyward-{version}.data/scripts/keyward")
sys.exit(0 if open(installed, "rb").read() == packed else 1)
EOF
say "a staged key: the hook failed with KW001/KW002, secret masked (install and run: ${took} s)"

g "$repo" rm -q --cached prod.env
rm "$repo/prod.env"
printf 'region: eu-west-1\n' > "$repo/app.yaml"
g "$repo" add app.yaml
hook > "$work/out" 2>&1 || { cat "$work/out" >&2; fail "a clean commit failed the hook"; }
grep -q Passed "$work/out" || { cat "$work/out" >&2; fail "no Passed line"; }
grep -q "0 findings in 1 file scanned" "$work/out" || { cat "$work/out" >&2; fail "no scan summary"; }
sed 's/^/  | /' "$work/out"
say "a clean commit: Passed"
say "ok"
