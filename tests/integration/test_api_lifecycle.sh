#!/usr/bin/env bash
# Firecracker's getting-started sequence over the API socket boots the guest;
# GET / follows Not started -> Running -> Paused -> Running; a paused guest
# prints nothing; bad requests get 400 and leave the VM running; metrics lines
# are JSON whose disk counters grow; 100 parallel GETs during disk I/O are all
# answered; PATCH /drives with a new file shows the guest the new size while it
# reads the drive; PUT /entropy gives it /dev/hwrng; the i8042 is described
# without a warning; SendCtrlAltDel ends the VM and cvmm exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/api-lib.sh"
command -v curl >/dev/null || fail "curl is missing (scripts/install-deps.sh)"
truncate -s 8M "$TEST_TMP/data.img"
truncate -s 16M "$TEST_TMP/data2.img"
make_initrd_with_test 'echo "cvmm-test: input=$(grep -c "AT Translated" /proc/bus/input/devices)"
echo "cvmm-test: rng=$(cat /sys/class/misc/hw_random/rng_current)"
i=0
while true; do
	i=$((i + 1))
	echo "tick $i sectors=$(cat /sys/block/vda/size)"
	echo 3 >/proc/sys/vm/drop_caches
	dd if=/dev/vda of=/dev/null bs=64k count=16 2>/dev/null
	sleep 0.2
done' "$TEST_TMP/initrd"

start_api_cvmm --id lifecycle
[ "$(stat -c %a "$API_SOCK")" = 600 ] || fail "socket mode is $(stat -c %a "$API_SOCK"), want 600"
[ "$(api_state)" = "Not started" ] || fail "state before boot: $(api_state)"
api_ok PUT /logger "{\"log_path\": \"$TEST_TMP/log\", \"level\": \"Debug\", \"show_level\": true}"
api_ok PUT /metrics "{\"metrics_path\": \"$TEST_TMP/metrics\"}"
api_bad PATCH /vm '{"state": "Paused"}' 'before starting'
api_bad PUT /actions '{"action_type": "SendCtrlAltDel"}' 'before starting'
api_bad PUT /actions '{"action_type": "InstanceStart"}' 'boot source'
api_ok PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
api_ok PUT /boot-source "{\"kernel_image_path\": \"$RIG_BZIMAGE\", \"initrd_path\": \"$TEST_TMP/initrd\", \"boot_args\": \"console=ttyS0 reboot=k panic=1\"}"
api_ok PUT /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TEST_TMP/data.img\", \"is_root_device\": false, \"is_read_only\": true}"
api_ok PUT /entropy '{}'
api_ok PUT /actions '{"action_type": "InstanceStart"}'
[ "$(api_state)" = Running ] || fail "state after InstanceStart: $(api_state)"
wait_stdout '^tick 3 sectors=16384\b'
grep -q '^cvmm-test: input=1' "$GUEST_STDOUT" || fail "the guest found no i8042 keyboard"
grep -q '^cvmm-test: rng=virtio_rng' "$GUEST_STDOUT" || fail "no virtio-rng in the guest after PUT /entropy"
! grep -q 'invalid data port' "$GUEST_STDOUT" || fail "Linux warns about the i8042's ACPI description"

# Pause: no console output until Resume.
api_ok PATCH /vm '{"state": "Paused"}'
[ "$(api_state)" = Paused ] || fail "state after pause: $(api_state)"
sleep 1
before=$(grep -c '^tick' "$GUEST_STDOUT")
sleep 3
[ "$(grep -c '^tick' "$GUEST_STDOUT")" = "$before" ] || fail "the guest printed while paused"
api_ok PATCH /vm '{"state": "Resumed"}'
[ "$(api_state)" = Running ] || fail "state after resume: $(api_state)"
wait_stdout "^tick $((before + 2))\\b"

