#!/usr/bin/env bash
# The test command (`deno task test`, what CI runs): format, lint and type checks, then the
# test suite. Ends with one line "N passed, N failed": the three static checks count as one
# test each, beside every `Deno.test` (and step) of the suite.
set -uo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1

passed=0
failed=0
check() {
  local name=$1
  shift
  echo "== $name: $*" >&2
  if "$@" >&2; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name" >&2; fi
}

check fmt deno fmt --check
check lint deno lint
mapfile -t sources < <(git ls-files --cached --others --exclude-standard '*.ts' | grep -v '^node_modules/')
check types deno check --frozen "${sources[@]}"

log=$(mktemp)
deno test -A --frozen --no-prompt "$@" 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
summary=$(grep -E '^(ok|FAILED) \| ' "$log" | tail -n 1)
rm -f "$log"
if [[ -z "$summary" ]]; then
  echo "deno test printed no summary (exit $test_status)" >&2
  failed=$((failed + 1))
else
  suite_passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | head -n 1 | grep -oE '[0-9]+')
  suite_failed=$(grep -oE '[0-9]+ failed' <<<"$summary" | head -n 1 | grep -oE '[0-9]+')
  passed=$((passed + ${suite_passed:-0}))
  failed=$((failed + ${suite_failed:-0}))
  if [[ $test_status -ne 0 && ${suite_failed:-0} -eq 0 ]]; then failed=$((failed + 1)); fi
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
