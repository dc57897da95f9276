#!/usr/bin/env bash
# Helpers for tests/integration/test_api_*.sh, sourced after lib.sh and disk-lib.sh.
# API_SOCK is the socket; API_CODE and API_BODY hold the last answer.
API_SOCK=$TEST_TMP/api.sock

# api METHOD PATH [JSON]: one request; sets API_CODE and API_BODY.
api() {
	local out
	out=$(curl -sS --max-time 60 --unix-socket "$API_SOCK" -X "$1" "http://localhost$2" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} -w '\n%{http_code}') ||
		fail "curl $1 $2 failed"
	API_CODE=${out##*$'\n'}
	API_BODY=${out%$'\n'*}
}

# api_ok METHOD PATH [JSON]: the request must succeed (2xx).
api_ok() {
	api "$@"
	case "$API_CODE" in
	2??) ;;
	*) fail "$1 $2: HTTP $API_CODE: $API_BODY" ;;
	esac
}

# api_bad METHOD PATH [JSON] [ERE]: 400 with a fault_message (matching ERE).
api_bad() {
	api "$1" "$2" "${3:-}"
	[ "$API_CODE" = 400 ] || fail "$1 $2 ${3:-}: want 400, got $API_CODE: $API_BODY"
	# The server's JSON is compact. (No python here: its start-up costs tens
	# of seconds in a contended L1, and this runs for every bad request.)
	case "$API_BODY" in
	'{"fault_message":"'?*'"}') ;;
	*) fail "$1 $2: no fault_message in $API_BODY" ;;
	esac
	if [ -n "${4:-}" ] && ! grep -Eq -- "$4" <<<"$API_BODY"; then
		fail "$1 $2: fault '$API_BODY' does not match /$4/"
	fi
}

# api_state: the state GET / reports.
api_state() {
	api_ok GET /
	sed -n 's/.*"state":"\([^"]*\)".*/\1/p' <<<"$API_BODY"
}

# start_api_cvmm ARGS...: start "$CVMM" --api-sock "$API_SOCK" ARGS in the
# background and wait for the socket; sets GUEST_PID.
start_api_cvmm() {
	local deadline=$((SECONDS + 30))
	require_exe "$CVMM"
	"$CVMM" --api-sock "$API_SOCK" "$@" </dev/null >"$GUEST_STDOUT" 2>"$GUEST_ERR" &
	GUEST_PID=$!
	until [ -S "$API_SOCK" ]; do
		kill -0 "$GUEST_PID" 2>/dev/null || { wait_guest || true; show_output; fail "cvmm exited before its socket appeared"; }
		[ "$SECONDS" -lt "$deadline" ] || fail "no API socket after 30 s"
		sleep 0.05
	done
}

# wait_stdout ERE: wait (up to the guest timeout) for a console line matching ERE.
wait_stdout() {
	local deadline=$((SECONDS + GUEST_TIMEOUT))
	until grep -Eq -- "$1" "$GUEST_STDOUT"; do
		if ! kill -0 "$GUEST_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			kill -9 "$GUEST_PID" 2>/dev/null || true
			wait_guest || true
			show_output
			fail "no console output matching '$1'"
		fi
		sleep 0.1
	done
}

# wait_exit: wait (up to the guest timeout) for cvmm to exit; returns its status.
wait_exit() {
	local deadline=$((SECONDS + GUEST_TIMEOUT))
	while kill -0 "$GUEST_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	kill -9 "$GUEST_PID" 2>/dev/null || true
	wait_guest
}