# Every class of bad request: 400 with a fault_message, the VM runs on.
big=$(head -c 60000 /dev/zero | tr '\0' ' ')
api_bad PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}' 'after starting'
api_bad PUT /actions '{"action_type": "InstanceStart"}' 'after starting'
api_bad PUT /actions '{"action_type": "Reboot"}' 'action_type'
api_bad PUT /actions '{"action_type": 1}' 'action_type'
api_bad PUT /actions '{"action_type": "FlushMetrics", "x": 1}' 'x: unknown field'
api_bad PUT /actions '{"action_type": "FlushMetrics"' 'invalid JSON'
api_bad PUT /actions "{\"action_type\": \"FlushMetrics\"$big}" 'larger than'
api_bad GET /no/such/thing '' 'no such resource'
api_bad DELETE / '' 'not allowed'
api_bad PATCH /vm '{"state": "Stopped"}' 'state'
api_bad PATCH /drives/nope '{"drive_id": "nope"}' 'no drive'
api_bad PATCH /drives/data '{"drive_id": "data", "rate_limiter": {"ops": {"size": -1, "refill_time": 1000}}}' 'ops.size'
api_bad PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0"}' 'after starting'
api_bad PUT /snapshot/create '{"snapshot_path": "a", "mem_file_path": "b"}' 'not supported yet'
api_bad PUT /vsock '{"guest_cid": 3, "uds_path": "/tmp/v"}' 'after starting'
api_bad PUT /entropy '{}' 'after starting'
api_bad PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TEST_TMP/nope.img\"}" 'path_on_host: cannot open'
api_ok PATCH /drives/data '{"drive_id": "data", "rate_limiter": {"bandwidth": {"size": 10485760, "refill_time": 1000}}}'
[ "$(api_state)" = Running ] || fail "state after bad requests: $(api_state)"
n=$(grep -c '^tick' "$GUEST_STDOUT")
wait_stdout "^tick $((n + 2))\\b"

# Media change while the guest reads the drive: it sees the new size.
api_ok PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TEST_TMP/data2.img\"}"
wait_stdout 'sectors=32768\b'
api_ok GET /vm/config
grep -q "data2.img" <<<"$API_BODY" || fail "GET /vm/config after the swap: $API_BODY"
n=$(grep -c '^tick' "$GUEST_STDOUT")

# Metrics: JSON lines, disk counters growing with the guest's reads. The
# 60 s timer adds lines of its own: compare the last line written by the
# first flush (or before it) with the newest.
api_ok PUT /actions '{"action_type": "FlushMetrics"}'
first=$(wc -l <"$TEST_TMP/metrics")
wait_stdout "^tick $((n + 5))\\b"
api_ok PUT /actions '{"action_type": "FlushMetrics"}'
python3 - "$TEST_TMP/metrics" "$first" <<'PY' || fail "metrics: $(cat "$TEST_TMP/metrics")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = lines[int(sys.argv[2]) - 1], lines[-1]
assert b["block"]["data"]["read_ops"] > a["block"]["data"]["read_ops"] > 0, (a, b)
assert b["api"]["requests"] > a["api"]["requests"] and b["api"]["errors"] > 0, (a, b)
assert b["vcpu_exits"] > 0 and b["boot_time_ms"] > 0, b
PY
grep -q 'PUT /actions: 204' "$TEST_TMP/log" || fail "log: no InstanceStart line: $(cat "$TEST_TMP/log")"

# 100 parallel GETs while the guest reads its disk: all answered.
for i in $(seq 100); do
	curl -s --max-time 60 --unix-socket "$API_SOCK" http://localhost/ -o /dev/null \
		-w '%{http_code}\n' >"$TEST_TMP/par.$i" &
done
wait $(jobs -p | grep -v "^$GUEST_PID\$") 2>/dev/null || true
ok=$(cat "$TEST_TMP"/par.* | grep -c '^200$' || true)
[ "$ok" = 100 ] || fail "$ok of 100 parallel GETs answered 200"

# Ctrl-Alt-Del through the keyboard: the guest reboots, cvmm exits 0.
api_ok PUT /actions '{"action_type": "SendCtrlAltDel"}'
rc=0
wait_exit || rc=$?
expect_status 0 "$rc"
expect_output 'guest reset'
[ ! -e "$API_SOCK" ] || fail "the socket was not removed at exit"
