#!/usr/bin/env bash
# Run the integration tests (every test_*.sh here, or the names given) where
# /dev/kvm works: re-runs itself through tests/rig/rig.sh unless already inside.
#   tests/integration/run.sh [test_boot_pvh ...]
# Environment: CVMM (monitor under test), CVMM_TEST_TIMEOUT (seconds per test;
# default 300, 900 inside an L1), CVMM_TEST_RESULTS (a file where each result
# is recorded as it happens; tests already recorded there are not run again,
# so a run cut short by an L1 crash can resume in a fresh L1), plus those of
# tests/rig/rig.sh and lib.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${CVMM_RIG_MODE:-}" ]; then
	exec "$here/../rig/rig.sh" -- "$here/run.sh" "$@"
fi

if [ "$CVMM_RIG_MODE" = l1 ]; then
	limit=${CVMM_TEST_TIMEOUT:-900}
else
	limit=${CVMM_TEST_TIMEOUT:-300}
fi
# Fetch/build the assets once, up front, so a test's time limit is not spent on it.
"$here/../rig/assets.sh" >/dev/null

tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		t=${t%.sh}
		tests+=("$here/${t##*/}.sh")
	done
else
	for t in "$here"/test_*.sh; do
		tests+=("$t")
	done
fi

results=${CVMM_TEST_RESULTS:-}
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ -n "$results" ] && grep -q "^[A-Z]* $name\$" "$results" 2>/dev/null; then
		case "$(grep "^[A-Z]* $name\$" "$results" | tail -1)" in
		PASS*) passed=$((passed + 1)); echo "PASS $name (earlier run)" ;;
		*) failed=$((failed + 1)); echo "FAIL $name (earlier run)" ;;
		esac
		continue
	fi
	start=$(date +%s)
	rc=0
	timeout -k 10 "$limit" bash "$t" >"$out" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" = 0 ]; then
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		[ -z "$results" ] || echo "PASS $name" >>"$results"
	else
		reason="exit $rc"
		[ "$rc" != 124 ] || reason="timed out after ${limit}s"
		echo "FAIL $name ($reason, ${secs}s)"
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
		[ -z "$results" ] || echo "FAIL $name" >>"$results"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
