#!/usr/bin/env bash
# The action's install step: puts a released keyward on PATH, or says that
# the action must build its own source (`installed=false` in GITHUB_OUTPUT,
# and the build steps run).
#
# `version` input (KEYWARD_VERSION):
#   empty    the release of the action's own version (its Cargo.toml), when
#            the action runs at that release: a tag vX.Y.Z, a moving tag
#            (v1, v1.2), or a commit SHA that is the release's tag. At any
#            other ref (a branch, another commit, `./`) the binary could
#            disagree with the action's scripts, so the source is built; a
#            release that has no archive for this runner is built too.
#   X.Y.Z    that release, or the step fails.
#   source   build the action's source.
# A checksum that does not match always fails the step: it is never a
# reason to build instead.
#
# Also reads KEYWARD_REPO, ACTION_REF (github.action_ref), GH_TOKEN,
# GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH,
# GITHUB_OUTPUT.
set -euo pipefail

build() {
  echo "keyward: $1; building the action's source"
  echo "installed=false" >> "$GITHUB_OUTPUT"
  exit 0
}

crate=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$GITHUB_ACTION_PATH/Cargo.toml" | head -n1)
requested=${KEYWARD_VERSION#v}
if [ "$requested" = source ]; then
  build "version: source"
fi
explicit=true
if [ -z "$requested" ]; then
  explicit=false
  requested=$crate
  ref=${ACTION_REF:-}
  if [ "$ref" = "v$crate" ] || [[ $ref =~ ^v[0-9]+(\.[0-9]+)?$ ]]; then
    : # the action's code is a release's
  elif [[ $ref =~ ^[0-9a-f]{40}$ ]]; then
    tagged=$(gh api "repos/$KEYWARD_REPO/commits/v$crate" --jq .sha 2>/dev/null || true)
    [ "$tagged" = "$ref" ] || build "the action runs at $ref, which is not release v$crate"
  else
    build "the action runs at ${ref:-a local path}, not at a release"
  fi
fi

unavailable() {
  if [ "$explicit" = true ]; then
    echo "::error::$1; leave \`version\` empty (or set it to \`source\`) to build keyward"
    exit 2
  fi
  echo "::notice::$1"
  build "$1"
}

case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
  Linux-X64) target=x86_64-unknown-linux-gnu ;;
  Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS-ARM64) target=aarch64-apple-darwin ;;
  macOS-X64) target=x86_64-apple-darwin ;;
  *) unavailable "no released keyward for ${RUNNER_OS:-?} ${RUNNER_ARCH:-?}" ;;
esac
archive="keyward-$requested-$target.tar.gz"
dir="$RUNNER_TEMP/keyward-$requested"
mkdir -p "$dir"
if ! gh release download "v$requested" --repo "$KEYWARD_REPO" --dir "$dir" \
  --pattern "$archive*"; then
  unavailable "release v$requested of $KEYWARD_REPO has no $archive"
fi
cd "$dir"
# The checksum file is published next to the archive.
shasum -a 256 -c "$archive.sha256"
tar -xzf "$archive"
echo "$dir" >> "$GITHUB_PATH"
echo "installed=true" >> "$GITHUB_OUTPUT"
echo "keyward: installed release v$requested ($target)"
