#!/usr/bin/env bash
# The GitHub Action's scan step (action.yml runs it; tests/action.rs runs it
# locally with the variables a runner sets). Inputs come as INPUT_* variables
# because a composite action has no other way to hand them to a script
# without splicing `${{ }}` into shell source (script injection).
#
# Three scans of the same tree, one per format, because each format is one
# emitter and keyward writes one format per run: SARIF for code scanning,
# workflow commands (+ job summary) for the pull request, JSON for the count.
# All three run before the gate, so a failing gate still leaves annotations
# and a SARIF file to upload.
set -euo pipefail

keyward="${KEYWARD:-keyward}"
path="${INPUT_PATH:-.}"
# Empty: the configuration's `fail-on` (the base's, with policy-from).
fail_on="${INPUT_FAIL_ON:-}"
since="${INPUT_SINCE:-}"
policy_from="${INPUT_POLICY_FROM:-}"
inventory="${INPUT_INVENTORY:-}"
live="${INPUT_LIVE:-false}"
sarif="${INPUT_SARIF_FILE:-keyward.sarif}"
annotations="${INPUT_ANNOTATIONS:-true}"
summary="${INPUT_SUMMARY:-true}"

# Workflow commands and SARIF name files relative to the current directory,
# and GitHub maps them onto the repository only from its root.
if [[ -n "${GITHUB_WORKSPACE:-}" ]]; then
  cd "$GITHUB_WORKSPACE"
fi

die() {
  echo "::error title=keyward action::$1"
  exit 2
}

is_true() {
  case "$1" in
    true | True | TRUE | yes | 1) return 0 ;;
    false | False | FALSE | no | 0 | '') return 1 ;;
    *) die "expected true or false, got \`$1\`" ;;
  esac
}

command -v "$keyward" >/dev/null || die "\`$keyward\` is not on PATH"

# `args` is one string in the workflow; xargs splits it the way a shell would
# (quotes, backslashes) without evaluating anything in it.
extra=()
if [[ -n "${INPUT_ARGS:-}" && -n "${INPUT_ARGS//[[:space:]]/}" ]]; then
  # A read loop rather than mapfile: macOS runners have bash 3.2.
  while IFS= read -r -d '' a; do extra+=("$a"); done < <(printf '%s' "$INPUT_ARGS" | xargs printf '%s\0')
fi

# The PR base: a pull request is judged on what it adds (`since`), by the
# policy it would replace (`policy-from`). `none` turns either default off.
pr_base=""
case "${GITHUB_EVENT_NAME:-}" in
  pull_request | pull_request_target)
    event="${GITHUB_EVENT_PATH:-}"
    [[ -n "$event" && -r "$event" ]] || die "GITHUB_EVENT_PATH is not readable: \`$event\`"
    if command -v jq >/dev/null; then
      pr_base=$(jq -r '.pull_request.base.sha // empty' "$event")
    else
      pr_base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pull_request",{}).get("base",{}).get("sha",""))' "$event")
    fi
    [[ -n "$pr_base" ]] || die "no pull_request.base.sha in $event"
    ;;
esac

since_defaulted=false
if [[ "$since" == none ]]; then
  since=""
elif [[ -z "$since" && -n "$pr_base" ]]; then
  since="$pr_base"
  since_defaulted=true
fi
policy_defaulted=false
if [[ "$policy_from" == none ]]; then
  policy_from=""
elif [[ -z "$policy_from" && -n "$pr_base" ]]; then
  policy_from="$pr_base"
  policy_defaulted=true
fi

# Read whole before matching: `grep -q` closing the pipe early would fail
# the pipeline under pipefail.
help=""
if [[ -n "$since" || -n "$policy_from" ]]; then
  help=$("$keyward" scan --help)
fi

