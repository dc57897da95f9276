#!/usr/bin/env bash
# `cvmm --config-file FILE --no-api` boots the guest from Firecracker's JSON
# configuration; bad flags and configurations give one line naming the key and
# exit 2; Firecracker's seccomp flags are accepted with a warning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/api-lib.sh"
make_initrd_with_test 'echo "cvmm-test: cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "cvmm-test: disk=$(cat /sys/block/vda/size)"' "$TEST_TMP/initrd"
truncate -s 4M "$TEST_TMP/disk.img"
cat >"$TEST_TMP/vm.json" <<JSON
{
  "boot-source": {"kernel_image_path": "$RIG_BZIMAGE", "initrd_path": "$TEST_TMP/initrd",
                  "boot_args": "console=ttyS0 reboot=k panic=1"},
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 192},
  "drives": [{"drive_id": "scratch", "path_on_host": "$TEST_TMP/disk.img",
              "is_root_device": false, "is_read_only": true}],
  "network-interfaces": []
}
JSON

rc=0
run_guest --config-file "$TEST_TMP/vm.json" --no-api --no-seccomp || rc=$?
expect_status 0 "$rc"
expect_output '^cvmm-guest: init reached'
[ "$(guest_value cpus)" = 2 ] || fail "guest saw $(guest_value cpus) vCPUs, want 2"
[ "$(guest_value disk)" = 8192 ] || fail "guest disk has $(guest_value disk) sectors, want 8192"
grep -q 'warning: --no-seccomp ignored' "$GUEST_ERR" || fail "no warning for --no-seccomp"

# Bad input: status 2, one stderr line naming the problem, nothing started.
check() { # NAME ERE ARGS...
	local name=$1 want=$2 rc=0
	shift 2
	run_guest "$@" || rc=$?
	if [ "$rc" != 2 ] || [ "$(wc -l <"$GUEST_ERR")" != 1 ] || ! grep -Eq -- "$want" "$GUEST_ERR"; then
		cat "$GUEST_ERR" >&2
		fail "$name: want status 2 and one line matching /$want/, got $rc"
	fi
}
sed 's/"vcpu_count": 2/"vcpu_count": "2"/' "$TEST_TMP/vm.json" >"$TEST_TMP/bad1.json"
check "wrong type" 'machine-config.vcpu_count: expected' --config-file "$TEST_TMP/bad1.json" --no-api
sed "s|$TEST_TMP/disk.img|$TEST_TMP/nope.img|" "$TEST_TMP/vm.json" >"$TEST_TMP/bad2.json"
check "missing drive" 'drives\[0\]\.path_on_host: cannot open' --config-file "$TEST_TMP/bad2.json" --no-api
printf '{"boot-source": {"kernel_image_path": "%s"}, "bogus": 1}' "$RIG_BZIMAGE" >"$TEST_TMP/bad3.json"
check "unknown key" 'bogus: unknown field' --config-file "$TEST_TMP/bad3.json" --no-api
check "no config" 'no-api: needs --config-file' --no-api
check "unimplemented flag" 'metadata: .*not supported' --metadata "$TEST_TMP/vm.json"
check "unknown flag" 'unknown option' --bogus
check "socket path is a file" 'api-sock: .* not a socket' --api-sock "$TEST_TMP/vm.json"
run_guest --version || fail "--version failed"
grep -q '^cvmm v' "$GUEST_STDOUT" || fail "--version printed: $(cat "$GUEST_STDOUT")"

# With the API up too: the VM starts at once and GET / says Running.
make_initrd_with_test 'sleep 1000' "$TEST_TMP/initrd"
start_api_cvmm --config-file "$TEST_TMP/vm.json"
wait_stdout '^cvmm-guest: init reached'
[ "$(api_state)" = Running ] || fail "state with --config-file: $(api_state)"
api_bad PUT /actions '{"action_type": "InstanceStart"}' 'after starting'
kill -TERM "$GUEST_PID"
rc=0
wait_exit || rc=$?
expect_status 143 "$rc"
[ ! -e "$API_SOCK" ] || fail "the socket was not removed at exit"