# An older released binary (input `version`) may lack a flag. A defaulted
# input then falls back to what is stricter or the same, with a warning; an
# input the user set is an error.
if [[ -n "$since" ]]; then
  if [[ "$help" != *--since* ]]; then
    if $since_defaulted; then
      echo "::warning title=keyward action::this keyward has no --since; scanning all of \`$path\` instead of the changes since $since"
      since=""
    else
      die "input since=\`$since\` needs a keyward with --since"
    fi
  elif ! git cat-file -e "${since}^{commit}" 2>/dev/null; then
    die "the base commit $since is not in this clone; check out with \`fetch-depth: 0\`"
  fi
fi
if [[ -n "$policy_from" ]]; then
  if [[ "$help" != *--policy-from* ]]; then
    if $policy_defaulted; then
      echo "::warning title=keyward action::this keyward has no --policy-from; the pull request's own keyward.toml, rules and baseline judge it"
      policy_from=""
    else
      die "input policy-from=\`$policy_from\` needs a keyward with --policy-from"
    fi
  elif ! git cat-file -e "${policy_from}^{commit}" 2>/dev/null; then
    die "the policy commit $policy_from is not in this clone; check out with \`fetch-depth: 0\`"
  fi
fi

common=(scan "$path")
[[ -n "$fail_on" ]] && common+=(--fail-on "$fail_on")
[[ -n "$since" ]] && common+=(--since "$since")
[[ -n "$policy_from" ]] && common+=(--policy-from "$policy_from")
[[ -n "$inventory" ]] && common+=(--inventory "$inventory")
is_true "$live" && common+=(--live)
# The `+` form: bash 3.2 calls an empty array unbound under `set -u`.
common+=(${extra[@]+"${extra[@]}"})

echo "keyward ${common[*]}"

# Exit 0 and 1 are verdicts; anything else means the scan did not happen.
run() {
  local rc=0
  "$@" || rc=$?
  if ((rc > 1)); then
    die "keyward failed (exit $rc): $*"
  fi
  return "$rc"
}

# Reports are written outside the tree and moved in at the end: a SARIF file
# in the workspace names every key ID, and the next scan would report it.
tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/keyward.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
json="$tmp/keyward.json"
# A report left by an earlier run in this workspace would be scanned too; it
# is about to be overwritten anyway.
rm -f "$sarif"

run "$keyward" "${common[@]}" --format sarif -o "$tmp/keyward.sarif" || true

if is_true "$annotations" || is_true "$summary"; then
  # Annotations go to the log, where the runner turns them into PR comments;
  # without them only the job summary is wanted from this run. The log is
  # the inherited stdout: reopening /dev/stdout would truncate it when it is
  # a file.
  annotate() {
    if is_true "$annotations"; then
      "$@"
    else
      "$@" >/dev/null
    fi
  }
  if is_true "$summary"; then
    annotate run "$keyward" "${common[@]}" --format github || true
  else
    annotate run env -u GITHUB_STEP_SUMMARY "$keyward" "${common[@]}" --format github || true
  fi
fi

gate=0
run "$keyward" "${common[@]}" --format json -o "$json" || gate=$?

# The findings count, and the gate keyward judged by: its threshold (the
# input, or the configuration's) and how many findings are at or above it.
if command -v jq >/dev/null; then
  findings=$(jq '.findings | length' "$json")
  gate_line=$(jq -r '"\(.gate.failing // 0) \(.gate.fail_on // "low")"' "$json")
else
  findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$json")
  gate_line=$(python3 -c 'import json,sys; g=json.load(open(sys.argv[1])).get("gate") or {}; print(g.get("failing",0), g.get("fail_on","low"))' "$json")
fi
failing="${gate_line%% *}"
threshold="${gate_line#* }"

mkdir -p "$(dirname "$sarif")"
mv "$tmp/keyward.sarif" "$sarif"

{
  echo "findings=$findings"
  echo "sarif-file=$sarif"
} >>"${GITHUB_OUTPUT:-/dev/stdout}"

if ((gate != 0)); then
  echo "keyward: $failing finding(s) at or above fail-on $threshold"
fi
exit "$gate"
